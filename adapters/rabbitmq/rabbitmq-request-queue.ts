import type { ConsumeMessage } from 'amqplib';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { QueuedRequest, QueueVerdict, RequestQueue } from '../../knowledge/ports/request-queue.js';
import { parseSettings } from '../../knowledge/problems.js';
import { AnswerLedger } from './answer-ledger.js';
import { rabbitMqConfigSchema } from './config.js';
import type { RabbitMqConfig, ResolvedRabbitMqConfig } from './config.js';
import { heldRequestOf, missingAnswerProperty } from './held-request.js';
import type { HeldRequest } from './held-request.js';
import { reconnectDelayMs } from './reconnect-backoff.js';
import { RabbitMqSession } from './rabbitmq-session.js';
import { publishVerdict, verdictWithinRetries } from './verdict-publisher.js';

/** What the queue has done so far, for health checks, `/metrics` and tests. */
export interface RabbitMqRequestQueueStats {
  /** Handler runs started (a redelivery joining a run, or of an answered id, starts none). */
  readonly handlerRuns: number;
  /** Answers published to a `replyTo` and confirmed by the broker. */
  readonly replies: number;
  /** Requests published to the dead-letter exchange and confirmed. */
  readonly deadLettered: number;
  /** Requests put back in the delay queue (a `retryLater` verdict) and confirmed. */
  readonly delayedForRetry: number;
  /** Deliveries of an id already answered or being handled: settled without a second run. */
  readonly duplicates: number;
  /** Successful reconnects after the connection was lost. */
  readonly reconnects: number;
  /** Answers computed while disconnected and published on reconnecting. */
  readonly answersPublishedOnReconnect: number;
  /** Deliveries being handled or waiting for their answer's confirm. */
  readonly unsettled: number;
  readonly connected: boolean;
}

/**
 * The request queue on RabbitMQ (knowledge/ports/request-queue.ts). Consumes a durable queue with
 * manual acks and a prefetch; answers go to each message's `replyTo` on a confirm channel, and a
 * request is acked only after its answer was confirmed. Requests nothing can answer go to the
 * dead-letter queue with an `x-dynamos-reason` header. A request is run and answered once per id
 * even when redelivered (see {@link AnswerLedger}). When the broker goes away it reconnects with
 * jittered exponential backoff on the injected clock; answers computed meanwhile are published
 * after reconnecting, and their redelivered requests acked without running again. A `retryLater`
 * request is put back in the delay queue (see verdict-publisher.ts) up to `maxRetries` times.
 */
export class RabbitMqRequestQueue implements RequestQueue {
  readonly name = 'rabbitmq';
  private readonly config: ResolvedRabbitMqConfig;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly ledger: AnswerLedger<HeldRequest>;
  private readonly inFlight = new Set<Promise<void>>();
  private handler: ((request: QueuedRequest) => Promise<QueueVerdict>) | undefined;
  private session: RabbitMqSession | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: { readonly id: unknown } | undefined;
  private failedAttempts = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly counts = { handlerRuns: 0, replies: 0, deadLettered: 0, delayedForRetry: 0, duplicates: 0, reconnects: 0, answersPublishedOnReconnect: 0 };

  /** @throws DynamosError CONFIG_INVALID when the config does not parse. */
  constructor(config: RabbitMqConfig, deps: { logger: Logger; clock: Clock }) {
    this.config = parseSettings(rabbitMqConfigSchema, config, 'the RabbitMQ config');
    this.logger = deps.logger.child({ adapter: 'rabbitmq', queue: this.config.queue });
    this.clock = deps.clock;
    this.ledger = new AnswerLedger(this.config.dedupeMemorySize);
  }

  stats(): RabbitMqRequestQueueStats {
    return { ...this.counts, unsettled: this.inFlight.size, connected: this.session?.alive ?? false };
  }

