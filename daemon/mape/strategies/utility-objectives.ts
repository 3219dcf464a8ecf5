import type { ObjectiveScore } from '../../../knowledge/decision.js';
import type { KnowledgeSnapshot, LearnedOutcome } from '../../../knowledge/knowledge-snapshot.js';
import { dataKey, isOnline, outcomeKey } from '../../../knowledge/knowledge-snapshot.js';
import type { Analysis } from '../analyze.js';
import type { PartyLoad } from './party-load.js';
import { peakOf, percent } from './party-load.js';
import type { CandidatePair } from './strategy-candidates.js';
import { policyPreference, policyPreferenceScore } from './strategy-candidates.js';
import type { ObjectiveWeights, UtilityConfig } from './utility-config.js';

/** One (archetype, TTP) pair, its hard constraints checked and its objectives scored. */
export interface UtilityCandidate extends CandidatePair {
  readonly archetype: string;
  /** The authorised stewards, plus the TTP when there is one. */
  readonly parties: readonly string[];
  /** The hard constraint it breaks, if any: such a candidate is never chosen. */
  readonly excluded: string | undefined;
  /** The highest CPU or memory load among its parties. */
  readonly peak: ReturnType<typeof peakOf>;
  /** 0 when every party is under the load threshold, 1 when one is at or over it (the 80 % rule as a tier). */
  readonly tier: 0 | 1;
  /** Services the request asked for (by option) that this candidate would leave out. */
  readonly leavesOut: readonly string[];
  /** The four objectives with their scores and reasons, built only when the ranking's candidates are explained (`Ranking.explainCandidates`). */
  readonly objectives: () => readonly ObjectiveScore[];
  /** Σ weight × score, weights normalised to sum 1; in [0, 1]. */
  readonly utility: number;
}

/**
 * How well a candidate fits, before utility: first whether it does all the request asked (a
 * candidate leaving out a requested service, such as sql-aggregate, ranks below every one that
 * does not), then the 80 % rule. Lower is better.
 */
export function rankTier(c: Pick<UtilityCandidate, 'tier' | 'leavesOut'>): number {
  return (c.leavesOut.length > 0 ? 2 : 0) + c.tier;
}

/** Load above which the M/M/1 slowdown stops growing (it is infinite at 1). */
const slowdownLoadLimit = 0.95;

/** M/M/1-style slowdown of work at a party whose CPU is `cpu` busy: 1 / (1 − ρ). */
export function slowdown(cpu: number): number {
  return 1 / (1 - Math.min(Math.max(cpu, 0), slowdownLoadLimit));
}

/**
 * Load headroom score from the highest load L among the parties, threshold T and cap C:
 * L ≤ T → 1 − 0.5·L/T (in [0.5, 1]); L > T → 0.5·(C − L)/(C − T), at least 0.
 */
export function headroomScore(L: number, T: number, C: number): number {
  return L <= T ? 1 - (0.5 * Math.max(L, 0)) / T : Math.max(0, (0.5 * (C - L)) / (C - T));
}

export function normaliseWeights(w: ObjectiveWeights): ObjectiveWeights {
  const sum = w.latency + w.energy + w.loadHeadroom + w.policyPreference;
  return { latency: w.latency / sum, energy: w.energy / sum, loadHeadroom: w.loadHeadroom / sum, policyPreference: w.policyPreference / sum };
}

/** `3.14159` → `3.14`, `1234.5` → `1235`: about three significant digits for reasons (cheaper than toPrecision). */
function num(x: number): string {
  const a = Math.abs(x);
  if (a >= 100 || a === 0) return String(Math.round(x));
  if (a >= 1) return String(a >= 10 ? Math.round(x * 10) / 10 : Math.round(x * 100) / 100);
  // Scaling by a power of ten gives toPrecision(3)'s digits at half its cost (no difference in 2 million random values).
  const shift = 2 - Math.floor(Math.log10(a));
  const scale = powersOfTen[shift];
  return scale === undefined ? String(Number(x.toPrecision(3))) : String(Math.round(x * scale) / scale);
}

const powersOfTen = Array.from({ length: 21 }, (_, i) => 10 ** i);

interface Prediction {
  readonly value: number;
  /** How it was predicted, in words: built only when an explanation is read. */
  readonly reason: () => string;
}

/** The authorised stewards and the MB of data each holds for the request, in authorisation order. */
interface StewardWork {
  readonly stewards: readonly string[];
  readonly mb: readonly number[];
  readonly totalMB: number;
}

