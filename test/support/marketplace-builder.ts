import type { z } from 'zod';
import { seededRandom } from '../../knowledge/seeded-random.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import type { KnowledgeEvent } from '../../knowledge/fold.js';
import { fold } from '../../knowledge/fold.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type {
  MarketplaceInput,
  dataStewardSchema,
  microserviceSchema,
  relationSchema,
} from '../../knowledge/marketplace/marketplace-schema.js';
import { exampleConfig, marketplaceFrom, snapshotOf } from './fixtures.js';

/**
 * Small edits of the example marketplace, so a test states only what differs from it:
 * `givenSnapshot(relation('VU', { allowedArchetypes: ['computeToData'] }))`.
 */
export type ConfigEdit = (c: MarketplaceInput) => void;
type StewardInput = z.input<typeof dataStewardSchema>;
type RelationInput = z.input<typeof relationSchema>;
type MicroserviceInput = z.input<typeof microserviceSchema>;

/** The requester of the example marketplace's agreements (fixtures' `dataRequest()`). */
export const analyst = 'analyst@uva.example';

export function givenMarketplace(...edits: ConfigEdit[]): Marketplace {
  const config = exampleConfig();
  for (const edit of edits) edit(config);
  return marketplaceFrom(config);
}

export function givenSnapshot(...edits: ConfigEdit[]): KnowledgeSnapshot {
  return snapshotOf(givenMarketplace(...edits));
}

function entry<T>(record: Record<string, T> | undefined, key: string): T {
  const value = record?.[key];
  if (value === undefined) throw new Error(`test config has no "${key}"`);
  return value;
}

export const steward =
  (name: string, change: Partial<StewardInput>): ConfigEdit =>
  (c) => {
    c.dataStewards[name] = { ...c.dataStewards[name], ...change };
  };

/** Changes the steward's relation with `requester` (the analyst unless given). */
export const relation =
  (stewardName: string, change: Partial<RelationInput>, requester = analyst): ConfigEdit =>
  (c) => {
    const relations = entry(c.dataStewards, stewardName).relations ?? {};
    relations[requester] = { ...entry(relations, requester), ...change };
  };

export const noRelation =
  (stewardName: string): ConfigEdit =>
  (c) => {
    entry(c.dataStewards, stewardName).relations = {};
  };

export const service =
  (name: string, change: Partial<MicroserviceInput>): ConfigEdit =>
  (c) => {
    c.microservices[name] = { ...entry(c.microservices, name), ...change };
  };

/** Re-declares the microservices in `order` (same definitions), to show order comes from edges. */
export const servicesDeclaredIn =
  (order: readonly string[]): ConfigEdit =>
  (c) => {
    c.microservices = Object.fromEntries(order.map((s) => [s, entry(c.microservices, s)]));
  };

/** Re-declares the compute providers in `order` (marketplace order decides the TTP). */
export const computeProvidersDeclaredIn =
  (order: readonly string[]): ConfigEdit =>
  (c) => {
    c.computeProviders = Object.fromEntries(order.map((p) => [p, entry(c.computeProviders, p)]));
  };

export const archetypeWeight =
  (name: string, weight: number): ConfigEdit =>
  (c) => {
    c.archetypes[name] = { ...entry(c.archetypes, name), weight };
  };

/**
 * Adds dataset `grades` (table Cijfers, Studentnr pseudonymised) held by `holders`, and allows it in
 * their relations with the analyst when `allowed`.
 */
export const gradesDataset =
  (holders: readonly string[], allowed = true): ConfigEdit =>
  (c) => {
    c.datasets = { ...c.datasets, grades: { tables: ['Cijfers'], anonymization: { Cijfers: { Studentnr: 'pseudonymize' } } } };
    for (const holder of holders) {
      const s = entry(c.dataStewards, holder);
      s.datasets = { ...s.datasets, grades: { tables: { Cijfers: `${holder}/Cijfers.csv` } } };
      const rel = s.relations?.[analyst];
      if (allowed && rel !== undefined) rel.datasets = [...rel.datasets, 'grades'];
    }
  };

/**
 * A validated marketplace with `service`'s allowedOutputs replaced, skipping validation, which
 * rejects cycles: lets a test show what chain generation does if a cycle slipped through.
 */
export function withOutputsUnchecked(m: Marketplace, name: string, allowedOutputs: string[]): Marketplace {
  return { ...m, microservices: { ...m.microservices, [name]: { ...entry(m.microservices, name), allowedOutputs } } };
}


