import type { DataRequest } from '../../knowledge/data-request.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { foldIdentifier } from '../../knowledge/sql-surface.js';
import { marketplaceIndex } from './marketplace-index.js';

/** What an agreement allows one steward to do for this request. */
export interface ProviderGrant {
  readonly steward: string;
  /** Datasets the query reads at this steward, all allowed by the relation. */
  readonly datasets: readonly string[];
  /** The steward's archetypes that the relation allows, in the steward's order. */
  readonly archetypes: readonly string[];
  /** The steward's compute providers (TTPs) that the relation allows, in the steward's order. */
  readonly computeProviders: readonly string[];
}

export const denialReasons = [
  'UNKNOWN_STEWARD',
  'UNKNOWN_REQUEST_TYPE',
  'NO_RELATION',
  'REQUEST_TYPE_NOT_ALLOWED',
  'DATASET_NOT_HELD',
  'DATASET_NOT_ALLOWED',
  'NO_COMMON_ARCHETYPE',
] as const;
/** Why an agreement does not authorise a request, or (STEWARD_OFFLINE) why an authorised steward is left out. */
export type DenialReason = (typeof denialReasons)[number] | 'STEWARD_OFFLINE';

export interface Denial {
  readonly provider: string;
  readonly reason: DenialReason;
  readonly message: string;
}

/**
 * Decides whether one steward's agreement authorises the request. Checks run in a fixed order
 * and the first that fails is the reason. Unlike the original, the request type and the datasets
 * the query reads are enforced, not only the archetypes. Anything the config does not say
 * explicitly is a denial (fail closed).
 */
export function checkProvider(m: Marketplace, req: DataRequest, provider: string): ProviderGrant | Denial {
  const deny = (reason: DenialReason, message: string): Denial => ({ provider, reason, message });
  const steward = Object.hasOwn(m.dataStewards, provider) ? m.dataStewards[provider] : undefined;
  if (steward === undefined) return deny('UNKNOWN_STEWARD', `${provider} is not a data steward of this marketplace.`);
  if (!Object.hasOwn(m.requestTypes, req.type)) {
    return deny('UNKNOWN_REQUEST_TYPE', `Request type "${req.type}" is not defined in this marketplace.`);
  }
  const relation = Object.hasOwn(steward.relations, req.requester) ? steward.relations[req.requester] : undefined;
  if (relation === undefined) return deny('NO_RELATION', `${provider} has no agreement with ${req.requester}.`);
  if (!relation.requestTypes.includes(req.type)) {
    return deny('REQUEST_TYPE_NOT_ALLOWED', `${provider}'s agreement with ${req.requester} does not allow request type "${req.type}".`);
  }

  const datasets = new Set<string>();
  for (const table of req.tables) {
    const dataset = datasetHolding(m, provider, table);
    if (dataset === undefined) return deny('DATASET_NOT_HELD', `${provider} holds no table named "${table}".`);
    datasets.add(dataset);
  }
  for (const dataset of datasets) {
    if (!relation.datasets.includes(dataset)) {
      return deny('DATASET_NOT_ALLOWED', `${provider}'s agreement with ${req.requester} does not allow dataset "${dataset}".`);
    }
  }

  const archetypes = steward.archetypes.filter((a) => relation.allowedArchetypes.includes(a) && Object.hasOwn(m.archetypes, a));
  if (archetypes.length === 0) {
    return deny('NO_COMMON_ARCHETYPE', `None of ${provider}'s archetypes is allowed by its agreement with ${req.requester}.`);
  }
  const computeProviders = steward.computeProviders.filter((c) => relation.allowedComputeProviders.includes(c));
  return { steward: provider, datasets: [...datasets], archetypes, computeProviders };
}

/** The dataset of `steward` that holds `table`; table names compare as DuckDB compares them (ASCII case-insensitively). */
export function datasetHolding(m: Marketplace, steward: string, table: string): string | undefined {
  return marketplaceIndex(m).tables.get(steward)?.get(foldIdentifier(table));
}

export function isDenial(x: ProviderGrant | Denial): x is Denial {
  return 'reason' in x;
}
