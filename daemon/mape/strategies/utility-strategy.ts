import type { CandidateExplanation } from '../../../knowledge/decision.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import { parseSettings } from '../../../knowledge/problems.js';
import type { Analysis } from '../analyze.js';
import { dynamosStrategy } from './dynamos-strategy.js';
import { applyHysteresis } from './hysteresis.js';
import { describeBlindness, percent, readLoads } from './party-load.js';
import { describePair, dynamosFallback, feasiblePairs, policyPreference } from './strategy-candidates.js';
import type { Ranking, Strategy } from './strategy.js';
import { rankingOf } from './strategy.js';
import type { ObjectiveWeights, UtilityConfig, UtilityConfigInput } from './utility-config.js';
import { utilityConfigSchema } from './utility-config.js';
import type { UtilityCandidate } from './utility-objectives.js';
import { evaluateCandidates, normaliseWeights, rankTier } from './utility-objectives.js';

export { utilityConfigSchema } from './utility-config.js';
export type { UtilityConfig, UtilityConfigInput } from './utility-config.js';

/**
 * Our strategy (docs/mape-k-loop.md#strategies): every feasible (archetype, TTP) pair is a candidate. Hard constraints
 * exclude (policy, online, the load cap on every party used); the rest are scored on latency,
 * energy, load headroom and policy preference, each normalised to [0, 1], and ranked with two
 * tiers above utility: doing all the request asked (a candidate that would leave out a requested
 * service such as sql-aggregate comes last), then the thesis's 80 % rule. Hysteresis keeps the last choice for the same
 * requester and stewards through a hold-down and a tolerance band. Blind (a CPU or memory
 * reading missing or stale), it ranks with the dynamos rules and says so.
 * Design: docs/designs/004-adaptation-strategies.md.
 * @throws DynamosError CONFIG_INVALID when the config is invalid
 */
export function createUtilityStrategy(input: UtilityConfigInput = {}): Strategy {
  const config = parseSettings(utilityConfigSchema, input, "the utility strategy's options");
  const weights = normaliseWeights(config.weights);
  return { name: 'utility', rank: (k, a) => rankByUtility(k, a, config, weights) };
}

/** Tier first (every party under the threshold wins), then utility, archetype weight, marketplace order. */
export function compareCandidates(x: UtilityCandidate, y: UtilityCandidate): number {
  return rankTier(x) - rankTier(y) || y.utility - x.utility || x.option.weight - y.option.weight || x.order - y.order;
}

function rankByUtility(k: KnowledgeSnapshot, a: Analysis, config: UtilityConfig, weights: ObjectiveWeights): Ranking {
  const pairs = feasiblePairs(a);
  if (pairs.length === 0) return dynamosStrategy.rank(k, a); // nothing to choose: its reason lists why
  const parties = a.authorised.map((g) => g.steward); // readLoads reads each party once
  for (const p of pairs) if (p.ttp !== undefined) parties.push(p.ttp);
  const { loads, problems } = readLoads(k, parties);
  if (problems.length > 0) return dynamosFallback(k, a, describeBlindness(k, problems));

  const all = evaluateCandidates(k, a, pairs, loads, config, weights);
  const ranked = all.filter((c) => c.excluded === undefined).sort(compareCandidates);
  const excluded = all.filter((c) => c.excluded !== undefined);
  const infeasible = (): CandidateExplanation[] =>
    a.archetypes.filter((o) => !o.feasible).map((o) => ({ archetype: o.archetype, feasible: false, objectives: [policyPreference(o, a.archetypes)], reason: o.reason }));
  const explainExcluded = (c: UtilityCandidate): CandidateExplanation => explain(c, false, `excluded: ${c.excluded}`);

  if (ranked.length === 0) {
    const why = excluded.map((c) => `${describePair(c)}: ${c.excluded}`).join('; ');
    // Load and liveness pass: the same request may run later.
    return rankingOf(null, `every candidate breaks a hard constraint (${why})`, () => [...excluded.map(explainExcluded), ...infeasible()], true);
  }
  const memory = k.choices[a.choiceKey];
  const verdict = applyHysteresis(k.at, memory, ranked, all, a, config);
  const { chosen } = verdict;
  const choice = chosen.ttp === undefined ? { archetype: chosen.archetype, utility: chosen.utility } : { archetype: chosen.archetype, ttp: chosen.ttp, utility: chosen.utility };
  return rankingOf(choice, verdict.reason, () => {
    const order = [chosen, ...ranked.filter((c) => c !== chosen)];
    const threshold = percent(config.loadThreshold);
    const candidates: CandidateExplanation[] = order.map((c, i) => {
      const overload = c.tier === 0 ? '' : `; ${c.peak.party} ${c.peak.signal} ${percent(c.peak.value)} is at or over ${threshold}`;
      const tier = c.leavesOut.length === 0 ? overload : `${overload}; would leave out ${c.leavesOut.join(', ')}, which the request asked for`;
      return explain(c, true, `${i === 0 ? 'chosen: ' : ''}utility ${c.utility.toFixed(3)}${tier}`, i + 1);
    });
    for (const c of excluded) candidates.push(explainExcluded(c));
    candidates.push(...infeasible());
    return candidates;
  });
}

/** Plain literals, not spreads: this runs for every candidate of every request. */
function explain(c: UtilityCandidate, feasible: boolean, reason: string, rank?: number): CandidateExplanation {
  const { archetype, ttp } = c;
  const objectives = c.objectives();
  if (rank === undefined) return ttp === undefined ? { archetype, feasible, objectives, reason } : { archetype, ttp, feasible, objectives, reason };
  return ttp === undefined ? { archetype, feasible, objectives, reason, rank } : { archetype, ttp, feasible, objectives, reason, rank };
}
