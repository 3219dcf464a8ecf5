import { createHash } from 'node:crypto';
import { DynamosError } from '../../knowledge/errors.js';
import type { QueuedRequest, QueueVerdict, RequestQueue } from '../../knowledge/ports/request-queue.js';
// The credential travels as the RabbitMQ adapter reads it: the `authorization` header, dropped from dead letters.
import { credentialOf, withoutCredential } from '../rabbitmq/held-request.js';

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

interface StoredMessage {
  readonly body: Uint8Array;
  readonly properties: FakeMessageProperties;
  readonly redelivered: boolean;
}

/** One connection's consumer, as the broker sees it. */
interface FakeConsumer {
  readonly prefetch: number;
  deliver(tag: number, message: StoredMessage): void;
  lost(): void;
}

/**
 * A small in-memory broker (STYLE: a fake is a small world): the request queue, reply queues, the
 * dead-letter queue, and one consumer at a time with a prefetch. `down()` drops the connection as
 * a broker restart does: unacknowledged requests go back to the head of the queue marked
 * redelivered, and publishing fails until `up()`, when the queues that were consuming reconnect.
 */
export class FakeRequestBroker {
  readonly deadLetters: FakeDeadLetter[] = [];
  private readonly ready: StoredMessage[] = [];
  private readonly unacked = new Map<number, { readonly message: StoredMessage; readonly consumer: FakeConsumer }>();
  private readonly replyQueues = new Map<string, FakeReply[]>();
  private readonly reconnecting = new Set<() => void>();
  private consumer: FakeConsumer | undefined;
  private nextTag = 1;
  private isUp = true;

  constructor(readonly queueName = 'dynamos.requests') {}

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

interface Handling {
  readonly request: QueuedRequest;
  readonly properties: FakeMessageProperties;
  readonly verdict: Promise<QueueVerdict>;
  settled?: QueueVerdict;
}

/**
 * The RequestQueue port over a {@link FakeRequestBroker}, with the port's promises kept the simple
 * way (no bounds): each message id is run once and answered once however often it is delivered;
 * answers that could not be published while the broker was down are published when it is up.
 */
export class FakeRequestQueue implements RequestQueue {
  readonly name = 'fake';
  /** Handler runs so far. */
  handlerRuns = 0;
  private readonly answered = new Set<string>();
  private readonly handlings = new Map<string, Handling>();
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private handler: ((request: QueuedRequest) => Promise<QueueVerdict>) | undefined;
  private consumer: FakeConsumer | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly broker: FakeRequestBroker, private readonly options: { readonly prefetch?: number; readonly maxDeliveries?: number } = {}) {}

  /** Deliveries being handled. */
  get unsettled(): number {
    return this.inFlight.size;
  }

  start(handle: (request: QueuedRequest) => Promise<QueueVerdict>): Promise<void> {
    if (this.handler !== undefined || this.closing !== undefined) return Promise.reject(new DynamosError('INTERNAL', 'fake request queue started twice or closed', { retryable: false }));
    this.handler = handle;
    this.connect();
    return Promise.resolve();
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      // Deliveries from now on are left unacknowledged; unsubscribing at the end requeues them.
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      if (this.consumer !== undefined) this.broker.unsubscribe(this.consumer);
      this.consumer = undefined;
    })());
  }

  private connect(): void {
    if (this.closing !== undefined) return;
    for (const [id, handling] of this.handlings) if (handling.settled !== undefined) this.publish(id, handling);
    const consumer: FakeConsumer = {
      prefetch: this.options.prefetch ?? 8,
      deliver: (tag, message) => {
        if (this.closing !== undefined) return;
        const task: Promise<void> = this.handleDelivery(consumer, tag, message)
          .catch(() => this.broker.settle(consumer, tag, 'requeue'))
          .finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
      },
      lost: () => {
        this.consumer = undefined;
        this.broker.whenUp(() => this.connect());
      },
    };
    this.consumer = consumer;
    this.broker.subscribe(consumer);
  }

  private async handleDelivery(consumer: FakeConsumer, tag: number, message: StoredMessage): Promise<void> {
    const { messageId, correlationId, replyTo } = message.properties;
    const id = messageId ?? `sha256:${createHash('sha256').update(`${correlationId ?? ''}\n${replyTo ?? ''}\n`).update(message.body).digest('hex')}`;
    if (this.answered.has(id)) return this.broker.settle(consumer, tag, 'ack');
    let handling = this.handlings.get(id);
    if (handling === undefined) {
      const credential = credentialOf(message.properties.headers ?? {});
      const request: QueuedRequest = { body: message.body, messageId: id, correlationId, replyTo, ...(credential === undefined ? {} : { credential }) };
      const missing = replyTo === undefined ? 'replyTo' : correlationId === undefined ? 'correlationId' : undefined;
      const started: Handling = {
        request,
        properties: message.properties,
        verdict: missing !== undefined ? Promise.resolve({ kind: 'poison', reason: `no ${missing}: nothing can receive the answer` }) : this.run(request),
      };
      started.verdict.then(
        (verdict) => (started.settled = verdict),
        () => {
          this.handlings.delete(id);
          this.failures.set(id, (this.failures.get(id) ?? 0) + 1);
        },
      );
      this.handlings.set(id, (handling = started));
    }
    try {
      handling.settled = await handling.verdict;
    } catch (error) {
      const failures = this.failures.get(id) ?? 0;
      if (failures < (this.options.maxDeliveries ?? 3)) return this.broker.settle(consumer, tag, 'requeue');
      handling = { ...handling, verdict: Promise.resolve({ kind: 'poison', reason: `handler failed ${failures} times: ${(error as Error).message}` }) };
      handling.settled = await handling.verdict;
      this.handlings.set(id, handling);
    }
    if (this.publish(id, handling)) this.broker.settle(consumer, tag, 'ack');
  }

  private async run(request: QueuedRequest): Promise<QueueVerdict> {
    this.handlerRuns += 1;
    const verdict = await (this.handler as (request: QueuedRequest) => Promise<QueueVerdict>)(request);
    if (verdict.kind === 'reply') JSON.stringify(verdict.body);
    return verdict;
  }

  /** Publishes a settled answer once; false while the broker is down (the answer stays kept). */
  private publish(id: string, handling: Handling): boolean {
    if (this.answered.has(id)) return true;
    const { request, settled } = handling;
    if (settled === undefined || !this.broker.online) return false;
    if (settled.kind === 'reply') {
      this.broker.publishReply(request.replyTo ?? '', { correlationId: request.correlationId, messageId: id, status: settled.status, body: JSON.parse(JSON.stringify(settled.body ?? null)) as unknown });
    } else {
      const headers = withoutCredential(handling.properties.headers ?? {});
      this.broker.publishDeadLetter({ body: request.body, properties: { ...handling.properties, messageId: id, headers: { ...headers, 'x-dynamos-reason': settled.reason } }, reason: settled.reason });
    }
    this.answered.add(id);
    this.handlings.delete(id);
    this.failures.delete(id);
    return true;
  }
}