/**
 * Scores every pair. `loads` must hold every party of every pair (the caller falls back to the
 * dynamos rules otherwise). Latency and energy scores are the best prediction among the pairs
 * that pass the hard constraints divided by this pair's (at most 1).
 * Runs for every request the utility strategy decides (and every one replayed): loops and plain
 * literals, and reasons only put into words when read.
 */
export function evaluateCandidates(
  k: KnowledgeSnapshot,
  a: Analysis,
  pairs: readonly CandidatePair[],
  loads: ReadonlyMap<string, PartyLoad>,
  config: UtilityConfig,
  weights: ObjectiveWeights,
): UtilityCandidate[] {
  const T = config.loadThreshold;
  const C = config.loadCap;
  const work = stewardWork(k, a, config.priors.unknownDatasetMB);
  const loadOf = (party: string) => loads.get(party) as PartyLoad;
  const stewardPeaks = work.stewards.map((p) => peakOf(loadOf(p)));
  const stewardOffline = work.stewards.find((p) => !isOnline(k, p));
  const raw = pairs.map((pair) => {
    const parties = pair.ttp === undefined ? work.stewards : [...work.stewards, pair.ttp];
    const peaks = pair.ttp === undefined ? stewardPeaks : [...stewardPeaks, peakOf(loadOf(pair.ttp))];
    let peak = peaks[0] as Peak;
    for (const p of peaks) if (p.value > peak.value) peak = p;
    const offline = stewardOffline ?? (pair.ttp !== undefined && !isOnline(k, pair.ttp) ? pair.ttp : undefined);
    const capped = peaks.find((p) => p.value >= C);
    const excluded =
      offline !== undefined
        ? `${offline} is offline`
        : capped !== undefined
          ? `${capped.party} is at or over the ${percent(C)} load cap (${capped.signal} ${percent(capped.value)})`
          : undefined;
    return { pair, parties, peak, excluded, latency: predictLatency(k, pair, work, loadOf, config), energy: predictEnergy(k, pair, work, config) };
  });
  let bestLatency = Infinity;
  let bestEnergy = Infinity;
  const anyEligible = raw.some((r) => r.excluded === undefined);
  for (const r of raw) {
    if (anyEligible && r.excluded !== undefined) continue;
    bestLatency = Math.min(bestLatency, r.latency.value);
    bestEnergy = Math.min(bestEnergy, r.energy.value);
  }
  const ratio = (best: number, x: number) => (x <= 0 ? 1 : Math.min(1, best / x));

  return raw.map(({ pair, parties, peak, excluded, latency, energy }): UtilityCandidate => {
    const l = ratio(bestLatency, latency.value);
    const e = ratio(bestEnergy, energy.value);
    const h = headroomScore(peak.value, T, C);
    const p = policyPreferenceScore(pair.option, a.archetypes);
    const utility = weights.latency * l + weights.energy * e + weights.loadHeadroom * h + weights.policyPreference * p;
    const objectives = (): ObjectiveScore[] => [
      { objective: 'latency', score: l, reason: `${latency.reason()}; best ${num(bestLatency)} ms` },
      { objective: 'energy', score: e, reason: `${energy.reason()}; best ${num(bestEnergy)} J` },
      { objective: 'loadHeadroom', score: h, reason: `highest load ${peak.party} ${peak.signal} ${percent(peak.value)} (threshold ${percent(T)}, cap ${percent(C)})` },
      policyPreference(pair.option, a.archetypes),
    ];
    const { option, ttp, order } = pair; // named, not spread
    return { option, ttp, order, archetype: option.archetype, parties, excluded, peak, tier: peak.value < T ? 0 : 1, leavesOut: option.leavesOut, objectives, utility };
  });
}

type Peak = ReturnType<typeof peakOf>;

function stewardWork(k: KnowledgeSnapshot, a: Analysis, unknownDatasetMB: number): StewardWork {
  const stewards: string[] = [];
  const mb: number[] = [];
  let totalMB = 0;
  for (const g of a.authorised) {
    let sum = 0;
    for (const d of g.datasets) sum += (k.dataBytes[dataKey(g.steward, d)] ?? unknownDatasetMB * 1e6) / 1e6;
    stewards.push(g.steward);
    mb.push(sum);
    totalMB += sum;
  }
  return { stewards, mb, totalMB };
}

/** The learned outcome of an archetype at a party, when jobs taught one. */
function learned(k: KnowledgeSnapshot, archetype: string, party: string): LearnedOutcome | undefined {
  const outcome = k.outcomes[outcomeKey(archetype, party)];
  return outcome !== undefined && outcome.jobs > 0 ? outcome : undefined;
}

