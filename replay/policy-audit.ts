import type { MarketplaceConfig } from '../knowledge/marketplace/marketplace-schema.js';

/** What a deployed request does, as the audit sees it: who asked, what, and where it runs. */
export interface AuditedRun {
  readonly requester: string;
  readonly requestType: string;
  readonly tables: readonly string[];
  readonly archetype: string;
  readonly ttp: string | undefined;
  /** The stewards whose data it reads. */
  readonly stewards: readonly string[];
}

/**
 * Why the agreements in force do not allow a run, or undefined when they do. Written apart from
 * the daemon's policy code (daemon/mape/policy.ts) on purpose: the replay's violation count is
 * an independent check of what the loop decided, straight from the marketplace's relations.
 */
export function policyViolation(m: MarketplaceConfig, run: AuditedRun): string | undefined {
  for (const name of run.stewards) {
    const steward = Object.hasOwn(m.dataStewards, name) ? m.dataStewards[name] : undefined;
    if (steward === undefined) return `${name} is not a data steward`;
    const relation = Object.hasOwn(steward.relations, run.requester) ? steward.relations[run.requester] : undefined;
    if (relation === undefined) return `${name} has no relation with ${run.requester}`;
    if (!relation.requestTypes.includes(run.requestType)) return `${name} does not allow ${run.requestType} to ${run.requester}`;
    for (const table of run.tables) {
      const dataset = Object.entries(steward.datasets).find(([, held]) => Object.keys(held.tables).some((t) => t.toLowerCase() === table.toLowerCase()))?.[0];
      if (dataset === undefined) return `${name} holds no table ${table}`;
      if (!relation.datasets.includes(dataset)) return `${name} does not share ${dataset} with ${run.requester}`;
    }
    if (!steward.archetypes.includes(run.archetype) || !relation.allowedArchetypes.includes(run.archetype)) return `${name} does not allow ${run.archetype} for ${run.requester}`;
    if (run.ttp !== undefined && !(steward.computeProviders.includes(run.ttp) && relation.allowedComputeProviders.includes(run.ttp))) {
      return `${name} does not allow the trusted third party ${run.ttp} for ${run.requester}`;
    }
  }
  return undefined;
}
