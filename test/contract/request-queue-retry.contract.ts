import assert from 'node:assert/strict';
import type { QueuedRequest, QueueVerdict } from '../../knowledge/ports/request-queue.js';
import type { ObservedRequestQueue, RequestQueueWorld } from './request-queue-world.js';
import { waitFor, waitUntilSettled } from './request-queue-world.js';

/**
 * Long enough that a real broker still holds the request when the test looks (the fake's clock
 * does not move by itself), short enough to keep the suite quick.
 */
const retryAfterMs = 1_500;
const overloaded = { code: 'OVERLOADED', message: 'too many jobs at once', details: { retryAfterSeconds: 1.5 } };

/** A handler that is overloaded on its first `busyRuns` runs and answers 200 after; it records what each run saw. */
function overloadedHandler(busyRuns: number) {
  const seen: { readonly messageId: string; readonly retries: number; readonly credential: string | undefined }[] = [];
  const handle = (request: QueuedRequest): Promise<QueueVerdict> => {
    seen.push({ messageId: request.messageId, retries: request.retries, credential: request.credential });
    return Promise.resolve(seen.length <= busyRuns
      ? { kind: 'retryLater', afterMs: retryAfterMs, status: 503, body: overloaded }
      : { kind: 'reply', status: 200, body: { served: true } });
  };
  return { handle, seen };
}

/**
 * After handler run `run` said retryLater: the request waits in the delay queue, its delivery
 * acknowledged and nobody answered; then the delay passes.
 */
async function expectPutBack(world: RequestQueueWorld, queue: ObservedRequestQueue, handler: { seen: readonly unknown[] }, run: number, replyTo: string): Promise<void> {
  await waitFor(`run ${run}'s request in the delay queue, its delivery acknowledged`, async () =>
    handler.seen.length === run && queue.unsettled === 0 && (await world.delayedRequests()) === 1 && (await world.waitingRequests()) === 0);
  assert.deepEqual(world.replies(replyTo), [], 'a retry is not an answer');
  await world.letTimePass(retryAfterMs);
}

/** Checks the `retryLater` verdict of knowledge/ports/request-queue.ts against one broker. */
export function requestQueueRetryContract(name: string, makeWorld: () => Promise<RequestQueueWorld>): void {
  describe(`RequestQueue contract, retryLater: ${name}`, () => {
    let world: RequestQueueWorld;
    beforeEach(async () => (world = await makeWorld()));
    afterEach(() => world.close());

    it('puts an overloaded request back until it is served: three runs with its credential and retry count, one answer (the 200)', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = overloadedHandler(2);
      await queue.start(handler.handle);
      await world.publishRequest('{"q":1}', { messageId: 'm-busy', correlationId: 'c-busy', replyTo, authorization: 'Bearer header.payload.signature' });
      await expectPutBack(world, queue, handler, 1, replyTo);
      await expectPutBack(world, queue, handler, 2, replyTo);
      await waitFor('the answer', () => world.replies(replyTo).length === 1);
      await waitUntilSettled(world, queue);
      assert.deepEqual(world.replies(replyTo), [{ correlationId: 'c-busy', status: 200, body: { served: true } }]);
      assert.deepEqual(handler.seen, [0, 1, 2].map((retries) => ({ messageId: 'm-busy', retries, credential: 'Bearer header.payload.signature' })));
      assert.deepEqual([await world.delayedRequests(), world.deadLetters()], [0, []]);
    });

    it('answers the 503 and its body once a request was put back maxRetries times', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue({ maxRetries: 2 });
      const handler = overloadedHandler(Number.POSITIVE_INFINITY);
      await queue.start(handler.handle);
      await world.publishRequest('{"q":2}', { messageId: 'm-overloaded', correlationId: 'c-overloaded', replyTo });
      await expectPutBack(world, queue, handler, 1, replyTo);
      await expectPutBack(world, queue, handler, 2, replyTo);
      await waitFor('the answer', () => world.replies(replyTo).length === 1);
      await waitUntilSettled(world, queue);
      assert.deepEqual(world.replies(replyTo), [{ correlationId: 'c-overloaded', status: 503, body: overloaded }]);
      assert.deepEqual([handler.seen.length, await world.delayedRequests(), world.deadLetters()], [3, 0, []]);
    });

    it('does not answer twice when a copy of the request was answered while it waited in the delay queue', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = overloadedHandler(1);
      await queue.start(handler.handle);
      await world.publishRequest('{"q":3}', { messageId: 'm-copy', correlationId: 'c-copy', replyTo });
      await waitFor('the request in the delay queue', async () => handler.seen.length === 1 && (await world.delayedRequests()) === 1);
      await world.publishRequest('{"q":3}', { messageId: 'm-copy', correlationId: 'c-copy', replyTo });
      await waitFor('the copy answered', () => world.replies(replyTo).length === 1);
      await world.letTimePass(retryAfterMs);
      await waitFor('the delay queue emptied', async () => (await world.delayedRequests()) === 0);
      await waitUntilSettled(world, queue);
      assert.deepEqual(world.replies(replyTo), [{ correlationId: 'c-copy', status: 200, body: { served: true } }]);
      assert.equal(handler.seen.length, 2, 'the request that came back found its id answered');
    });
  });
}
