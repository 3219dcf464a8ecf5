import { createHash } from 'node:crypto';
import { DynamosError } from '../../knowledge/errors.js';
import type { QueuedRequest, QueueVerdict, RequestQueue } from '../../knowledge/ports/request-queue.js';
// The credential and the retry count travel as the RabbitMQ adapter reads them: the `authorization`
// header (dropped from dead letters) and the `x-dynamos-retries` header.
import { credentialOf, retriesHeader, retriesOf, withoutCredential } from '../rabbitmq/held-request.js';
import type { FakeConsumer, FakeMessageProperties, FakeRequestBroker, StoredMessage } from './fake-request-broker.js';

export { FakeRequestBroker } from './fake-request-broker.js';
export type { FakeDeadLetter, FakeMessageProperties, FakeReply } from './fake-request-broker.js';

interface Handling {
  readonly request: QueuedRequest;
  readonly properties: FakeMessageProperties;
  readonly verdict: Promise<QueueVerdict>;
  settled?: QueueVerdict;
  /** What became of a `retryLater`: put back in the delay queue, or dropped because the broker was down. */
  retry?: 'putBack' | 'dropped';
}

/**
 * The RequestQueue port over a {@link FakeRequestBroker}, with the port's promises kept the simple
 * way (no bounds): each message id is run once and answered once however often it is delivered;
 * answers that could not be published while the broker was down are published when it is up. A
 * `retryLater` request goes to the broker's delay queue with its retry count one higher, up to
 * `maxRetries` times (default 5); after that its status and body are the answer.
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

  constructor(private readonly broker: FakeRequestBroker, private readonly options: { readonly prefetch?: number; readonly maxDeliveries?: number; readonly maxRetries?: number } = {}) {}

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
    for (const [id, handling] of this.handlings) if (handling.settled !== undefined && handling.settled.kind !== 'retryLater') this.publish(id, handling);
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
      const retries = retriesOf(message.properties.headers ?? {});
      const request: QueuedRequest = { body: message.body, messageId: id, correlationId, replyTo, retries, ...(credential === undefined ? {} : { credential }) };
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
    if (verdict.kind !== 'poison') JSON.stringify(verdict.body);
    const exhausted = verdict.kind === 'retryLater' && request.retries >= (this.options.maxRetries ?? 5);
    return exhausted ? { kind: 'reply', status: verdict.status, body: verdict.body } : verdict;
  }

  /**
   * Publishes a settled verdict once; false while the broker is down (an answer stays kept, a
   * retry is dropped: the broker redelivers the request). A retry put back is not an answer: the
   * id is forgotten, and the request handled afresh when it returns.
   */
  private publish(id: string, handling: Handling): boolean {
    if (this.answered.has(id) || handling.retry === 'putBack') return true;
    const { request, settled } = handling;
    if (settled === undefined || handling.retry === 'dropped') return false;
    if (!this.broker.online) {
      if (settled.kind === 'retryLater') this.forget(id, handling, 'dropped');
      return false;
    }
    if (settled.kind === 'retryLater') {
      const headers = { ...handling.properties.headers, [retriesHeader]: request.retries + 1 };
      this.broker.publishDelayed({ body: request.body, properties: { ...handling.properties, messageId: id, headers } }, settled.afterMs);
      this.forget(id, handling, 'putBack');
      return true;
    }
    if (settled.kind === 'reply') {
      this.broker.publishReply(request.replyTo ?? '', { correlationId: request.correlationId, messageId: id, status: settled.status, body: JSON.parse(JSON.stringify(settled.body ?? null)) as unknown });
      settled.confirmed?.();
    } else {
      const headers = withoutCredential(handling.properties.headers ?? {});
      this.broker.publishDeadLetter({ body: request.body, properties: { ...handling.properties, messageId: id, headers: { ...headers, 'x-dynamos-reason': settled.reason } }, reason: settled.reason });
    }
    this.answered.add(id);
    this.handlings.delete(id);
    this.failures.delete(id);
    return true;
  }

  private forget(id: string, handling: Handling, retry: 'putBack' | 'dropped'): void {
    handling.retry = retry;
    if (this.handlings.get(id) === handling) this.handlings.delete(id);
  }
}