  /**
   * Connects, declares the queues and starts consuming; resolves once consuming.
   * @throws DynamosError ADAPTER_UNAVAILABLE when the first connection fails (no retry here: a
   *   wrong URL or credentials should surface at once; the caller may call start again),
   *   INTERNAL when started twice or closed.
   */
  async start(handle: (request: QueuedRequest) => Promise<QueueVerdict>): Promise<void> {
    if (this.handler !== undefined || this.closed) {
      throw new DynamosError('INTERNAL', `rabbitmq request queue ${this.closed ? 'is closed' : 'was started already'}`, { retryable: false });
    }
    this.handler = handle;
    try {
      await this.connectOnce();
    } catch (error) {
      this.handler = undefined;
      throw new DynamosError('ADAPTER_UNAVAILABLE', `rabbitmq: cannot consume "${this.config.queue}" at ${redactedUrl(this.config.url)}: ${messageOf(error)}`, { retryable: true, cause: error });
    }
    this.logger.info('consuming requests', { prefetch: this.config.prefetch });
  }

  /** Stops consuming, waits for the requests under way and their answers, disconnects. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer.id);
    this.reconnectTimer = undefined;
    await this.connecting?.catch(() => undefined);
    const session = this.session;
    await session?.cancel();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const kept = this.ledger.keptAnswers().length;
    if (kept > 0) this.logger.warn(`closed with ${kept} answers unpublished (no connection): the broker redelivers those requests to the next consumer, which runs them again`);
    this.session = undefined;
    await session?.close();
  }

  private connectOnce(): Promise<void> {
    this.connecting = this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const session = await RabbitMqSession.open(this.config, { clock: this.clock, logger: this.logger }, (s, reason) => this.onLost(s, reason));
    if (this.closed) return session.close();
    this.session = session;
    try {
      // Answers first, so the redeliveries the consumer is about to get find them answered.
      await this.publishKeptAnswers();
      await session.consume(this.config.queue, (message) => this.onDelivery(session, message));
    } catch (error) {
      if (this.session === session) this.session = undefined;
      await session.close();
      throw error;
    }
  }

  private onLost(session: RabbitMqSession, reason: string): void {
    if (session !== this.session) return;
    this.session = undefined;
    if (this.closed) return;
    this.logger.warn(`connection to the broker lost (${reason}): reconnecting; the broker redelivers the requests under way, and answers computed meanwhile are published after reconnecting`, {
      unsettled: this.inFlight.size,
    });
    this.scheduleReconnect();
  }

  /** Drops a session that still looks alive but cannot publish (unconfirmed answers), to start afresh. */
  private recycle(session: RabbitMqSession, reason: string): void {
    this.onLost(session, reason);
    void session.close();
  }

