import http from 'node:http';
import https from 'node:https';
import { InfluxDB } from 'influx';
import type { IPoint, IPoolOptions } from 'influx';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { MetricSample } from '../../knowledge/ports/metrics-source.js';
import type { TelemetrySink } from '../../knowledge/ports/telemetry-sink.js';
import { parseSettings } from '../../knowledge/problems.js';
import { influxConfigSchema } from './config.js';
import type { InfluxConfig, ResolvedInfluxConfig } from './config.js';
import { decisionPoint, samplePoint } from './influx-points.js';

/** What the sink has done so far, for health checks, `/metrics` and tests. */
export interface InfluxTelemetrySinkStats {
  /** Points InfluxDB accepted. */
  readonly written: number;
  /** Points dropped from a full buffer, recorded after close, or still unwritten at close. */
  readonly dropped: number;
  /** Points InfluxDB refused (HTTP 400) or that cannot be stored (a NaN value): never retried. */
  readonly rejected: number;
  /** Points waiting to be written, including the batch being written. */
  readonly buffered: number;
  /** Writes that failed in a row; 0 while the store answers. */
  readonly consecutiveFailures: number;
  /** Why the last write failed; kept after recovery for diagnosis. */
  readonly lastError: string | undefined;
}

type WriteResult = 'written' | 'rejected' | 'failed';

type BackoffStrategy = NonNullable<IPoolOptions['backoff']>;

/** The pool's own host backoff uses real timers; ours runs on the injected clock instead. */
const noHostBackoff: BackoffStrategy = { getDelay: () => 0, next: () => noHostBackoff, reset: () => noHostBackoff };

/**
 * Writes decisions and metric samples to InfluxDB 1.x (measurements `decisions` and `samples`,
 * docs/telemetry.md). Recording only appends to a bounded buffer and returns; a background write
 * runs every `flushIntervalMs`, or at once when `batchSize` points wait. When a write fails, the
 * points stay buffered and the write is retried with a doubling delay up to `maxRetryDelayMs`;
 * beyond `bufferSize` the oldest points are dropped and counted. Nothing here throws into callers.
 */
export class InfluxTelemetrySink implements TelemetrySink {
  readonly name = 'influx';
  private readonly config: ResolvedInfluxConfig;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly agent: http.Agent;
  private readonly client: InfluxDB;
  private queue: IPoint[] = [];
  private inFlight = 0;
  private chain: Promise<void> = Promise.resolve();
  private kickPending = false;
  private timer: { id: unknown } | undefined;
  private databaseReady = false;
  private failures = 0;
  private droppingLogged = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private written = 0;
  private droppedPoints = 0;
  private rejected = 0;
  private lastError: string | undefined;

  /** @throws DynamosError CONFIG_INVALID when the config does not parse. */
  constructor(config: InfluxConfig, deps: { logger: Logger; clock: Clock }) {
    this.config = parseSettings(influxConfigSchema, config, 'the InfluxDB config');
    this.logger = deps.logger.child({ adapter: 'influx', database: this.config.database });
    this.clock = deps.clock;
    const url = new URL(this.config.url);
    const secure = url.protocol === 'https:';
    this.agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.client = new InfluxDB({
      protocol: secure ? 'https' : 'http',
      host: url.hostname,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
      options: { agent: this.agent, timeout: this.config.timeoutMs },
      database: this.config.database,
      ...(this.config.username === undefined ? {} : { username: this.config.username, password: this.config.password ?? '' }),
      pool: { maxRetries: 0, requestTimeout: this.config.timeoutMs, backoff: noHostBackoff },
    });
  }

  recordDecision(record: DecisionRecord): void {
    if (this.closed) {
      this.droppedPoints += 1;
      return;
    }
    try {
      this.enqueue([decisionPoint(record)]);
    } catch (error) {
      this.rejected += 1;
      this.logger.error('decision not recorded: it could not be turned into a point', { requestId: record.requestId, error: String(error) });
    }
  }

  recordSamples(samples: readonly MetricSample[]): void {
    if (this.closed) {
      this.droppedPoints += samples.length;
      return;
    }
    const points: IPoint[] = [];
    for (const sample of samples) {
      const point = samplePoint(sample);
      if (point === undefined) this.rejected += 1;
      else points.push(point);
    }
    if (points.length > 0) this.enqueue(points);
  }

