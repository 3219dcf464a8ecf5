/**
 * The vocabulary the data plane implements: microservice and algorithm names every part of the
 * system agrees on. A marketplace config may only name these services (check-config reports
 * others), and services/ implements exactly these (a test checks both directions).
 */
export const builtInServices = ['sql-query', 'sql-anonymize', 'sql-aggregate', 'sql-algorithm', 'sql-graph'] as const;
export type BuiltInService = (typeof builtInServices)[number];

export function isBuiltInService(name: string): name is BuiltInService {
  return (builtInServices as readonly string[]).includes(name);
}

export interface AlgorithmInfo {
  readonly name: string;
  readonly description: string;
  /**
   * Columns the algorithm reads; undefined when it reads every column. A steward sending data to
   * a TTP sends only these (data minimisation, GDPR art. 5(1)(c)).
   */
  readonly requiredColumns?: readonly string[];
}

export const algorithmNames = ['average', 'count', 'describe', 'none'] as const;
export type AlgorithmName = (typeof algorithmNames)[number];

export const algorithms: Readonly<Record<AlgorithmName, AlgorithmInfo>> = {
  average: {
    name: 'average',
    description: 'mean salary scale (Salschal) per gender (Geslacht), as the original DYNAMOS wage-gap analysis',
    requiredColumns: ['Geslacht', 'Salschal'],
  },
  count: { name: 'count', description: 'number of rows (per provider when results are combined)' },
  describe: { name: 'describe', description: 'summary statistics of every column (DuckDB SUMMARIZE)' },
  none: { name: 'none', description: 'the rows themselves, unchanged' },
};

export function isAlgorithmName(name: string): name is AlgorithmName {
  return (algorithmNames as readonly string[]).includes(name);
}