  private scheduleReconnect(): number | undefined {
    if (this.closed || this.reconnectTimer !== undefined) return undefined;
    this.failedAttempts += 1;
    const delayMs = reconnectDelayMs(this.failedAttempts, { minMs: this.config.reconnectMinDelayMs, maxMs: this.config.reconnectMaxDelayMs });
    this.reconnectTimer = {
      id: this.clock.setTimeout(() => {
        this.reconnectTimer = undefined;
        void this.reconnect();
      }, delayMs),
    };
    return delayMs;
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.connectOnce();
      if (this.closed) return;
      this.logger.info('reconnected to the broker; consuming again', { attempts: this.failedAttempts });
      this.failedAttempts = 0;
      this.counts.reconnects += 1;
    } catch (error) {
      const attempt = this.failedAttempts;
      const nextMs = this.scheduleReconnect();
      if (nextMs !== undefined) {
        this.logger.warn(`reconnect attempt ${attempt} failed (${messageOf(error)}): requests wait in the broker; next attempt in ${nextMs} ms`);
      }
    }
  }

  private onDelivery(session: RabbitMqSession, message: ConsumeMessage): void {
    const task: Promise<void> = this.settle(session, message)
      .catch((error: unknown) => {
        this.logger.error('a delivery could not be settled: it is requeued and handled again', { error: messageOf(error) });
        session.nack(message, true);
      })
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  /** Runs (or joins) the handling of one delivery, publishes its answer once, and acks it. */
  private async settle(session: RabbitMqSession, message: ConsumeMessage): Promise<void> {
    const held = heldRequestOf(message);
    const id = held.request.messageId;
    if (this.ledger.isAnswered(id)) {
      this.counts.duplicates += 1;
      this.logger.debug('redelivered request already answered: acknowledged without a second answer', { messageId: id });
      return session.ack(message);
    }
    const missing = missingAnswerProperty(held.request);
    const run = missing === undefined
      ? () => this.runHandler(held.request)
      : () => Promise.resolve<QueueVerdict>({ kind: 'poison', reason: `no ${missing}: nothing can receive the answer` });
    let handling = this.ledger.handle(id, held, run);
    if (!handling.started) this.counts.duplicates += 1;
    try {
      await handling.verdict;
    } catch (error) {
      const failures = this.ledger.failuresOf(id);
      if (failures < this.config.maxDeliveries) {
        this.logger.warn(`handler failed (${failures} of ${this.config.maxDeliveries} attempts): the request is redelivered`, { messageId: id, error: messageOf(error) });
        return session.nack(message, true);
      }
      const reason = `handler failed ${failures} times: ${messageOf(error)}`;
      handling = this.ledger.handle(id, held, () => Promise.resolve<QueueVerdict>({ kind: 'poison', reason }));
      await handling.verdict;
    }
    const published = await handling.publishOnce((request, verdict) => this.publishAnswer(request, verdict));
    if (published) session.ack(message);
    else if (session === this.session && session.alive) this.recycle(session, 'an answer was not confirmed');
  }

  private async runHandler(request: QueuedRequest): Promise<QueueVerdict> {
    const handle = this.handler;
    if (handle === undefined) throw new DynamosError('INTERNAL', 'rabbitmq request queue has no handler', { retryable: false });
    this.counts.handlerRuns += 1;
    const verdict = verdictWithinRetries(await handle(request), request.retries, this.config.maxRetries);
    if (verdict.kind === 'reply' && request.retries > 0) {
      this.logger.info(`request answered ${verdict.status} after ${request.retries} retries`, { messageId: request.messageId });
    }
    return verdict;
  }

  private async publishKeptAnswers(): Promise<void> {
    const ids = this.ledger.keptAnswers();
    if (ids.length === 0) return;
    this.logger.info(`publishing ${ids.length} answers computed while disconnected`);
    const results = await Promise.all(ids.map((id) => this.ledger.publishOnce(id, (request, verdict) => this.publishAnswer(request, verdict))));
    this.counts.answersPublishedOnReconnect += results.filter(Boolean).length;
    if (results.includes(false)) throw new DynamosError('ADAPTER_UNAVAILABLE', 'answers kept while disconnected were not confirmed', { retryable: true });
  }

  /** Publishes on the current session and waits for the broker's confirm. */
  private async publishAnswer(held: HeldRequest, verdict: QueueVerdict): Promise<void> {
    const session = this.session;
    const { messageId } = held.request;
    if (session === undefined || !session.alive) throw new DynamosError('ADAPTER_UNAVAILABLE', 'rabbitmq: not connected', { retryable: true });
    try {
      await publishVerdict(session, this.config, held, verdict);
    } catch (error) {
      this.logger.warn(verdict.kind === 'retryLater'
        ? 'a request could not be put back for a retry: the broker redelivers it after reconnecting'
        : 'an answer was not confirmed: it is kept and published again after reconnecting', { messageId, error: messageOf(error) });
      throw error;
    }
    if (verdict.kind === 'reply') {
      this.counts.replies += 1;
      verdict.confirmed?.();
    }
    else if (verdict.kind === 'poison') {
      this.counts.deadLettered += 1;
      this.logger.warn(`request dead-lettered to "${this.config.deadLetterQueue}": ${verdict.reason}`, { messageId });
    } else {
      this.counts.delayedForRetry += 1;
      this.logger.debug(`request put back in "${this.config.delayQueue}" for ${verdict.afterMs} ms`, { messageId, retries: held.request.retries + 1 });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