  /** Writes everything buffered now; resolves when written, or when a write failed. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** Flushes once more, counts what is still unwritten as dropped, and stops. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Resolves when no write is running or queued (background writes included). */
  idle(): Promise<void> {
    return this.chain;
  }

  get dropped(): number {
    return this.droppedPoints;
  }

  stats(): InfluxTelemetrySinkStats {
    return {
      written: this.written,
      dropped: this.droppedPoints,
      rejected: this.rejected,
      buffered: this.queue.length + this.inFlight,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
    };
  }

  private enqueue(points: readonly IPoint[]): void {
    for (const point of points) this.queue.push(point);
    this.trim();
    if (this.queue.length >= this.config.batchSize && this.failures === 0) this.kick();
    else this.arm(this.config.flushIntervalMs);
  }

  /** Drops the oldest waiting points beyond `bufferSize` (the batch in flight is never cut). */
  private trim(): void {
    const excess = this.queue.length + this.inFlight - this.config.bufferSize;
    if (excess <= 0) return;
    this.queue.splice(0, excess);
    this.droppedPoints += excess;
    if (!this.droppingLogged) {
      this.droppingLogged = true;
      this.logger.warn('telemetry buffer full: dropping the oldest points until InfluxDB takes writes again', {
        bufferSize: this.config.bufferSize,
        lastError: this.lastError,
      });
    }
  }

  /** Starts a background write, unless one is already waiting to start. */
  private kick(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    this.chain = this.chain.then(() => {
      this.kickPending = false;
      return this.drain();
    });
  }

  private arm(delayMs: number): void {
    if (this.timer !== undefined || this.closed) return;
    const timer = { id: undefined as unknown };
    timer.id = this.clock.setTimeout(() => {
      if (this.timer === timer) this.timer = undefined;
      this.kick();
    }, delayMs);
    this.timer = timer;
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer.id);
    this.timer = undefined;
  }

  /** Writes batches until the buffer is empty or a write fails; never rejects. */
  private async drain(): Promise<void> {
    this.disarm();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.config.batchSize);
      this.inFlight = batch.length;
      const result = await this.write(batch);
      this.inFlight = 0;
      if (result === 'failed') {
        this.queue = batch.concat(this.queue);
        this.trim();
        this.failures += 1;
        this.disarm();
        this.arm(this.retryDelayMs());
        return;
      }
      if (this.failures > 0) {
        this.logger.info('InfluxDB takes writes again', { written: this.written, dropped: this.droppedPoints });
        this.failures = 0;
        this.droppingLogged = false;
      }
    }
  }

  private retryDelayMs(): number {
    const doubled = this.config.flushIntervalMs * 2 ** Math.min(this.failures, 30);
    return Math.min(doubled, this.config.maxRetryDelayMs);
  }

  private async write(batch: IPoint[]): Promise<WriteResult> {
    try {
      if (!this.databaseReady) {
        await this.client.createDatabase(this.config.database);
        this.databaseReady = true;
      }
      await this.client.writePoints(batch, {
        database: this.config.database,
        precision: 'n',
        ...(this.config.retentionPolicy === undefined ? {} : { retentionPolicy: this.config.retentionPolicy }),
      });
      this.written += batch.length;
      return 'written';
    } catch (error) {
      return this.failed(error, batch.length);
    }
  }

  private failed(error: unknown, points: number): WriteResult {
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = message === '' ? String(error) : message;
    const status = typeof error === 'object' && error !== null ? (error as { res?: { statusCode?: number } }).res?.statusCode : undefined;
    if (status === 404 || /database not found/i.test(message)) this.databaseReady = false;
    if (status === 400) {
      this.rejected += points;
      this.logger.error('InfluxDB refused a batch of points; they are not retried', { points, error: this.lastError });
      return 'rejected';
    }
    if (this.failures === 0) {
      this.logger.warn('InfluxDB write failed: telemetry stays buffered and is retried with backoff', {
        url: this.config.url,
        buffered: this.queue.length + points,
        bufferSize: this.config.bufferSize,
        error: this.lastError,
      });
    }
    return 'failed';
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.disarm();
    await this.flush();
    const left = this.queue.length;
    if (left > 0) {
      this.droppedPoints += left;
      this.queue = [];
      this.logger.warn('closing with telemetry InfluxDB did not take: the points are dropped', { points: left, error: this.lastError });
    }
    this.agent.destroy();
  }
}