/**
 * A random small marketplace (1–3 stewards, 0–3 TTPs, two datasets, random agreements, weights
 * and mandates) and a random request against it, for property tests of analyze + plan.
 */
export function randomCase(seed: number): { config: MarketplaceInput; request: DataRequest } {
  const rng = seededRandom(seed);
  const chance = (p: number) => rng() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const some = <T>(xs: readonly T[], p = 0.75): T[] => xs.filter(() => chance(p));
  const shuffled = <T>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
  const archetypeNames = ['computeToData', 'dataThroughTtp'];
  const ttps = some(['SURF', 'otherCompany', 'Nikhef'], 0.6);
  const stewards = ['S1', 'S2', 'S3'].slice(0, 1 + Math.floor(rng() * 3));
  const example = exampleConfig();
  const dataStewards: Record<string, StewardInput> = {};
  for (const name of stewards) {
    const held = some(['wageGap', 'grades'], 0.85);
    const tablesOf = (d: string): Record<string, string> =>
      d === 'wageGap' ? { Personen: `${name}/P.csv`, Aanstellingen: `${name}/A.csv` } : { Cijfers: `${name}/C.csv` };
    const datasets = Object.fromEntries(held.map((d) => [d, { tables: tablesOf(d) }]));
    const relation = {
      requestTypes: chance(0.9) ? ['sqlDataRequest', ...some(['genericRequest'])] : some(['genericRequest']),
      datasets: some(['wageGap', 'grades'], 0.85),
      allowedArchetypes: some(archetypeNames),
      allowedComputeProviders: some(ttps),
    };
    dataStewards[name] = {
      datasets,
      archetypes: some(archetypeNames),
      computeProviders: some(ttps),
      mandatedServices: chance(0.3) ? { sqlDataRequest: [pick(['sql-anonymize', 'sql-aggregate', 'sql-graph'])] } : {},
      relations: chance(0.15) ? {} : { [analyst]: relation },
    };
  }
  const config: MarketplaceInput = {
    ...example,
    archetypes: {
      computeToData: { computeProvider: 'dataProvider', weight: pick([50, 100, 200]) },
      dataThroughTtp: { computeProvider: 'other', weight: pick([50, 100, 200]) },
    },
    computeProviders: Object.fromEntries(ttps.map((t) => [t, {}])),
    datasets: { wageGap: { tables: ['Personen', 'Aanstellingen'], anonymization: { Personen: { Unieknr: 'pseudonymize' } } }, grades: { tables: ['Cijfers'] } },
    dataStewards,
  };
  const request: DataRequest = {
    id: `case-${seed}`,
    requester: analyst,
    requesterId: '1',
    type: chance(0.9) ? 'sqlDataRequest' : 'genericRequest',
    providers: shuffled([...some(stewards, 0.85), ...some(['Ghost'], 0.2)]),
    query: 'SELECT 1',
    tables: pick([['Personen'], ['Personen', 'Aanstellingen'], ['Personen', 'Aanstellingen'], ['Cijfers'], ['Personen', 'Cijfers']]),
    algorithm: pick(['average', 'none'] as const),
    options: { anonymize: chance(0.5), aggregate: chance(0.5), graph: chance(0.3) },
    metadata: {},
  };
  return { config, request };
}

/** A party's CPU and memory load as a monitor reports it; a signal left out is not reported. */
export interface LoadSample {
  readonly cpu?: number;
  readonly memory?: number;
  /** When the party's values were observed, if earlier than the read (a stale reading). */
  readonly observedAt?: number;
}

/** One `metricsRead` event at `at`, with each listed party's CPU and memory. */
export function loadsRead(at: number, loads: Readonly<Record<string, LoadSample>>): KnowledgeEvent {
  const samples = Object.entries(loads).flatMap(([party, l]) =>
    (['cpu', 'memory'] as const).flatMap((signal) => {
      const value = l[signal];
      return value === undefined ? [] : [{ party, signal, value, at: l.observedAt ?? at }];
    }),
  );
  return { kind: 'metricsRead', reading: { at, samples, failures: [] } };
}

/** The knowledge after `events`, folded in order as the loop would. */
export function foldAll(k: KnowledgeSnapshot, events: readonly KnowledgeEvent[]): KnowledgeSnapshot {
  return events.reduce(fold, k);
}
