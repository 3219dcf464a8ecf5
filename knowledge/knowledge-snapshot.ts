import type { DataRequest } from './data-request.js';
import type { Marketplace } from './marketplace/load-marketplace.js';
import type { Signal } from './ports/metrics-source.js';

/** One observed value and when it was observed (ms since the epoch). */
export interface SignalReading {
  readonly value: number;
  readonly at: number;
}

/** What the knowledge base knows of one party (a data steward or a TTP). */
export interface NodeState {
  readonly party: string;
  /** Latest reading per signal. */
  readonly latest: Partial<Record<Signal, SignalReading>>;
  /** Recent readings per signal, oldest first, at most `settings.windowSize`. */
  readonly window: Partial<Record<Signal, readonly SignalReading[]>>;
  /** An operator (or the outage API) took the party out; overrides its `up` signal. */
  readonly markedOffline: boolean;
}

/**
 * What past jobs taught about an archetype at one party, as exponentially weighted moving
 * averages (docs/mape-k-loop.md#the-knowledge-base): latency per MB of data handled, CPU-seconds and energy per job.
 */
export interface LearnedOutcome {
  readonly jobs: number;
  /** Undefined until a job with a known data size was seen. */
  readonly msPerMB: number | undefined;
  readonly cpuSeconds: number;
  readonly energyJoules: number;
  /** Energy per MB of data handled; undefined until a job with a known data size was seen. */
  readonly joulesPerMB: number | undefined;
  readonly updatedAt: number;
}

/** The last choice for one requester and provider set, for hysteresis. */
export interface ChoiceMemory {
  readonly archetype: string;
  readonly ttp?: string;
  readonly utility?: number;
  /**
   * When the choice last switched to this one; absent while it has never switched (a first choice
   * is not a switch, so it does not start a hold-down).
   */
  readonly since?: number;
  /** When it was last confirmed. */
  readonly lastAt: number;
}

/** A request whose jobs are running, so a change of policy can reach it. */
export interface InFlightRequest {
  readonly request: DataRequest;
  readonly archetype: string;
  readonly ttp?: string;
  /** Every party a job of the request runs at. */
  readonly parties: readonly string[];
  readonly startedAt: number;
}

export interface KnowledgeSettings {
  /** A reading older than this is not a value (per signal, ms). */
  readonly staleAfterMs: Readonly<Record<Signal, number>>;
  /** Readings kept per party and signal. */
  readonly windowSize: number;
  /** Weight of the newest job in the learned averages, in (0, 1]. */
  readonly learningRate: number;
}

export const defaultKnowledgeSettings: KnowledgeSettings = {
  staleAfterMs: { cpu: 30_000, memory: 30_000, queueDepth: 30_000, powerWatts: 60_000, up: 30_000 },
  windowSize: 20,
  learningRate: 0.3,
};

/**
 * What the daemon knows at one moment (docs/mape-k-loop.md#the-knowledge-base). Phases read it and never change it: `fold`
 * returns a new snapshot for each event.
 */
export interface KnowledgeSnapshot {
  readonly marketplace: Marketplace;
  /** The clock time the snapshot describes (ms since the epoch). */
  readonly at: number;
  readonly nodes: Readonly<Record<string, NodeState>>;
  /** Keyed by `outcomeKey(archetype, party)`. */
  readonly outcomes: Readonly<Record<string, LearnedOutcome>>;
  /** Keyed by `choiceKey(...)`: requester, providers and what the request asks. */
  readonly choices: Readonly<Record<string, ChoiceMemory>>;
  /**
   * Keyed by request id. A Map, not a record: every request adds and removes a key never seen
   * before, which costs a record a new hidden class each time (8 µs a request, measured).
   */
  readonly inFlight: ReadonlyMap<string, InFlightRequest>;
  /** Bytes of each steward's table files, for predicting work from data size. */
  readonly dataBytes: Readonly<Record<string, number>>;
  readonly monitor: {
    readonly lastReadAt: number | undefined;
    readonly failures: readonly { readonly signal: Signal; readonly reason: string }[];
    readonly error: string | undefined;
  };
  readonly settings: KnowledgeSettings;
}

