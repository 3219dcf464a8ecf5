import { z } from 'zod';
import type { CandidateExplanation, ObjectiveScore } from '../../../knowledge/decision.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import { parseSettings } from '../../../knowledge/problems.js';
import type { Analysis } from '../analyze.js';
import type { LoadProblem, PartyLoad } from './party-load.js';
import { describeBlindness, describeLoad, describeLoadValues, describeProblem, peakOf, percent, readLoads } from './party-load.js';
import { dynamosStrategy } from './dynamos-strategy.js';
import type { CandidatePair } from './strategy-candidates.js';
import { describePair, dynamosFallback, feasiblePairs } from './strategy-candidates.js';
import type { Ranking, Strategy } from './strategy.js';
import { rankingOf } from './strategy.js';

export const thresholdConfigSchema = z.strictObject({
  /**
   * CPU or memory load, as a fraction of capacity, at or over which a party counts as overloaded.
   * @default 0.8, the DYNAMOS thesis's 80 % (Listing 3.1)
   */
  loadThreshold: z.number().gt(0).max(1).default(0.8),
});
export type ThresholdConfig = z.output<typeof thresholdConfigSchema>;
export type ThresholdConfigInput = z.input<typeof thresholdConfigSchema>;

/**
 * The DYNAMOS thesis's load rule (Listing 3.1), with threshold T on CPU and memory:
 * 1. every steward under T, aggregation requested, a TTP under T → dataThroughTtp at that TTP;
 * 2. every steward under T → computeToData;
 * 3. a steward at or over T, a TTP under T → dataThroughTtp at that TTP (offload);
 * 4. otherwise computeToData.
 * A rule whose archetype is infeasible passes to the next; when none applies, the dynamos rules
 * decide. A reading the rules need that is missing or stale also hands the decision to the
 * dynamos rules, and the reason says which reading.
 * @throws DynamosError CONFIG_INVALID when the config is invalid
 */
export function createThresholdStrategy(input: ThresholdConfigInput = {}): Strategy {
  const config = parseSettings(thresholdConfigSchema, input, "the threshold strategy's options");
  return { name: 'threshold', rank: (k, a) => rankByThreshold(k, a, config) };
}

type TtpSearch = { readonly found: { pair: CandidatePair; load: PartyLoad } | undefined } | { readonly blind: LoadProblem[] };

function rankByThreshold(k: KnowledgeSnapshot, a: Analysis, config: ThresholdConfig): Ranking {
  const T = config.loadThreshold;
  const pairs = feasiblePairs(a);
  if (pairs.length === 0) return dynamosStrategy.rank(k, a); // nothing to choose: its reason lists why
  const stewards = readLoads(k, a.authorised.map((g) => g.steward));
  if (stewards.problems.length > 0) return dynamosFallback(k, a, describeBlindness(k, stewards.problems));
  const stewardLoads = [...stewards.loads.values()];
  const under = (l: PartyLoad) => peakOf(l).value < T;
  const overloaded = stewardLoads.filter((l) => !under(l));

  const byWeight = [...pairs].sort((x, y) => x.option.weight - y.option.weight || x.order - y.order);
  const toData = byWeight.find((p) => p.option.computeAt === 'dataProvider');
  const firstTtpUnderT = (): TtpSearch => {
    for (const pair of byWeight) {
      if (pair.ttp === undefined) continue;
      const read = readLoads(k, [pair.ttp]);
      if (read.problems.length > 0) return { blind: read.problems };
      const load = read.loads.get(pair.ttp) as PartyLoad;
      if (under(load)) return { found: { pair, load } };
    }
    return { found: undefined };
  };

  const stewardsSay = stewardLoads.map(describeLoad).join('; ');
  const notes: string[] = [];
  const choose = (pair: CandidatePair, rule: string) => ranked(k, a, pairs, pair, `${describePair({ archetype: pair.option.archetype, ttp: pair.ttp })}: ${rule}`, T);
  const noTtp = byWeight.some((p) => p.ttp !== undefined)
    ? `no allowed third party is under ${percent(T)}`
    : 'no archetype that computes at a third party is feasible';

  if (overloaded.length === 0) {
    if (a.request.options['aggregate'] === true) {
      const search = firstTtpUnderT();
      if ('blind' in search) return dynamosFallback(k, a, describeBlindness(k, search.blind));
      const found = search.found;
      if (found !== undefined) {
        return choose(found.pair, `rule 1 (Listing 3.1): every steward is under ${percent(T)} (${stewardsSay}), aggregation is requested and ${found.load.party} is under ${percent(T)} (${describeLoadValues(found.load)})`);
      }
      notes.push(`rule 1 does not apply: aggregation is requested but ${noTtp}`);
    }
    if (toData !== undefined) {
      const why = a.request.options['aggregate'] === true ? `aggregation is requested but ${noTtp}` : 'no aggregation is requested';
      return choose(toData, `rule 2 (Listing 3.1): every steward is under ${percent(T)} (${stewardsSay}) and ${why}`);
    }
    notes.push('rule 2 does not apply: computing at the stewards is not feasible');
  } else {
    const over = overloaded.map((l) => `${l.party} ${peakOf(l).signal} ${percent(peakOf(l).value)}`).join(', ');
    const search = firstTtpUnderT();
    if ('blind' in search) return dynamosFallback(k, a, describeBlindness(k, search.blind));
    const found = search.found;
    if (found !== undefined) {
      return choose(found.pair, `rule 3 (Listing 3.1): ${over} is at or over ${percent(T)}, so the work moves to ${found.load.party}, under ${percent(T)} (${describeLoadValues(found.load)})`);
    }
    notes.push(`rule 3 does not apply: ${over} is at or over ${percent(T)} but ${noTtp}`);
    if (toData !== undefined) return choose(toData, `rule 4 (Listing 3.1): ${over} is at or over ${percent(T)} and ${noTtp}`);
    notes.push('rule 4 does not apply: computing at the stewards is not feasible');
  }
  return dynamosFallback(k, a, `no rule of Listing 3.1 found a feasible archetype (${notes.join('; ')}); fell back to the dynamos rules`);
}

