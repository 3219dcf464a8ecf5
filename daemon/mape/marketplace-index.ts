import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { foldIdentifier } from '../../knowledge/sql-surface.js';

type Archetype = Marketplace['archetypes'][string];

/** An optional service of a request type: the option flag that switches it on, and where it cannot run. */
interface OptionalService {
  readonly service: string;
  readonly flag: string;
  readonly invalidArchetypes: readonly string[];
}

/**
 * What Analyze asks of the marketplace for every request, worked out once per marketplace
 * revision (its object) instead of walked with Object.entries per request.
 */
export interface MarketplaceIndex {
  /** The archetypes, in marketplace order. */
  readonly archetypes: readonly (readonly [string, Archetype])[];
  /** Per request type, its optional services in config order. */
  readonly optionalServices: ReadonlyMap<string, readonly OptionalService[]>;
  /** Per steward, each table name folded as DuckDB folds it → the first dataset (in config order) holding it. */
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Every table of every dataset, folded as DuckDB folds names → as written: what a query may name. */
  readonly datasetTables: ReadonlyMap<string, string>;
}

const indexes = new WeakMap<Marketplace, MarketplaceIndex>();

export function marketplaceIndex(m: Marketplace): MarketplaceIndex {
  let index = indexes.get(m);
  if (index === undefined) indexes.set(m, (index = build(m)));
  return index;
}

function build(m: Marketplace): MarketplaceIndex {
  const optionalServices = new Map<string, OptionalService[]>();
  for (const [type, definition] of Object.entries(m.requestTypes)) {
    optionalServices.set(
      type,
      Object.entries(definition.optionalServices).map(([service, flag]) => ({ service, flag, invalidArchetypes: m.microservices[service]?.invalidArchetypes ?? [] })),
    );
  }
  const tables = new Map<string, Map<string, string>>();
  for (const [steward, definition] of Object.entries(m.dataStewards)) {
    const byTable = new Map<string, string>();
    for (const [dataset, entry] of Object.entries(definition.datasets)) {
      for (const table of Object.keys(entry.tables)) if (!byTable.has(foldIdentifier(table))) byTable.set(foldIdentifier(table), dataset);
    }
    tables.set(steward, byTable);
  }
  const datasetTables = new Map(Object.values(m.datasets).flatMap((d) => d.tables.map((t) => [foldIdentifier(t), t] as const)));
  return { archetypes: Object.entries(m.archetypes), optionalServices, tables, datasetTables };
}