/**
 * A copy of the snapshot with some fields replaced. One literal naming every field: V8 copies a
 * `{ ...k, at }` spread of the snapshot on a slow path (≈ 450 ns against ≈ 15 ns, measured), and
 * the knowledge base copies the snapshot several times per request.
 */
export function snapshotWith(k: KnowledgeSnapshot, changes: Partial<KnowledgeSnapshot>): KnowledgeSnapshot {
  return {
    marketplace: changes.marketplace ?? k.marketplace,
    at: changes.at ?? k.at,
    nodes: changes.nodes ?? k.nodes,
    outcomes: changes.outcomes ?? k.outcomes,
    choices: changes.choices ?? k.choices,
    inFlight: changes.inFlight ?? k.inFlight,
    dataBytes: changes.dataBytes ?? k.dataBytes,
    monitor: changes.monitor ?? k.monitor,
    settings: changes.settings ?? k.settings,
  };
}

/** A snapshot knowing only the marketplace: no readings, no history. */
export function knowledgeOf(marketplace: Marketplace, at: number, settings: KnowledgeSettings = defaultKnowledgeSettings): KnowledgeSnapshot {
  return {
    marketplace,
    at,
    nodes: {},
    outcomes: {},
    choices: {},
    inFlight: new Map(),
    dataBytes: {},
    monitor: { lastReadAt: undefined, failures: [], error: undefined },
    settings,
  };
}

/** `a/b`, the same string each time: a key built afresh is hashed afresh at every lookup. */
const joinedKeys = new Map<string, Map<string, string>>();

function joinKey(a: string, b: string): string {
  let byB = joinedKeys.get(a);
  if (byB === undefined) {
    if (joinedKeys.size >= 1024) joinedKeys.clear();
    joinedKeys.set(a, (byB = new Map()));
  }
  let key = byB.get(b);
  if (key === undefined) {
    if (byB.size >= 1024) byB.clear();
    byB.set(b, (key = `${a}/${b}`));
  }
  return key;
}

export function outcomeKey(archetype: string, party: string): string {
  return joinKey(archetype, party);
}

/** The key of a steward's dataset in `dataBytes`. */
export function dataKey(steward: string, dataset: string): string {
  return joinKey(steward, dataset);
}

/**
 * Hysteresis is per requester, set of stewards (whatever their order) and kind of request (its
 * type and the options it switches on): an aggregation and a plain request of the same requester
 * may rightly get different archetypes.
 */
export function choiceKey(requester: string, providers: readonly string[], type = '', options: Readonly<Record<string, boolean>> = {}): string {
  const on = Object.keys(options).filter((o) => options[o] === true).sort();
  return `${requester}|${[...providers].sort().join(',')}|${type}|${on.join(',')}`;
}

/** The party's fresh value of a signal, or undefined when it has none or it is stale. */
export function freshValue(k: KnowledgeSnapshot, party: string, signal: Signal): number | undefined {
  const reading = k.nodes[party]?.latest[signal];
  if (reading === undefined || k.at - reading.at > k.settings.staleAfterMs[signal]) return undefined;
  return reading.value;
}

/** Age of the party's latest reading of a signal, in ms; undefined when it never had one. */
export function readingAge(k: KnowledgeSnapshot, party: string, signal: Signal): number | undefined {
  const reading = k.nodes[party]?.latest[signal];
  return reading === undefined ? undefined : k.at - reading.at;
}

/**
 * Whether a party takes work: not marked offline, and not reported down. A party whose `up` is
 * unknown or stale counts as online (the embedded default has no liveness signal); the symptoms
 * report the staleness.
 */
export function isOnline(k: KnowledgeSnapshot, party: string): boolean {
  const node = k.nodes[party];
  if (node?.markedOffline === true) return false;
  const up = freshValue(k, party, 'up');
  return up === undefined || up >= 1;
}
