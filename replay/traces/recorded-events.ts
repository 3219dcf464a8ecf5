import { lessonsOf, outcomeSummary } from '../../daemon/loop/decision-recorder.js';
import type { RequestOutcome } from '../../daemon/mape/request-outcome.js';
import { canonicalJson } from '../../knowledge/canonical-json.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import type { DataSteward, MarketplaceConfig } from '../../knowledge/marketplace/marketplace-schema.js';
import type { JobReport } from '../../knowledge/ports/job-runner.js';
import type { MetricsReading, Signal } from '../../knowledge/ports/metrics-source.js';
import type { TraceEventInput } from './trace-format.js';

/**
 * What the daemon sees, as trace events (docs/traces.md, "Recording a live run"). Pure: the
 * recorder decides when and at which trace time; these decide what is written.
 */

type Event<K extends TraceEventInput['kind']> = Extract<TraceEventInput, { kind: K }>;

/** A request as the daemon parsed it. The query text is not kept: its tables are what policy needs. */
export function requestEventOf(request: DataRequest, at: number): Event<'request'> {
  return {
    kind: 'request',
    at,
    id: request.id,
    requester: request.requester,
    requestType: request.type,
    providers: [...request.providers],
    tables: [...request.tables],
    algorithm: request.algorithm,
    options: { ...request.options },
  };
}

/**
 * One `metrics` event per party of a Monitor reading, with the party's latest value of each
 * signal. Values are kept inside the format's ranges (a CPU share read as 1.02 is 1), and values
 * that are not numbers are left out, as the knowledge base leaves them out.
 */
export function metricsEventsOf(reading: MetricsReading, at: number): Event<'metrics'>[] {
  const latest = new Map<string, Map<Signal, { value: number; at: number }>>();
  for (const sample of reading.samples) {
    if (!Number.isFinite(sample.value)) continue;
    const party = latest.get(sample.party) ?? new Map<Signal, { value: number; at: number }>();
    latest.set(sample.party, party);
    const seen = party.get(sample.signal);
    if (seen === undefined || seen.at <= sample.at) party.set(sample.signal, { value: sample.value, at: sample.at });
  }
  return [...latest].map(([party, values]) => {
    const event: Event<'metrics'> = { kind: 'metrics', at, party };
    for (const [signal, { value }] of values) {
      if (signal === 'up') event.up = value > 0 ? 1 : 0;
      else event[signal] = signal === 'cpu' || signal === 'memory' ? Math.min(1, Math.max(0, value)) : Math.max(0, value);
    }
    return event;
  });
}

type Agreement = Pick<DataSteward, 'archetypes' | 'computeProviders' | 'mandatedServices' | 'relations'>;

/** A steward's whole agreement: given in full, it replaces the old one (`PUT /api/v1/agreements`). */
export function agreementOf(steward: DataSteward): Agreement {
  return { archetypes: steward.archetypes, computeProviders: steward.computeProviders, mandatedServices: steward.mandatedServices, relations: steward.relations };
}

/**
 * The `agreement` events of a marketplace change: one per steward whose agreement differs. A trace
 * carries only agreement changes; anything else that changed (a steward added, a dataset, the
 * catalog) is named in `untraceable`, so the recorder can say that a replay will not see it.
 */
export function agreementEventsOf(before: MarketplaceConfig, after: MarketplaceConfig, at: number): { events: Event<'agreement'>[]; untraceable: string[] } {
  const events: Event<'agreement'>[] = [];
  const untraceable: string[] = [];
  const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
  for (const [steward, next] of Object.entries(after.dataStewards)) {
    const old = Object.hasOwn(before.dataStewards, steward) ? before.dataStewards[steward] : undefined;
    if (old === undefined) {
      untraceable.push(`dataStewards.${steward} (added)`);
      continue;
    }
    if (!same(agreementOf(old), agreementOf(next))) events.push({ kind: 'agreement', at, steward, agreement: agreementOf(next) });
    for (const key of ['description', 'datasets'] as const) if (!same(old[key], next[key])) untraceable.push(`dataStewards.${steward}.${key}`);
  }
  for (const steward of Object.keys(before.dataStewards)) if (!Object.hasOwn(after.dataStewards, steward)) untraceable.push(`dataStewards.${steward} (removed)`);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete('dataStewards');
  for (const key of keys) if (!same(before[key as keyof MarketplaceConfig], after[key as keyof MarketplaceConfig])) untraceable.push(key);
  return { events, untraceable };
}

/**
 * How a request ended: the result as the decision log names it, the archetype and TTP that ran
 * (null when none did), and per job its time, CPU, energy and, when the knowledge base knows it,
 * the data it handled (the same figure the daemon learns from).
 */
export function outcomeEventOf(outcome: RequestOutcome, k: KnowledgeSnapshot, energyOf: (report: JobReport) => number, at: number): Event<'outcome'> {
  const deployed = outcome.plan?.kind === 'deploy' ? outcome.plan : undefined;
  const reports = outcome.kind === 'completed' ? outcome.result.jobs : [];
  const dataBytesOf = new Map(lessonsOf(outcome, k, energyOf).map((lesson) => [lesson.party, lesson.dataBytes]));
  return {
    kind: 'outcome',
    at,
    requestId: outcome.request.id,
    result: outcomeSummary(outcome, energyOf).kind,
    archetype: deployed?.archetype ?? null,
    ttp: deployed?.ttp ?? null,
    latencyMs: outcome.timings.totalMs,
    jobs: reports.map((job) => {
      const dataBytes = dataBytesOf.get(job.party);
      return { party: job.party, durationMs: job.durationMs, cpuSeconds: job.cpuSeconds, energyJoules: energyOf(job), ...(dataBytes === undefined ? {} : { dataBytes }) };
    }),
  };
}
