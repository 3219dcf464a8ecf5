import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { MetricSample, MetricsReading, MetricsSource, Signal } from '../../knowledge/ports/metrics-source.js';
import { signals } from '../../knowledge/ports/metrics-source.js';
import type { PrometheusConfig, ResolvedPrometheusConfig } from './config.js';
import { resolvePrometheusConfig } from './config.js';
import { readSignal } from './read-signal.js';

/**
 * MetricsSource over Prometheus's HTTP API, for clusters: node_exporter or cAdvisor for CPU and
 * memory, the RabbitMQ exporter for queue depth, Kepler for power, `up` for liveness. Every signal
 * is read by instant queries (see `default-queries.ts`), all signals in parallel, each under its
 * own `timeoutMs`; a party is whatever value its `partyLabel` label has.
 *
 * A signal that cannot be read is listed in the reading's `failures` with the reason (timed out,
 * HTTP status, no series for a party, a stale or implausible value); `read` rejects only when
 * Prometheus answered none of the queries.
 */
export class PrometheusMetricsSource implements MetricsSource {
  readonly name: string;
  private readonly config: ResolvedPrometheusConfig;
  private readonly endpoint: URL;
  private readonly headers: Readonly<Record<string, string>>;
  /**
   * One controller per read in flight, aborted by `close()`. Not one long-lived signal joined to
   * each read with AbortSignal.any: on Node 20 a source signal keeps every dependent it ever had,
   * a slow leak in a daemon that reads every few seconds for months.
   */
  private readonly inFlight = new Set<AbortController>();
  private closed = false;
  /** The last reason each signal failed for, so a lasting failure is logged once, not every read. */
  private readonly failing = new Map<Signal, string>();

  /** @throws DynamosError CONFIG_INVALID */
  constructor(
    config: PrometheusConfig,
    private readonly deps: { readonly logger: Logger; readonly clock: Clock },
  ) {
    this.config = resolvePrometheusConfig(config);
    const base = this.config.url.endsWith('/') ? this.config.url : `${this.config.url}/`;
    this.endpoint = new URL('api/v1/query', base);
    this.headers = { ...this.config.headers, ...authorization(this.config.auth) };
    this.name = `prometheus ${this.config.url}`;
  }

  /**
   * @throws DynamosError (retryable) ADAPTER_TIMEOUT when every query timed out, ADAPTER_UNAVAILABLE
   * when no query was answered for another reason; INTERNAL after `close()`; the caller's abort
   * reason when `signal` aborts.
   */
  async read(parties: readonly string[], signal?: AbortSignal): Promise<MetricsReading> {
    if (this.closed) throw closedError();
    signal?.throwIfAborted();
    const asked = [...new Set(parties)];
    if (asked.length === 0) return { at: this.deps.clock.now(), samples: [], failures: [] };
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(controller);
    try {
      return await this.readAll(asked, controller.signal);
    } finally {
      this.inFlight.delete(controller);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Idempotent; aborts reads in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort(closedError());
    this.inFlight.clear();
  }

  private async readAll(asked: readonly string[], abort: AbortSignal): Promise<MetricsReading> {
    const outcomes = await Promise.all(
      signals.map(async (s) => ({
        signal: s,
        ...(await readSignal({
          endpoint: this.endpoint,
          headers: this.headers,
          signal: s,
          alternatives: this.config.queries[s],
          parties: asked,
          partyLabel: this.config.partyLabel,
          staleAfterMs: this.config.staleAfterMs[s],
          timeoutMs: this.config.timeoutMs,
          abort,
        })),
      })),
    );
    const failures = outcomes.flatMap((o) => (o.failure === undefined ? [] : [{ signal: o.signal, reason: o.failure }]));
    this.logChanges(outcomes);
    if (outcomes.every((o) => !o.answered)) {
      const reasons = [...new Set(failures.map((f) => f.reason))];
      const timedOut = reasons.every((r) => r === `timed out after ${this.config.timeoutMs} ms`);
      throw new DynamosError(timedOut ? 'ADAPTER_TIMEOUT' : 'ADAPTER_UNAVAILABLE', `Prometheus at ${this.config.url} answered no query: ${reasons.join('; ')}`, {
        retryable: true,
        details: { url: this.config.url, failures },
      });
    }
    const samples: MetricSample[] = outcomes.flatMap((o) => o.samples);
    return { at: this.deps.clock.now(), samples, failures };
  }

  private logChanges(outcomes: readonly { signal: Signal; failure?: string }[]): void {
    for (const { signal, failure } of outcomes) {
      const before = this.failing.get(signal);
      if (failure === before) continue;
      if (failure === undefined) {
        this.failing.delete(signal);
        this.deps.logger.info('prometheus: signal readable again', { source: this.name, signal });
      } else {
        this.failing.set(signal, failure);
        this.deps.logger.warn('prometheus: signal not read; the loop sees no value for the parties named', {
          source: this.name,
          signal,
          reason: failure,
        });
      }
    }
  }
}

function authorization(auth: ResolvedPrometheusConfig['auth']): Record<string, string> {
  if (auth === undefined) return {};
  switch (auth.type) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    default: {
      const _exhaustive: never = auth;
      return _exhaustive;
    }
  }
}

function closedError(): DynamosError {
  return new DynamosError('INTERNAL', 'the Prometheus metrics source is closed', { retryable: false });
}
