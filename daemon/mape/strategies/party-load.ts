import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import { freshValue, readingAge } from '../../../knowledge/knowledge-snapshot.js';

/** A party's fresh CPU and memory load, fractions of its capacity in use (0..1). */
export interface PartyLoad {
  readonly party: string;
  readonly cpu: number;
  readonly memory: number;
}

/** A load reading a strategy needs but cannot use: never read, or older than the stale limit. */
export interface LoadProblem {
  readonly party: string;
  readonly signal: 'cpu' | 'memory';
  /** Undefined when the party never reported the signal. */
  readonly ageMs: number | undefined;
  readonly limitMs: number;
}

/**
 * Fresh CPU and memory of each party, and every reading that is missing or stale. A strategy that
 * balances load cannot decide on a party it cannot see, so any problem sends it to its fallback.
 */
export function readLoads(k: KnowledgeSnapshot, parties: Iterable<string>): { loads: Map<string, PartyLoad>; problems: LoadProblem[] } {
  const loads = new Map<string, PartyLoad>();
  const problems: LoadProblem[] = [];
  const seen = new Set<string>();
  for (const party of parties) {
    if (seen.has(party)) continue;
    seen.add(party);
    const cpu = freshValue(k, party, 'cpu');
    const memory = freshValue(k, party, 'memory');
    if (cpu === undefined) problems.push(problemOf(k, party, 'cpu'));
    if (memory === undefined) problems.push(problemOf(k, party, 'memory'));
    if (cpu !== undefined && memory !== undefined) loads.set(party, { party, cpu, memory });
  }
  return { loads, problems };
}

function problemOf(k: KnowledgeSnapshot, party: string, signal: 'cpu' | 'memory'): LoadProblem {
  return { party, signal, ageMs: readingAge(k, party, signal), limitMs: k.settings.staleAfterMs[signal] };
}

/** Whether no party has reported anything at all: there is no metrics source. */
export function hasNoMetrics(k: KnowledgeSnapshot): boolean {
  return Object.values(k.nodes).every((n) => Object.keys(n.latest).length === 0);
}

/** The larger of CPU and memory load, and which signal it is. */
export function peakOf(load: PartyLoad): { readonly party: string; readonly signal: 'cpu' | 'memory'; readonly value: number } {
  return load.memory > load.cpu ? { party: load.party, signal: 'memory', value: load.memory } : { party: load.party, signal: 'cpu', value: load.cpu };
}

/** `0.805` → `80.5 %`. */
export function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10} %`;
}

/** `45000` → `45 s`, `1500` → `1.5 s`; rounded down, so 59,999 ms is never called 60 s. */
export function seconds(ms: number): string {
  return `${Math.floor(ms / 100) / 10} s`;
}

/** `VU cpu 81 %, memory 40 %`. */
export function describeLoad(load: PartyLoad): string {
  return `${load.party} ${describeLoadValues(load)}`;
}

/** `cpu 81 %, memory 40 %`. */
export function describeLoadValues(load: PartyLoad): string {
  return `cpu ${percent(load.cpu)}, memory ${percent(load.memory)}`;
}

/** `SURF cpu 45 s old (limit 30 s)`, `VU memory never read`. */
export function describeProblem(p: LoadProblem): string {
  return p.ageMs === undefined ? `${p.party} ${p.signal} never read` : `${p.party} ${p.signal} ${seconds(p.ageMs)} old (limit ${seconds(p.limitMs)})`;
}

/**
 * Why a strategy fell back to the dynamos rules:
 * `metrics stale: SURF cpu 45 s old (limit 30 s); fell back to the dynamos rules`.
 */
export function describeBlindness(k: KnowledgeSnapshot, problems: readonly LoadProblem[]): string {
  if (hasNoMetrics(k)) return 'no metrics: no party has reported any reading; fell back to the dynamos rules';
  const stale = problems.some((p) => p.ageMs !== undefined);
  const missing = problems.some((p) => p.ageMs === undefined);
  const what = stale && missing ? 'stale or missing' : stale ? 'stale' : 'missing';
  return `metrics ${what}: ${problems.map(describeProblem).join(', ')}; fell back to the dynamos rules`;
}
