import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { MetricSample, MetricsReading, MetricsSource, Signal } from '../../knowledge/ports/metrics-source.js';
import { signals } from '../../knowledge/ports/metrics-source.js';

/** The same defaults as the Prometheus adapter's, so tests and replays judge staleness alike. */
export const defaultFakeStaleAfterMs: Readonly<Record<Signal, number>> = {
  cpu: 30_000,
  memory: 30_000,
  queueDepth: 30_000,
  powerWatts: 60_000,
  up: 30_000,
};

/**
 * The state of the monitored world (docs/conventions.md: a fake is a small world): the latest value of each
 * party's signals and when it was observed, which signals cannot be read, and whether the
 * monitoring system answers at all. Tests and replays change it; {@link FakeMetricsSource} reads it.
 */
export class FakeMetricsWorld {
  private readonly values = new Map<string, Map<Signal, { value: number; at: number }>>();
  private readonly broken = new Map<Signal, string>();
  private outage_: string | undefined;

  constructor(private readonly clock: Clock) {}

  /** A party's signal now has `value`, observed at `at` (default: now). */
  set(party: string, signal: Signal, value: number, at: number = this.clock.now()): this {
    let signalsOf = this.values.get(party);
    if (signalsOf === undefined) this.values.set(party, (signalsOf = new Map()));
    signalsOf.set(signal, { value, at });
    return this;
  }

  /** Forgets a party's signal, or all its signals: as if its exporter vanished. */
  clear(party: string, signal?: Signal): this {
    if (signal === undefined) this.values.delete(party);
    else this.values.get(party)?.delete(signal);
    return this;
  }

  /** Every read lists `signal` as failed with `reason` until {@link heal}. */
  fail(signal: Signal, reason: string): this {
    this.broken.set(signal, reason);
    return this;
  }

  heal(signal: Signal): this {
    this.broken.delete(signal);
    return this;
  }

  /** The monitoring system stops answering: reads reject. */
  down(reason = 'connection refused'): this {
    this.outage_ = reason;
    return this;
  }

  up(): this {
    this.outage_ = undefined;
    return this;
  }

  /** The party's latest value of `signal`, if any. */
  valueOf(party: string, signal: Signal): { readonly value: number; readonly at: number } | undefined {
    return this.values.get(party)?.get(signal);
  }

  /** Why `signal` cannot be read, when {@link fail} broke it. */
  failureOf(signal: Signal): string | undefined {
    return this.broken.get(signal);
  }

  /** Why the monitoring system does not answer, when it is {@link down}. */
  get outage(): string | undefined {
    return this.outage_;
  }
}

export interface FakeMetricsSourceOptions {
  readonly clock: Clock;
  /** Per signal; unnamed signals keep {@link defaultFakeStaleAfterMs}. */
  readonly staleAfterMs?: Partial<Record<Signal, number>>;
}

/**
 * MetricsSource over a {@link FakeMetricsWorld}, with the Prometheus adapter's rules: only asked
 * parties are returned; a missing, failed or stale signal is listed in `failures`, not thrown; a
 * world that is down rejects with ADAPTER_UNAVAILABLE (retryable).
 */
export class FakeMetricsSource implements MetricsSource {
  readonly name = 'fake metrics';
  private readonly staleAfterMs: Readonly<Record<Signal, number>>;
  private closed = false;

  constructor(
    readonly world: FakeMetricsWorld,
    private readonly opts: FakeMetricsSourceOptions,
  ) {
    this.staleAfterMs = { ...defaultFakeStaleAfterMs, ...opts.staleAfterMs };
  }

  async read(parties: readonly string[], signal?: AbortSignal): Promise<MetricsReading> {
    if (this.closed) throw new DynamosError('INTERNAL', 'the fake metrics source is closed', { retryable: false });
    signal?.throwIfAborted();
    const outage = this.world.outage;
    if (outage !== undefined) {
      throw new DynamosError('ADAPTER_UNAVAILABLE', `the fake metrics world is down: ${outage}`, { retryable: true });
    }
    const now = this.opts.clock.now();
    const asked = [...new Set(parties)];
    const samples: MetricSample[] = [];
    const failures: { signal: Signal; reason: string }[] = [];
    for (const s of signals) {
      const reason = this.world.failureOf(s);
      if (reason !== undefined) {
        if (asked.length > 0) failures.push({ signal: s, reason });
        continue;
      }
      const missing: string[] = [];
      const stale: string[] = [];
      for (const party of asked) {
        const v = this.world.valueOf(party, s);
        if (v === undefined) missing.push(party);
        else if (now - v.at > this.staleAfterMs[s]) {
          stale.push(`${party}: stale (newest sample ${((now - v.at) / 1000).toFixed(1)} s old, staleAfterMs ${this.staleAfterMs[s]})`);
        } else samples.push({ party, signal: s, value: v.value, at: v.at });
      }
      const reasons = [...(missing.length === 0 ? [] : [`no series for ${missing.join(', ')}`]), ...stale];
      if (reasons.length > 0) failures.push({ signal: s, reason: reasons.join('; ') });
    }
    return { at: now, samples, failures };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A fresh world and a source reading it. */
export function createFakeMetrics(opts: FakeMetricsSourceOptions): { world: FakeMetricsWorld; source: FakeMetricsSource } {
  const world = new FakeMetricsWorld(opts.clock);
  return { world, source: new FakeMetricsSource(world, opts) };
}
