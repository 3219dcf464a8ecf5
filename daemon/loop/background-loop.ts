import { createActor } from 'xstate';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { MetricSample, MetricsReading, MetricsSource, Signal } from '../../knowledge/ports/metrics-source.js';
import type { TelemetrySink } from '../../knowledge/ports/telemetry-sink.js';
import type { Symptom, SymptomSettings } from '../mape/symptoms.js';
import { findSymptoms } from '../mape/symptoms.js';
import { backgroundMachine } from './background-machine.js';
import type { LoopMetrics, RequestLoop } from './request-loop.js';

export interface BackgroundLoopDeps {
  readonly knowledge: KnowledgeBase;
  readonly source: MetricsSource | undefined;
  readonly requests: RequestLoop;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry?: TelemetrySink;
  readonly metrics?: LoopMetrics & {
    partyOnline?(party: string, online: boolean): void;
    staleness?(signal: string, party: string, seconds: number): void;
    /** The latest reading of each signal of each party, as read. */
    partySignal?(party: string, signal: Signal, value: number): void;
    /** The utility of the candidate a decision chose (strategies that score one). */
    decisionUtility?(archetype: string, utility: number): void;
  };
  /** @default 15000 */
  readonly periodMs: number;
  /** @default 300000 */
  readonly maxBackoffMs: number;
  readonly symptoms: SymptomSettings;
}

/**
 * Runs the background machine: Monitor reads metrics into the knowledge base, Analyze finds
 * symptoms, Plan/Execute act on them (cancel requests whose agreement was revoked; the rest
 * shapes the next decisions through the knowledge). Logs a symptom when it appears and when it
 * clears, not at every tick.
 */
export class BackgroundLoop {
  private readonly actor;
  private known = new Map<string, Symptom>();
  private readonly unsubscribe: () => void;
  /** Counts the times the loop acted; every log line carries the iteration it belongs to. */
  private iteration = 0;

  constructor(private readonly deps: BackgroundLoopDeps) {
    const parties = () => {
      const m = deps.knowledge.current().marketplace;
      return [...Object.keys(m.dataStewards), ...Object.keys(m.computeProviders)];
    };
    this.actor = createActor(backgroundMachine, {
      clock: deps.clock,
      input: {
        deps: {
          read: (signal) => (deps.source === undefined ? Promise.resolve<MetricsReading>({ at: deps.clock.now(), samples: [], failures: [] }) : deps.source.read(parties(), signal)),
          readDone: (reading) => this.readDone(reading),
          readFailed: (error, failures) => this.readFailed(error, failures),
          act: () => this.actSafely(),
          periodMs: deps.periodMs,
          maxBackoffMs: deps.maxBackoffMs,
        },
      },
    });
    this.actor.subscribe({ error: (error) => this.deps.logger.error('the background loop stopped on an error', { error: String(error) }) });
    // A change of policy or of a party's status reaches running work at once, not at the next tick.
    // Every choice passes through the knowledge base too, so its utility reaches /metrics here
    // without the request loop feeding one more metric.
    this.unsubscribe = deps.knowledge.onChange((_, event) => {
      if (event.kind === 'marketplaceChanged' || event.kind === 'partyMarked') this.check();
      if (event.kind === 'choiceMade' && event.utility !== undefined) deps.metrics?.decisionUtility?.(event.archetype, event.utility);
    });
  }

  start(): void {
    this.actor.start();
  }

  /** Acts on the current knowledge now. */
  check(): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'CHECK' });
  }

  /** Reads metrics now. */
  refresh(): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'REFRESH' });
  }

  get iterations(): number {
    return this.actor.getSnapshot().context.iterations;
  }

  stop(): void {
    this.unsubscribe();
    this.actor.stop();
  }

  /** The logger of the iteration a read leads into, or of the one acting now. */
  private log(iteration: number): Logger {
    return this.deps.logger.child({ loop: 'background', iteration });
  }

  private readDone(reading: MetricsReading): void {
    this.deps.knowledge.apply({ kind: 'metricsRead', reading });
    if (reading.samples.length > 0) this.deps.telemetry?.recordSamples(reading.samples);
    for (const sample of newestPerSignal(reading.samples)) this.deps.metrics?.partySignal?.(sample.party, sample.signal, sample.value);
    const log = this.log(this.iteration + 1);
    for (const failure of reading.failures) log.debug('a signal could not be read', { ...failure });
  }

  private readFailed(error: unknown, failures: number): void {
    const message = error instanceof Error ? error.message : String(error);
    this.deps.metrics?.loopError('background');
    this.deps.knowledge.apply({ kind: 'metricsFailed', at: this.deps.clock.now(), error: message });
    this.log(this.iteration + 1).warn('reading metrics failed; decisions use what is known, utility falls back when it is stale', { error: message, failures });
  }

  /** An error while acting is logged and counted; the loop goes on (it must never stop the daemon). */
  private actSafely(): void {
    const log = this.log(++this.iteration);
    try {
      this.act(log);
    } catch (error) {
      this.deps.metrics?.loopError('background');
      log.error('acting on the symptoms failed; the loop goes on', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  private act(log: Logger): void {
    const { deps } = this;
    deps.metrics?.iteration('background');
    const k = deps.knowledge.at(deps.clock.now());
    const now = new Map<string, Symptom>();
    for (const symptom of findSymptoms(k, deps.symptoms)) now.set(keyOf(symptom), symptom);
    for (const [key, symptom] of now) {
      if (symptom.kind === 'revoked') {
        if (deps.requests.cancel(symptom.requestId, 'AGREEMENT_REVOKED', symptom.reason)) {
          log.warn('cancelled a request its agreement no longer allows', { requestId: symptom.requestId, reason: symptom.reason });
        }
      } else if (!this.known.has(key)) {
        log.info('symptom appeared', { ...symptom });
      }
    }
    for (const [key, symptom] of this.known) if (!now.has(key) && symptom.kind !== 'revoked') log.info('symptom cleared', { ...symptom });
    this.known = now;
    const m = k.marketplace;
    for (const party of [...Object.keys(m.dataStewards), ...Object.keys(m.computeProviders)]) {
      deps.metrics?.partyOnline?.(party, !now.has(`offline:${party}`));
      for (const [signal, reading] of Object.entries(k.nodes[party]?.latest ?? {})) {
        deps.metrics?.staleness?.(signal, party, Math.max(0, (k.at - reading.at) / 1000));
      }
    }
  }
}

/** One sample per party and signal, the newest: a reading may hold older observations too. */
function newestPerSignal(samples: readonly MetricSample[]): MetricSample[] {
  const newest = new Map<string, MetricSample>();
  for (const sample of samples) {
    const key = `${sample.party}\u0000${sample.signal}`;
    const known = newest.get(key);
    if (known === undefined || sample.at >= known.at) newest.set(key, sample);
  }
  return [...newest.values()];
}

function keyOf(s: Symptom): string {
  switch (s.kind) {
    case 'offline':
      return `offline:${s.party}`;
    case 'overloaded':
      return `overloaded:${s.party}:${s.signal}`;
    case 'stale':
      return `stale:${s.party}:${s.signal}`;
    case 'monitorFailing':
      return 'monitorFailing';
    case 'revoked':
      return `revoked:${s.requestId}`;
    default: {
      const _exhaustive: never = s;
      return _exhaustive;
    }
  }
}
