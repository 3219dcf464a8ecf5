import type { ObjectiveScore } from '../../../knowledge/decision.js';
import type { KnowledgeSnapshot, LearnedOutcome } from '../../../knowledge/knowledge-snapshot.js';
import { isOnline, outcomeKey } from '../../../knowledge/knowledge-snapshot.js';
import type { Analysis } from '../analyze.js';
import type { PartyLoad } from './party-load.js';
import { peakOf, percent } from './party-load.js';
import type { CandidatePair } from './strategy-candidates.js';
import { policyPreference } from './strategy-candidates.js';
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
  readonly objectives: readonly ObjectiveScore[];
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
  return String(Number(x.toPrecision(3)));
}

interface Prediction {
  readonly value: number;
  readonly reason: string;
}

/**
 * Scores every pair. `loads` must hold every party of every pair (the caller falls back to the
 * dynamos rules otherwise). Latency and energy scores are the best prediction among the pairs
 * that pass the hard constraints divided by this pair's (at most 1).
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
  const mb = new Map(a.authorised.map((g) => [g.steward, g.datasets.reduce((sum, d) => sum + (k.dataBytes[`${g.steward}/${d}`] ?? config.priors.unknownDatasetMB * 1e6) / 1e6, 0)]));
  const loadOf = (party: string) => loads.get(party) as PartyLoad;
  const raw = pairs.map((pair) => {
    const parties = [...mb.keys(), ...(pair.ttp === undefined ? [] : [pair.ttp])];
    const peaks = parties.map((p) => peakOf(loadOf(p)));
    const peak = peaks.reduce((x, y) => (y.value > x.value ? y : x));
    const offline = parties.find((p) => !isOnline(k, p));
    const capped = peaks.find((p) => p.value >= C);
    const excluded =
      offline !== undefined
        ? `${offline} is offline`
        : capped !== undefined
          ? `${capped.party} is at or over the ${percent(C)} load cap (${capped.signal} ${percent(capped.value)})`
          : undefined;
    return { pair, parties, peak, excluded, latency: predictLatency(k, pair, mb, loadOf, config), energy: predictEnergy(k, pair, mb, config) };
  });
  const eligible = raw.filter((r) => r.excluded === undefined);
  const pool = eligible.length > 0 ? eligible : raw;
  const bestLatency = Math.min(...pool.map((r) => r.latency.value));
  const bestEnergy = Math.min(...pool.map((r) => r.energy.value));
  const ratio = (best: number, x: number) => (x <= 0 ? 1 : Math.min(1, best / x));

  return raw.map(({ pair, parties, peak, excluded, latency, energy }): UtilityCandidate => {
    const headroom = headroomScore(peak.value, T, C);
    const objectives: ObjectiveScore[] = [
      { objective: 'latency', score: ratio(bestLatency, latency.value), reason: `${latency.reason}; best ${num(bestLatency)} ms` },
      { objective: 'energy', score: ratio(bestEnergy, energy.value), reason: `${energy.reason}; best ${num(bestEnergy)} J` },
      {
        objective: 'loadHeadroom',
        score: headroom,
        reason: `highest load ${peak.party} ${peak.signal} ${percent(peak.value)} (threshold ${percent(T)}, cap ${percent(C)})`,
      },
      policyPreference(pair.option, a.archetypes),
    ];
    const [l, e, h, p] = objectives.map((o) => o.score) as [number, number, number, number];
    const utility = weights.latency * l + weights.energy * e + weights.loadHeadroom * h + weights.policyPreference * p;
    const { option, ttp, order } = pair; // named, not spread: this runs for every candidate of every request
    return { option, ttp, order, archetype: option.archetype, parties, excluded, peak, tier: peak.value < T ? 0 : 1, leavesOut: option.leavesOut, objectives, utility };
  });
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
function predictLatency(
  k: KnowledgeSnapshot,
  pair: CandidatePair,
  mb: ReadonlyMap<string, number>,
  loadOf: (party: string) => PartyLoad,
  config: UtilityConfig,
): Prediction {
  const archetype = pair.option.archetype;
  const priors = pair.ttp === undefined ? { steward: config.priors.computeAtStewards.stewardMsPerMB, ttp: 0 } : { steward: config.priors.computeAtTtp.stewardMsPerMB, ttp: config.priors.computeAtTtp.ttpMsPerMB };
  const part = (party: string, megabytes: number, prior: number) => {
    const taught = learned(k, archetype, party)?.msPerMB;
    const msPerMB = taught ?? prior;
    const cpu = loadOf(party).cpu;
    const ms = msPerMB * megabytes * slowdown(cpu);
    const source = taught === undefined ? 'prior' : 'learned';
    return { ms, reason: `${party} ${num(msPerMB)} ms/MB (${source}) × ${num(megabytes)} MB × ${num(slowdown(cpu))} (cpu ${percent(cpu)})` };
  };
  const slowest = [...mb].map(([s, m]) => part(s, m, priors.steward)).reduce((x, y) => (y.ms > x.ms ? y : x));
  if (pair.ttp === undefined) return { value: slowest.ms, reason: `predicted ${num(slowest.ms)} ms: slowest steward ${slowest.reason}` };
  const total = [...mb.values()].reduce((x, y) => x + y, 0);
  const ttp = part(pair.ttp, total, priors.ttp);
  const value = slowest.ms + ttp.ms;
  return { value, reason: `predicted ${num(value)} ms: slowest steward ${slowest.reason} + ${ttp.reason}` };
}

/**
 * Predicted joules: Σ over the parties of the learned energy per MB × MB, else the learned energy
 * per job, else prior CPU-s/MB × MB × W.
 */
function predictEnergy(k: KnowledgeSnapshot, pair: CandidatePair, mb: ReadonlyMap<string, number>, config: UtilityConfig): Prediction {
  const archetype = pair.option.archetype;
  const { wattsPerCpu } = config.priors;
  const priors =
    pair.ttp === undefined
      ? { steward: config.priors.computeAtStewards.stewardCpuSecondsPerMB, ttp: 0 }
      : { steward: config.priors.computeAtTtp.stewardCpuSecondsPerMB, ttp: config.priors.computeAtTtp.ttpCpuSecondsPerMB };
  const part = (party: string, megabytes: number, prior: number) => {
    const taught = learned(k, archetype, party);
    if (taught?.joulesPerMB !== undefined) {
      const joules = taught.joulesPerMB * megabytes;
      return { joules, reason: `${party} ${num(taught.joulesPerMB)} J/MB (learned, ${taught.jobs} jobs) × ${num(megabytes)} MB` };
    }
    if (taught !== undefined) return { joules: taught.energyJoules, reason: `${party} ${num(taught.energyJoules)} J a job (learned, ${taught.jobs} jobs; data size unknown)` };
    const joules = prior * megabytes * wattsPerCpu;
    return { joules, reason: `${party} ${num(joules)} J (prior ${num(prior)} CPU-s/MB × ${num(megabytes)} MB × ${num(wattsPerCpu)} W)` };
  };
  const parts = [...mb].map(([s, m]) => part(s, m, priors.steward));
  if (pair.ttp !== undefined) parts.push(part(pair.ttp, [...mb.values()].reduce((x, y) => x + y, 0), priors.ttp));
  const value = parts.reduce((sum, p) => sum + p.joules, 0);
  return { value, reason: `predicted ${num(value)} J: ${parts.map((p) => p.reason).join(', ')}` };
}
