import type { ObjectiveScore } from '../../../knowledge/decision.js';
import type { Analysis, ArchetypeOption } from '../analyze.js';
import type { Ranking } from './strategy.js';
import { rankingOf } from './strategy.js';
import { dynamosStrategy } from './dynamos-strategy.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';

/**
 * One way to run a request: a feasible archetype, and for an archetype that computes at a third
 * party, one of the online TTPs every authorised steward allows.
 */
export interface CandidatePair {
  readonly option: ArchetypeOption;
  readonly ttp: string | undefined;
  /** Position in marketplace order (archetypes, then their TTPs): the last tie-break. */
  readonly order: number;
}

/** Every feasible (archetype, TTP) pair, in marketplace order. */
export function feasiblePairs(a: Analysis): CandidatePair[] {
  const pairs: CandidatePair[] = [];
  for (const option of a.archetypes) {
    if (!option.feasible) continue;
    if (option.computeAt === 'dataProvider') pairs.push({ option, ttp: undefined, order: pairs.length });
    else for (const ttp of option.ttps) pairs.push({ option, ttp, order: pairs.length });
  }
  return pairs;
}

/** `dataThroughTtp at SURF`, `computeToData`. */
export function describePair(p: { readonly archetype: string; readonly ttp?: string | undefined }): string {
  return p.ttp === undefined ? p.archetype : `${p.archetype} at ${p.ttp}`;
}

export function samePair(x: { archetype: string; ttp?: string | undefined }, y: { archetype: string; ttp?: string | undefined }): boolean {
  return x.archetype === y.archetype && x.ttp === y.ttp;
}

/**
 * Policy preference as the dynamos strategy scores it: the lightest archetype of the marketplace
 * 1, the heaviest 0, linear between (all 1 when every weight is equal).
 */
export function policyPreference(option: ArchetypeOption, all: readonly ArchetypeOption[]): ObjectiveScore {
  const [min, max] = weightRange(all);
  return { objective: 'policyPreference', score: policyPreferenceScore(option, all), reason: `weight ${option.weight} (lower is preferred; ${min}–${max} here)` };
}

/** The score of `policyPreference` alone. */
export function policyPreferenceScore(option: ArchetypeOption, all: readonly ArchetypeOption[]): number {
  const [min, max] = weightRange(all);
  return max === min ? 1 : 1 - (option.weight - min) / (max - min);
}

function weightRange(all: readonly ArchetypeOption[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const o of all) {
    min = Math.min(min, o.weight);
    max = Math.max(max, o.weight);
  }
  return [min, max];
}

/** The dynamos strategy's ranking, its reason prefixed with why a load-aware strategy could not decide. */
export function dynamosFallback(k: KnowledgeSnapshot, a: Analysis, why: string): Ranking {
  const ranking = dynamosStrategy.rank(k, a);
  return rankingOf(ranking.choice, `${why} (${ranking.reason})`, ranking.explainCandidates, ranking.retryable);
}
