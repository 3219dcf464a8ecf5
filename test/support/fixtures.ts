import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { DataRequest } from '../../knowledge/data-request.js';
import { describeProblems } from '../../knowledge/problems.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import { knowledgeOf } from '../../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { validateMarketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const exampleMarketplaceFile = fileURLToPath(new URL('../../experiments/marketplaces/example.yaml', import.meta.url));

/** The bundled example marketplace as written, a fresh copy each call so tests may change it. */
export function exampleConfig(): MarketplaceInput {
  return parse(readFileSync(exampleMarketplaceFile, 'utf8')) as MarketplaceInput;
}

/** Validates a config and fails the test with every problem when it is invalid. */
export function marketplaceFrom(input: MarketplaceInput = exampleConfig(), dataDir = '/data'): Marketplace {
  const result = validateMarketplace(input, dataDir);
  if (!result.ok) throw new Error(`invalid test marketplace:\n${describeProblems(result.problems)}`);
  return result.marketplace;
}

export function snapshotOf(marketplace: Marketplace = marketplaceFrom(), at = 0): KnowledgeSnapshot {
  return knowledgeOf(marketplace, at);
}

/** The original DYNAMOS request (README §13), with the example's fictional requester. */
export function dataRequest(overrides: Partial<DataRequest> = {}): DataRequest {
  return {
    id: 'analyst-0000abcd',
    requester: 'analyst@uva.example',
    requesterId: '12324',
    type: 'sqlDataRequest',
    providers: ['VU', 'UVA', 'RUG'],
    query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr',
    tables: ['Personen', 'Aanstellingen'],
    algorithm: 'average',
    options: { graph: false, aggregate: false },
    metadata: {},
    ...overrides,
  };
}

/** Where the original's sample files live beside this checkout; undefined in a user's clone. */
export function sharedDatasetsDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../../shared/datasets/dynamos/', import.meta.url));
  try {
    readFileSync(`${dir}README.md`);
    return dir;
  } catch {
    return undefined;
  }
}

/** Skips the calling suite, with a clear message, when the original's sample files are absent. */
export function requireSharedDatasets(ctx: Mocha.Context): string {
  const dir = sharedDatasetsDir();
  if (dir === undefined) {
    console.log('    (skipped: ../shared/datasets/dynamos is absent; these tests read the original DYNAMOS sample files)');
    ctx.skip();
  }
  return dir as string;
}
