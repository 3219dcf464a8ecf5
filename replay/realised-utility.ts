import type { Analysis } from '../daemon/mape/analyze.js';
import { feasiblePairs, policyPreferenceScore } from '../daemon/mape/strategies/strategy-candidates.js';
import { utilityConfigSchema } from '../daemon/mape/strategies/utility-config.js';
import { headroomScore, normaliseWeights } from '../daemon/mape/strategies/utility-objectives.js';
import type { ModelledRequest } from './job-model.js';
import { modelRequest } from './job-model.js';
import type { ReplayWorld } from './replay-world.js';

/**
 * The experiment's utility function (docs/replay.md#utility): the goal the system is given,
 * scored on what really happened in the world rather than on what a strategy predicted. Its
 * objectives and weights are the utility strategy's defaults; a request answered without a
 * service it asked for (such as the aggregation) did not answer the question and scores 0, as
 * do denied, failed and cancelled requests.
 */
const defaults = utilityConfigSchema.parse({});
export const experimentWeights = normaliseWeights(defaults.weights);
const { loadThreshold, loadCap } = defaults;

/** The best any feasible way to run the request could have done, in the world, at the decision. */
export interface Oracle {
  readonly latencyMs: number;
  readonly energyJoules: number;
}

/**
 * Expected latency and energy of every feasible (archetype, TTP) pair without noise; the best of
 * those that do all the request asked (of all, when none does).
 */
export function oracleOf(a: Analysis, world: ReplayWorld, stewardMB: ReadonlyMap<string, number>): Oracle | undefined {
  const pairs = feasiblePairs(a);
  if (pairs.length === 0) return undefined;
  const complete = pairs.filter((p) => p.option.leavesOut.length === 0);
  const pool = complete.length > 0 ? complete : pairs;
  let latencyMs = Number.POSITIVE_INFINITY;
  let energyJoules = Number.POSITIVE_INFINITY;
  for (const p of pool) {
    const m = modelRequest({ computeAt: p.option.computeAt, stewardMB, ttp: p.ttp, cpuOf: (party) => world.cpuOf(party), noiseOf: () => 1 });
    latencyMs = Math.min(latencyMs, m.latencyMs);
    energyJoules = Math.min(energyJoules, m.energyJoules);
  }
  return { latencyMs, energyJoules };
}

export interface Realised {
  readonly archetype: string;
  readonly leavesOut: number;
  /** The highest CPU or memory load among the parties used, at the decision. */
  readonly peakLoad: number;
  readonly oracle: Oracle;
  readonly modelled: ModelledRequest;
}

/** A served request's utility in [0, 1]: 0 when it left out a service it asked for. */
export function realisedUtility(a: Analysis, r: Realised): number {
  if (r.leavesOut > 0) return 0;
  const option = a.archetypes.find((o) => o.archetype === r.archetype);
  const preference = option === undefined ? 0 : policyPreferenceScore(option, a.archetypes);
  const ratio = (best: number, x: number) => (x <= 0 ? 1 : Math.min(1, best / x));
  const w = experimentWeights;
  return (
    w.latency * ratio(r.oracle.latencyMs, r.modelled.latencyMs) +
    w.energy * ratio(r.oracle.energyJoules, r.modelled.energyJoules) +
    w.loadHeadroom * headroomScore(r.peakLoad, loadThreshold, loadCap) +
    w.policyPreference * preference
  );
}
