import { z } from 'zod';

/**
 * The marketplace config (DESIGN §4): who holds which data, who may ask what, and the catalog of
 * archetypes, compute providers, microservices and request types. Unknown keys are rejected
 * everywhere so a typo cannot silently drop a policy.
 */

const name = z.string().min(1, 'must not be empty');
const names = z.array(name);

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

export const datasetSchema = z.strictObject({
  format: z.enum(['csv']).default('csv'),
  /** CSV field delimiter; the original's files use `;`. */
  delimiter: z.string().length(1).default(';'),
  tables: names.min(1, 'a dataset has at least one table'),
  /** Columns removed by sql-anonymize, per table. */
  sensitiveColumns: z.record(name, names).default({}),
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
  /** Extra sensitive columns this steward declares, on top of the dataset's. */
  sensitiveColumns: z.record(name, names).default({}),
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
