import type { ChoiceMemory, KnowledgeSnapshot, InFlightRequest, LearnedOutcome, NodeState, SignalReading } from './knowledge-snapshot.js';
import { outcomeKey, snapshotWith } from './knowledge-snapshot.js';
import type { Marketplace } from './marketplace/load-marketplace.js';
import type { MetricsReading } from './ports/metrics-source.js';

/** What the job of one party did for one request, as the loop reports it to the knowledge base. */
export interface JobLesson {
  readonly party: string;
  readonly durationMs: number;
  readonly cpuSeconds: number;
  readonly energyJoules: number;
  /** Data the job handled, when known: its steward's tables, or what a TTP received. */
  readonly dataBytes: number | undefined;
}

export type KnowledgeEvent =
  | { readonly kind: 'tick'; readonly at: number }
  | { readonly kind: 'metricsRead'; readonly reading: MetricsReading }
  | { readonly kind: 'metricsFailed'; readonly at: number; readonly error: string }
  | { readonly kind: 'marketplaceChanged'; readonly marketplace: Marketplace; readonly at: number }
  | { readonly kind: 'partyMarked'; readonly party: string; readonly offline: boolean; readonly at: number }
  | { readonly kind: 'dataSizesKnown'; readonly bytes: Readonly<Record<string, number>> }
  | { readonly kind: 'requestStarted'; readonly requestId: string; readonly inFlight: InFlightRequest }
  | { readonly kind: 'requestEnded'; readonly requestId: string; readonly at: number }
  | { readonly kind: 'jobsFinished'; readonly archetype: string; readonly jobs: readonly JobLesson[]; readonly at: number }
  | {
      readonly kind: 'choiceMade';
      readonly key: string;
      readonly archetype: string;
      readonly ttp?: string;
      readonly utility?: number;
      readonly at: number;
    };

/**
 * The knowledge after an event: a new snapshot, the old one unchanged. Pure, and total: every
 * event kind is handled (the compiler checks it).
 */
export function fold(k: KnowledgeSnapshot, event: KnowledgeEvent): KnowledgeSnapshot {
  switch (event.kind) {
    case 'tick':
      return snapshotWith(k, { at: Math.max(k.at, event.at) });
    case 'metricsRead':
      return foldReading(k, event.reading);
    case 'metricsFailed':
      return snapshotWith(k, { at: Math.max(k.at, event.at), monitor: { ...k.monitor, error: event.error } });
    case 'marketplaceChanged':
      return snapshotWith(k, { marketplace: event.marketplace, at: Math.max(k.at, event.at) });
    case 'partyMarked': {
      const node = nodeOf(k, event.party);
      return snapshotWith(k, { at: Math.max(k.at, event.at), nodes: { ...k.nodes, [event.party]: { party: node.party, latest: node.latest, window: node.window, markedOffline: event.offline } } });
    }
    case 'dataSizesKnown':
      return snapshotWith(k, { dataBytes: { ...k.dataBytes, ...event.bytes } });
    case 'requestStarted':
      return snapshotWith(k, { inFlight: new Map(k.inFlight).set(event.requestId, event.inFlight) });
    case 'requestEnded': {
      const rest = new Map(k.inFlight);
      rest.delete(event.requestId);
      return snapshotWith(k, { at: Math.max(k.at, event.at), inFlight: rest });
    }
    case 'jobsFinished':
      return foldLessons(k, event.archetype, event.jobs, event.at);
    case 'choiceMade': {
      const previous = k.choices[event.key];
      const same = previous !== undefined && previous.archetype === event.archetype && previous.ttp === event.ttp;
      const since = same ? previous.since : previous === undefined ? undefined : event.at;
      // Assigned, not spread in: this runs for every request.
      const memory: { -readonly [K in keyof ChoiceMemory]: ChoiceMemory[K] } = { archetype: event.archetype, lastAt: event.at };
      if (event.ttp !== undefined) memory.ttp = event.ttp;
      if (event.utility !== undefined) memory.utility = event.utility;
      if (since !== undefined) memory.since = since;
      const choices = { ...k.choices };
      choices[event.key] = memory;
      return snapshotWith(k, { choices });
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function nodeOf(k: KnowledgeSnapshot, party: string): NodeState {
  return k.nodes[party] ?? { party, latest: {}, window: {}, markedOffline: false };
}

function foldReading(k: KnowledgeSnapshot, reading: MetricsReading): KnowledgeSnapshot {
  const nodes: Record<string, NodeState> = { ...k.nodes };
  for (const sample of reading.samples) {
    if (!Number.isFinite(sample.value)) continue;
    const node = nodes[sample.party] ?? nodeOf(k, sample.party);
    const latest = node.latest[sample.signal];
    if (latest !== undefined && latest.at > sample.at) continue;
    const entry: SignalReading = { value: sample.value, at: sample.at };
    const window = [...(node.window[sample.signal] ?? []).filter((r) => r.at !== sample.at), entry].slice(-k.settings.windowSize);
    nodes[sample.party] = { party: node.party, latest: { ...node.latest, [sample.signal]: entry }, window: { ...node.window, [sample.signal]: window }, markedOffline: node.markedOffline };
  }
  return snapshotWith(k, { at: Math.max(k.at, reading.at), nodes, monitor: { lastReadAt: reading.at, failures: reading.failures, error: undefined } });
}

function foldLessons(k: KnowledgeSnapshot, archetype: string, jobs: readonly JobLesson[], at: number): KnowledgeSnapshot {
  const rate = k.settings.learningRate;
  const blend = (old: number | undefined, next: number) => (old === undefined ? next : old + rate * (next - old));
  const outcomes: Record<string, LearnedOutcome> = { ...k.outcomes };
  for (const job of jobs) {
    const key = outcomeKey(archetype, job.party);
    const old = outcomes[key];
    const mb = job.dataBytes === undefined || job.dataBytes <= 0 ? undefined : job.dataBytes / 1e6;
    outcomes[key] = {
      jobs: (old?.jobs ?? 0) + 1,
      msPerMB: mb === undefined ? old?.msPerMB : blend(old?.msPerMB, job.durationMs / mb),
      joulesPerMB: mb === undefined ? old?.joulesPerMB : blend(old?.joulesPerMB, job.energyJoules / mb),
      cpuSeconds: blend(old?.cpuSeconds, job.cpuSeconds),
      energyJoules: blend(old?.energyJoules, job.energyJoules),
      updatedAt: at,
    };
  }
  return snapshotWith(k, { at: Math.max(k.at, at), outcomes });
}
