import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import { systemClock } from '../../knowledge/ports/clock.js';

/** The AMQP properties the fake broker models. */
export interface FakeMessageProperties {
  readonly messageId?: string;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** An answer as it sits in a reply queue. */
export interface FakeReply {
  readonly correlationId: string | undefined;
  readonly messageId: string | undefined;
  readonly status: number;
  readonly body: unknown;
}

/** A request in the dead-letter queue, with the reason its `x-dynamos-reason` header carries. */
export interface FakeDeadLetter {
  readonly body: Uint8Array;
  readonly properties: FakeMessageProperties;
  readonly reason: string;
}

/** @internal a message as a queue holds it */
export interface StoredMessage {
  readonly body: Uint8Array;
  readonly properties: FakeMessageProperties;
  readonly redelivered: boolean;
}

/** @internal one connection's consumer, as the broker sees it */
export interface FakeConsumer {
  readonly prefetch: number;
  deliver(tag: number, message: StoredMessage): void;
  lost(): void;
}

/**
 * A small in-memory broker (docs/conventions.md: a fake is a small world): the request queue, reply queues, the
 * dead-letter queue, and one consumer at a time with a prefetch. `down()` drops the connection as
 * a broker restart does: unacknowledged requests go back to the head of the queue marked
 * redelivered, and publishing fails until `up()`, when the queues that were consuming reconnect.
 * The delay queue keeps requests until they expire on the broker's clock and then moves them to the
 * request queue, as RabbitMQ dead-letters them: only from its head, so a request waits for the
 * ones put back before it (RabbitMQ expires per-message TTLs at the head of a queue only).
 */
export class FakeRequestBroker {
  readonly deadLetters: FakeDeadLetter[] = [];
  readonly queueName: string;
  private readonly clock: Clock;
  private readonly ready: StoredMessage[] = [];
  private readonly delayQueue: { readonly message: StoredMessage; readonly expiresAt: number }[] = [];
  private readonly unacked = new Map<number, { readonly message: StoredMessage; readonly consumer: FakeConsumer }>();
  private readonly replyQueues = new Map<string, FakeReply[]>();
  private readonly reconnecting = new Set<() => void>();
  private consumer: FakeConsumer | undefined;
  private nextTag = 1;
  private isUp = true;

  constructor(options: { readonly queueName?: string; readonly clock?: Clock } = {}) {
    this.queueName = options.queueName ?? 'dynamos.requests';
    this.clock = options.clock ?? systemClock;
  }

  get online(): boolean {
    return this.isUp;
  }

  /** Requests not yet acknowledged: waiting in the queue or delivered and unsettled. */
  get pending(): number {
    return this.ready.length + this.unacked.size;
  }

  /** A requester publishes a request (persistent: it survives `down()`). */
  publishRequest(body: string | Uint8Array, properties: FakeMessageProperties = {}): void {
    this.ready.push({ body: typeof body === 'string' ? new TextEncoder().encode(body) : body, properties, redelivered: false });
    this.dispatch();
  }

  /** Requests in the delay queue, waiting to expire back into the request queue. */
  get delayed(): number {
    return this.delayQueue.length;
  }

  /** The answers in reply queue `replyTo`, oldest first. */
  replies(replyTo: string): readonly FakeReply[] {
    return this.replyQueues.get(replyTo) ?? [];
  }

  /** The connection drops: unacknowledged requests are requeued (redelivered), the consumer is gone. */
  down(): void {
    this.isUp = false;
    const requeued = [...this.unacked.entries()].sort(([a], [b]) => a - b).map(([, u]) => ({ ...u.message, redelivered: true }));
    this.unacked.clear();
    this.ready.unshift(...requeued);
    const consumer = this.consumer;
    this.consumer = undefined;
    consumer?.lost();
  }

  /** The broker is back; queues that lost their connection reconnect. */
  up(): void {
    this.isUp = true;
    const waiting = [...this.reconnecting];
    this.reconnecting.clear();
    for (const reconnect of waiting) reconnect();
  }

  restart(): void {
    this.down();
    this.up();
  }

  /** @internal for FakeRequestQueue */
  subscribe(consumer: FakeConsumer): void {
    this.requireUp();
    this.consumer = consumer;
    this.dispatch();
  }

  /** @internal the consumer's channel closes: what it had not acknowledged is requeued (redelivered). */
  unsubscribe(consumer: FakeConsumer): void {
    if (this.consumer === consumer) this.consumer = undefined;
    const held = [...this.unacked.entries()].filter(([, u]) => u.consumer === consumer).sort(([a], [b]) => a - b);
    for (const [tag] of held) this.unacked.delete(tag);
    this.ready.unshift(...held.map(([, u]) => ({ ...u.message, redelivered: true })));
    this.dispatch();
  }

  /** @internal called when the broker is up again */
  whenUp(reconnect: () => void): void {
    if (this.isUp) reconnect();
    else this.reconnecting.add(reconnect);
  }

  /** @internal settles a delivery; a tag from a lost connection is ignored (already requeued). */
  settle(consumer: FakeConsumer, tag: number, outcome: 'ack' | 'requeue'): void {
    const held = this.unacked.get(tag);
    if (held?.consumer !== consumer || !this.isUp) return;
    this.unacked.delete(tag);
    if (outcome === 'requeue') this.ready.unshift({ ...held.message, redelivered: true });
    this.dispatch();
  }

  /** @internal a confirmed publish to a reply queue */
  publishReply(replyTo: string, reply: FakeReply): void {
    this.requireUp();
    let queue = this.replyQueues.get(replyTo);
    if (queue === undefined) this.replyQueues.set(replyTo, (queue = []));
    queue.push(reply);
  }

  /** @internal a confirmed publish to the dead-letter exchange */
  publishDeadLetter(deadLetter: FakeDeadLetter): void {
    this.requireUp();
    this.deadLetters.push(deadLetter);
  }

  /** @internal a confirmed publish to the delay queue, expiring after `afterMs` on the broker's clock */
  publishDelayed(message: { readonly body: Uint8Array; readonly properties: FakeMessageProperties }, afterMs: number): void {
    this.requireUp();
    this.delayQueue.push({ message: { ...message, redelivered: false }, expiresAt: this.clock.now() + afterMs });
    this.clock.setTimeout(() => this.releaseExpired(), afterMs);
  }

  private releaseExpired(): void {
    const now = this.clock.now();
    for (let head = this.delayQueue[0]; head !== undefined && head.expiresAt <= now; head = this.delayQueue[0]) {
      this.delayQueue.shift();
      this.ready.push(head.message);
    }
    this.dispatch();
  }

  private requireUp(): void {
    if (!this.isUp) throw new DynamosError('ADAPTER_UNAVAILABLE', 'fake broker is down', { retryable: true });
  }

  private dispatch(): void {
    const consumer = this.consumer;
    if (consumer === undefined || !this.isUp) return;
    while (this.ready.length > 0 && [...this.unacked.values()].filter((u) => u.consumer === consumer).length < consumer.prefetch) {
      const message = this.ready.shift() as StoredMessage;
      const tag = this.nextTag++;
      this.unacked.set(tag, { message, consumer });
      queueMicrotask(() => consumer.deliver(tag, message));
    }
  }
}
