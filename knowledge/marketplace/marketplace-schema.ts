import { z } from 'zod';

/**
 * The marketplace config (docs/marketplace-config.md): who holds which data, who may ask what, and the catalog of
 * archetypes, compute providers, microservices and request types. Unknown keys are rejected
 * everywhere so a typo cannot silently drop a policy.
 */

const name = z.string().min(1, 'must not be empty');
const names = z.array(name);
/** A table name a query can name: no characters that make DuckDB look for a file or a catalog. */
const tableName = name.regex(/^[^./\\:\0]+$/, 'a table name cannot hold . / \\ or :');

export const archetypeSchema = z.strictObject({
  /** `dataProvider`: the analysis runs at each data steward; `other`: at a trusted third party. */
  computeProvider: z.enum(['dataProvider', 'other']),
  resultRecipient: z.enum(['requestor']).default('requestor'),
  /** Lower is preferred by the `dynamos` strategy (the original's rule). */
  weight: z.number().int().nonnegative(),
  description: z.string().optional(),
});

export const computeProviderSchema = z.strictObject({
  description: z.string().optional(),
});

/**
 * What sql-anonymize does to one column, at the source: before a requester's query runs, the
 * column is removed, pseudonymised (a keyed hash with a secret fresh per job, so joins on it still
 * work within one request and nothing links two requests), or generalised.
 */
export const columnRuleSchema = z.union(
  [
    z.enum(['remove', 'pseudonymize']),
    /** Dates (and yyyymmdd numbers or text) to their year. */
    z.strictObject({ generalize: z.literal('year') }),
    /** Text to its first `length` characters; a value no longer than that becomes NULL. */
    z.strictObject({ generalize: z.literal('prefix'), length: z.number().int().positive() }),
    /** Numbers to the lower bound of their bucket of `width`. */
    z.strictObject({ generalize: z.literal('bucket'), width: z.number().positive() }),
  ],
  { error: 'expected remove, pseudonymize, {generalize: year}, {generalize: prefix, length: N} or {generalize: bucket, width: N}' },
);

/** Table → column → rule. Column names compare case-insensitively, as in SQL. */
export const anonymizationSchema = z.record(name, z.record(name, columnRuleSchema));

export const datasetSchema = z.strictObject({
  format: z.enum(['csv']).default('csv'),
  /** CSV field delimiter; the original's files use `;`. */
  delimiter: z.string().length(1).default(';'),
  tables: z.array(tableName).min(1, 'a dataset has at least one table'),
  /** What sql-anonymize does to each named column, per table, wherever this dataset is held. */
  anonymization: anonymizationSchema.default({}),
  description: z.string().optional(),
});

export const relationSchema = z.strictObject({
  /** The original's opaque relation id, kept for round trips. */
  id: z.string().optional(),
  requestTypes: names,
  datasets: names,
  allowedArchetypes: names,
  allowedComputeProviders: names.default([]),
});

export const stewardDatasetSchema = z.strictObject({
  /** Table name → CSV file, relative to the data directory. */
  tables: z.record(name, name),
  /** This steward's own rules; a column named here replaces the dataset's rule for it. */
  anonymization: anonymizationSchema.default({}),
});

export const dataStewardSchema = z.strictObject({
  description: z.string().optional(),
  datasets: z.record(name, stewardDatasetSchema).default({}),
  archetypes: names.default([]),
  computeProviders: names.default([]),
  /** Services this steward requires on every request of a type, e.g. sql-anonymize. */
  mandatedServices: z.record(name, names).default({}),
  /** Agreements per requester, keyed by the requester's user name. */
  relations: z.record(name, relationSchema).default({}),
});

export const microserviceSchema = z.strictObject({
  /** Which party runs it when data goes through a TTP. */
  label: z.enum(['dataProvider', 'computeProvider']),
  /** Services that may consume this one's output; the chain is a topological order of these. */
  allowedOutputs: names.default([]),
  invalidArchetypes: names.default([]),
  /** Container image, for the Kubernetes runner. */
  image: z.string().optional(),
});

export const requestTypeSchema = z.strictObject({
  requiredServices: names,
  /** Service → the request option that switches it on, e.g. `sql-anonymize: anonymize`. */
  optionalServices: z.record(name, name).default({}),
});

export const marketplaceSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().default('marketplace'),
  description: z.string().optional(),
  archetypes: z.record(name, archetypeSchema),
  computeProviders: z.record(name, computeProviderSchema).default({}),
  datasets: z.record(name, datasetSchema).default({}),
  dataStewards: z.record(name, dataStewardSchema),
  microservices: z.record(name, microserviceSchema),
  requestTypes: z.record(name, requestTypeSchema),
});

/** A marketplace config as written (YAML or JSON), before defaults. */
export type MarketplaceInput = z.input<typeof marketplaceSchema>;
/** A marketplace config after validation, with every default filled in. */
export type MarketplaceConfig = z.output<typeof marketplaceSchema>;
export type Archetype = z.output<typeof archetypeSchema>;
export type Dataset = z.output<typeof datasetSchema>;
export type DataSteward = z.output<typeof dataStewardSchema>;
export type StewardDataset = z.output<typeof stewardDatasetSchema>;
export type Relation = z.output<typeof relationSchema>;
export type Microservice = z.output<typeof microserviceSchema>;
export type RequestType = z.output<typeof requestTypeSchema>;
export type ColumnRule = z.output<typeof columnRuleSchema>;
/** Table → column → rule, as a job applies them. */
export type AnonymizationRules = Readonly<Record<string, Readonly<Record<string, ColumnRule>>>>;