/**
 * Predicted latency in ms: the slowest steward's part (ms/MB × its MB × slowdown), plus, at a
 * TTP, the TTP's part over all the stewards' MB. ms/MB is learned where jobs taught it, else the prior.
 */
function predictLatency(k: KnowledgeSnapshot, pair: CandidatePair, work: StewardWork, loadOf: (party: string) => PartyLoad, config: UtilityConfig): Prediction {
  const archetype = pair.option.archetype;
  const stewardPrior = pair.ttp === undefined ? config.priors.computeAtStewards.stewardMsPerMB : config.priors.computeAtTtp.stewardMsPerMB;
  const msPerMBOf = (party: string, prior: number) => learned(k, archetype, party)?.msPerMB ?? prior;
  const describe = (party: string, megabytes: number, prior: number) => {
    const taught = learned(k, archetype, party)?.msPerMB;
    const cpu = loadOf(party).cpu;
    return `${party} ${num(taught ?? prior)} ms/MB (${taught === undefined ? 'prior' : 'learned'}) × ${num(megabytes)} MB × ${num(slowdown(cpu))} (cpu ${percent(cpu)})`;
  };
  let slowest = 0;
  let slowestMs = -Infinity;
  work.stewards.forEach((party, i) => {
    const ms = msPerMBOf(party, stewardPrior) * (work.mb[i] as number) * slowdown(loadOf(party).cpu);
    if (ms > slowestMs) [slowest, slowestMs] = [i, ms];
  });
  const slowestParty = work.stewards[slowest] as string;
  const slowestMB = work.mb[slowest] as number;
  if (pair.ttp === undefined) return { value: slowestMs, reason: () => `predicted ${num(slowestMs)} ms: slowest steward ${describe(slowestParty, slowestMB, stewardPrior)}` };
  const ttp = pair.ttp;
  const ttpPrior = config.priors.computeAtTtp.ttpMsPerMB;
  const value = slowestMs + msPerMBOf(ttp, ttpPrior) * work.totalMB * slowdown(loadOf(ttp).cpu);
  return { value, reason: () => `predicted ${num(value)} ms: slowest steward ${describe(slowestParty, slowestMB, stewardPrior)} + ${describe(ttp, work.totalMB, ttpPrior)}` };
}

/**
 * Predicted joules: Σ over the parties of the learned energy per MB × MB, else the learned energy
 * per job, else prior CPU-s/MB × MB × W.
 */
function predictEnergy(k: KnowledgeSnapshot, pair: CandidatePair, work: StewardWork, config: UtilityConfig): Prediction {
  const archetype = pair.option.archetype;
  const { wattsPerCpu } = config.priors;
  const stewardPrior = pair.ttp === undefined ? config.priors.computeAtStewards.stewardCpuSecondsPerMB : config.priors.computeAtTtp.stewardCpuSecondsPerMB;
  const ttpPrior = config.priors.computeAtTtp.ttpCpuSecondsPerMB;
  // A party's learned joules per MB, else its learned joules a job, else the prior CPU-seconds.
  const joulesOf = (party: string, megabytes: number, prior: number) => {
    const taught = learned(k, archetype, party);
    if (taught?.joulesPerMB !== undefined) return taught.joulesPerMB * megabytes;
    if (taught !== undefined) return taught.energyJoules;
    return prior * megabytes * wattsPerCpu;
  };
  const describe = (party: string, megabytes: number, prior: number) => {
    const taught = learned(k, archetype, party);
    if (taught?.joulesPerMB !== undefined) return `${party} ${num(taught.joulesPerMB)} J/MB (learned, ${taught.jobs} jobs) × ${num(megabytes)} MB`;
    if (taught !== undefined) return `${party} ${num(taught.energyJoules)} J a job (learned, ${taught.jobs} jobs; data size unknown)`;
    return `${party} ${num(prior * megabytes * wattsPerCpu)} J (prior ${num(prior)} CPU-s/MB × ${num(megabytes)} MB × ${num(wattsPerCpu)} W)`;
  };
  let value = 0;
  work.stewards.forEach((party, i) => (value += joulesOf(party, work.mb[i] as number, stewardPrior)));
  const { ttp } = pair;
  if (ttp !== undefined) value += joulesOf(ttp, work.totalMB, ttpPrior);
  const reason = () => {
    const parts = work.stewards.map((party, i) => describe(party, work.mb[i] as number, stewardPrior));
    if (ttp !== undefined) parts.push(describe(ttp, work.totalMB, ttpPrior));
    return `predicted ${num(value)} J: ${parts.join(', ')}`;
  };
  return { value, reason };
}