/** The choice first, then the other feasible pairs (parties under T first, then by weight), then the infeasible. */
function ranked(k: KnowledgeSnapshot, a: Analysis, pairs: readonly CandidatePair[], chosen: CandidatePair, reason: string, T: number): Ranking {
  const stewards = a.authorised.map((g) => g.steward);
  // Every candidate shares the stewards and most share a TTP: each party's load is read, and each objective scored, once.
  const peaks = new Map<string, number>();
  const peakOfParty = (party: string) => {
    let peak = peaks.get(party);
    if (peak === undefined) {
      const read = readLoads(k, [party]).loads.get(party);
      peaks.set(party, (peak = read === undefined ? Infinity : peakOf(read).value));
    }
    return peak;
  };
  const stewardsUnder = stewards.every((party) => peakOfParty(party) < T);
  const allUnder = (p: CandidatePair) => stewardsUnder && (p.ttp === undefined || peakOfParty(p.ttp) < T);
  const others = pairs
    .filter((p) => p !== chosen)
    .map((p) => ({ p, under: allUnder(p) }))
    .sort((x, y) => Number(y.under) - Number(x.under) || x.p.option.weight - y.p.option.weight || x.p.order - y.p.order)
    .map(({ p }) => p);
  const choice = chosen.ttp === undefined ? { archetype: chosen.option.archetype } : { archetype: chosen.option.archetype, ttp: chosen.ttp };
  return rankingOf(choice, reason, () => {
    const stewardLoad = loadScore('stewardLoad', k, stewards, T);
    const noTtp: ObjectiveScore = { objective: 'ttpLoad', score: 1, reason: 'no third party is used' };
    const ttpLoads = new Map<string, ObjectiveScore>();
    const objectivesOf = (ttp: string | undefined): ObjectiveScore[] => {
      if (ttp === undefined) return [stewardLoad, noTtp];
      let ttpLoad = ttpLoads.get(ttp);
      if (ttpLoad === undefined) ttpLoads.set(ttp, (ttpLoad = loadScore('ttpLoad', k, [ttp], T)));
      return [stewardLoad, ttpLoad];
    };
    const notChosen = `feasible, but ${describePair(choice)} was chosen`;
    const candidates: CandidateExplanation[] = [chosen, ...others].map((p, i) => {
      const { archetype } = p.option;
      const why = i === 0 ? `chosen: ${reason}` : notChosen;
      const objectives = objectivesOf(p.ttp);
      return p.ttp === undefined ? { archetype, feasible: true, rank: i + 1, objectives, reason: why } : { archetype, ttp: p.ttp, feasible: true, rank: i + 1, objectives, reason: why };
    });
    for (const o of a.archetypes) {
      if (!o.feasible) candidates.push({ archetype: o.archetype, feasible: false, objectives: objectivesOf(undefined), reason: o.reason });
    }
    return candidates;
  });
}

/** `stewardLoad` and `ttpLoad` scores: 1 − the highest CPU or memory load, with the readings named. */
function loadScore(objective: string, k: KnowledgeSnapshot, parties: readonly string[], T: number): ObjectiveScore {
  const { loads, problems } = readLoads(k, parties);
  if (problems.length > 0) return { objective, score: 0, reason: `unknown: ${problems.map(describeProblem).join(', ')}` };
  const all = [...loads.values()];
  if (all.length === 0) return { objective, score: 1, reason: 'no party' };
  const peak = all.map(peakOf).reduce((x, y) => (y.value > x.value ? y : x));
  const side = peak.value < T ? 'under' : 'at or over';
  const score = Math.min(1, Math.max(0, 1 - peak.value));
  return { objective, score, reason: `${all.map(describeLoad).join('; ')}: highest ${peak.party} ${peak.signal} ${percent(peak.value)}, ${side} ${percent(T)}` };
}
