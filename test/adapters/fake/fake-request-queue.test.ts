import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { FakeRequestBroker, FakeRequestQueue } from '../../../adapters/fake/fake-request-queue.js';
import { echoHandler, requestQueueContract, waitFor } from '../../contract/request-queue.contract.js';
import type { RequestQueueWorld } from '../../contract/request-queue.contract.js';

function fakeWorld(): Promise<RequestQueueWorld> {
  const clock = new SimulatedClock();
  const broker = new FakeRequestBroker({ clock });
  const queues: FakeRequestQueue[] = [];
  let replyQueues = 0;
  return Promise.resolve({
    queue: (options) => {
      const queue = new FakeRequestQueue(broker, options);
      queues.push(queue);
      return queue;
    },
    publishRequest: (body, { authorization, ...properties }) => Promise.resolve(broker.publishRequest(body, { ...properties, ...(authorization === undefined ? {} : { headers: { authorization } }) })),
    replyQueue: () => Promise.resolve(`replies-${++replyQueues}`),
    replies: (replyTo) => broker.replies(replyTo).map(({ correlationId, status, body }) => ({ correlationId, status, body })),
    deadLetters: () =>
      broker.deadLetters.map((d) => ({
        body: new TextDecoder().decode(d.body),
        messageId: d.properties.messageId,
        correlationId: d.properties.correlationId,
        reason: d.properties.headers?.['x-dynamos-reason'] as string | undefined,
        ...(d.properties.headers?.['authorization'] === undefined ? {} : { authorization: String(d.properties.headers['authorization']) }),
      })),
    // Requests in the broker not in a consumer's hands: a closed queue's deliveries were requeued.
    waitingRequests: () => Promise.resolve(broker.pending - queues.reduce((n, q) => n + q.unsettled, 0)),
    delayedRequests: () => Promise.resolve(broker.delayed),
    letTimePass: (ms) => Promise.resolve(clock.increment(ms)),
    restart: async (whileDown) => {
      broker.down();
      await whileDown?.();
      broker.up();
    },
    close: async () => {
      for (const queue of queues) await queue.close();
    },
  });
}

requestQueueContract('fake', fakeWorld, { loadRequests: 1000 });

describe('FakeRequestBroker', () => {
  it('requeues what a lost connection had not acknowledged, marked redelivered, ahead of the rest', async () => {
    const broker = new FakeRequestBroker();
    const seen: { id: string | undefined; redelivered: boolean }[] = [];
    const consumer = { prefetch: 1, deliver: (_tag: number, m: { properties: { messageId?: string }; redelivered: boolean }) => seen.push({ id: m.properties.messageId, redelivered: m.redelivered }), lost: () => undefined };
    broker.subscribe(consumer);
    broker.publishRequest('a', { messageId: 'a' });
    broker.publishRequest('b', { messageId: 'b' });
    await waitFor('a delivery', () => seen.length === 1);
    broker.restart();
    broker.subscribe(consumer);
    await waitFor('the redelivery', () => seen.length === 2);
    assert.deepEqual(seen, [{ id: 'a', redelivered: false }, { id: 'a', redelivered: true }]);
    assert.equal(broker.pending, 2);
  });

  it('moves a delayed request back to the request queue only once it and every one delayed before it expired, as RabbitMQ does', () => {
    const clock = new SimulatedClock();
    const broker = new FakeRequestBroker({ clock });
    const body = new TextEncoder().encode('x');
    broker.publishDelayed({ body, properties: { messageId: 'long' } }, 5000);
    broker.publishDelayed({ body, properties: { messageId: 'short' } }, 1000);
    clock.increment(1000);
    assert.deepEqual([broker.delayed, broker.pending], [2, 0], 'the short one waits behind the long one');
    clock.increment(4000);
    assert.deepEqual([broker.delayed, broker.pending], [0, 2]);
  });

  it('refuses publishes while down, and a queue publishes the answers it kept once the broker is up', async () => {
    const broker = new FakeRequestBroker();
    const queue = new FakeRequestQueue(broker);
    const handler = echoHandler(() => true);
    await queue.start(handler.handle);
    broker.publishRequest('x', { messageId: 'm', correlationId: 'c', replyTo: 'r' });
    await waitFor('the handler', () => handler.runs.size === 1);
    broker.down();
    handler.release();
    await waitFor('the handler to finish', () => handler.finished.size === 1);
    assert.deepEqual([broker.replies('r').length, broker.pending], [0, 1]);
    broker.up();
    await waitFor('the kept answer and the redelivery acked', () => broker.replies('r').length === 1 && broker.pending === 0);
    assert.equal(queue.handlerRuns, 1);
    await queue.close();
  });
});
