import assert from 'node:assert/strict';
import { requestQueueRetryContract } from './request-queue-retry.contract.js';
import type { ReceivedReply, RequestQueueWorld } from './request-queue-world.js';
import { echoHandler, waitFor, waitUntilSettled } from './request-queue-world.js';

export type { ObservedRequestQueue, ReceivedDeadLetter, ReceivedReply, RequestProperties, RequestQueueWorld } from './request-queue-world.js';
export { echoHandler, waitFor, waitUntilSettled } from './request-queue-world.js';

const correlationIds = (replies: readonly ReceivedReply[]) => replies.map((r) => r.correlationId).sort();

/** Checks every promise of knowledge/ports/request-queue.ts against one broker. */
export function requestQueueContract(name: string, makeWorld: () => Promise<RequestQueueWorld>, options: { readonly loadRequests?: number } = {}): void {
  describe(`RequestQueue contract: ${name}`, () => {
    let world: RequestQueueWorld;
    beforeEach(async () => (world = await makeWorld()));
    afterEach(() => world.close());

    it('answers a request once, on its replyTo, with its correlation id', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = echoHandler();
      await queue.start(handler.handle);
      await world.publishRequest('{"q":1}', { messageId: 'm-1', correlationId: 'c-1', replyTo });
      await waitFor('one reply', () => world.replies(replyTo).length === 1);
      await waitUntilSettled(world, queue);
      assert.deepEqual(world.replies(replyTo), [{ correlationId: 'c-1', status: 200, body: { echo: '{"q":1}' } }]);
      assert.deepEqual([...handler.runs], [['m-1', 1]]);
    });

    it('dead-letters a poison verdict with its reason, and sends no reply', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      await queue.start(() => Promise.resolve({ kind: 'poison', reason: 'body is not JSON' }));
      await world.publishRequest('not json', { messageId: 'm-poison', correlationId: 'c-1', replyTo });
      await waitFor('a dead letter', () => world.deadLetters().length === 1);
      await waitUntilSettled(world, queue);
      assert.deepEqual(world.deadLetters(), [{ body: 'not json', messageId: 'm-poison', correlationId: 'c-1', reason: 'body is not JSON' }]);
      assert.deepEqual(world.replies(replyTo), []);
    });

    it('hands the handler the credential a message carries (its authorization header), and none when it carries none', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const credentials = new Map<string, string | undefined>();
      await queue.start((request) => {
        credentials.set(request.messageId, request.credential);
        return Promise.resolve({ kind: 'reply', status: 200, body: {} });
      });
      await world.publishRequest('{}', { messageId: 'm-signed', correlationId: 'c-1', replyTo, authorization: 'Bearer header.payload.signature' });
      await world.publishRequest('{}', { messageId: 'm-anonymous', correlationId: 'c-2', replyTo });
      await waitFor('two replies', () => world.replies(replyTo).length === 2);
      await waitUntilSettled(world, queue);
      assert.deepEqual(Object.fromEntries(credentials), { 'm-signed': 'Bearer header.payload.signature', 'm-anonymous': undefined });
    });

    it('dead-letters a request without the credential it came with: whoever reads that queue gets no token', async () => {
      const queue = world.queue();
      await queue.start(() => Promise.resolve({ kind: 'poison', reason: 'body is not JSON' }));
      await world.publishRequest('not json', { messageId: 'm-signed-poison', correlationId: 'c-1', replyTo: await world.replyQueue(), authorization: 'Bearer header.payload.signature' });
      await waitFor('a dead letter', () => world.deadLetters().length === 1);
      await waitUntilSettled(world, queue);
      assert.deepEqual(world.deadLetters(), [{ body: 'not json', messageId: 'm-signed-poison', correlationId: 'c-1', reason: 'body is not JSON' }]);
    });

    it('dead-letters a request without replyTo or correlationId, without running the handler', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = echoHandler();
      await queue.start(handler.handle);
      await world.publishRequest('a', { messageId: 'no-reply-to', correlationId: 'c-1' });
      await world.publishRequest('b', { messageId: 'no-correlation', replyTo });
      await waitFor('two dead letters', () => world.deadLetters().length === 2);
      await waitUntilSettled(world, queue);
      const reasons = Object.fromEntries(world.deadLetters().map((d) => [d.messageId, d.reason]));
      assert.deepEqual(reasons, { 'no-reply-to': 'no replyTo: nothing can receive the answer', 'no-correlation': 'no correlationId: nothing can receive the answer' });
      assert.equal(handler.totalRuns(), 0);
    });

    it('dead-letters a request whose handler throws on each of 3 deliveries, with the error as reason', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      let runs = 0;
      await queue.start(() => Promise.reject(new Error(`store unreachable (run ${++runs})`)));
      await world.publishRequest('x', { messageId: 'm-fails', correlationId: 'c-1', replyTo });
      await waitFor('a dead letter', () => world.deadLetters().length === 1);
      await waitUntilSettled(world, queue);
      assert.equal(runs, 3);
      assert.equal(world.deadLetters()[0]?.reason, 'handler failed 3 times: store unreachable (run 3)');
      assert.deepEqual(world.replies(replyTo), []);
    });

    it('runs and answers once a request published twice under one message id, at once or after the answer', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = echoHandler((r) => r.messageId === 'm-twice');
      await queue.start(handler.handle);
      await world.publishRequest('x', { messageId: 'm-twice', correlationId: 'c-1', replyTo });
      await world.publishRequest('x', { messageId: 'm-twice', correlationId: 'c-1', replyTo });
      await waitFor('both copies delivered', () => queue.unsettled === 2);
      handler.release();
      await waitFor('a reply', () => world.replies(replyTo).length === 1);
      await world.publishRequest('x', { messageId: 'm-twice', correlationId: 'c-1', replyTo });
      await waitUntilSettled(world, queue);
      assert.deepEqual(correlationIds(world.replies(replyTo)), ['c-1']);
      assert.deepEqual([...handler.runs], [['m-twice', 1]]);
    });

    it('knows a request without message id by its content: a copy is answered once, another correlation id is another request', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = echoHandler();
      await queue.start(handler.handle);
      await world.publishRequest('same', { correlationId: 'c-1', replyTo });
      await world.publishRequest('same', { correlationId: 'c-1', replyTo });
      await world.publishRequest('same', { correlationId: 'c-2', replyTo });
      await waitFor('two replies', () => world.replies(replyTo).length === 2);
      await waitUntilSettled(world, queue);
      assert.deepEqual(correlationIds(world.replies(replyTo)), ['c-1', 'c-2']);
      assert.equal(handler.totalRuns(), 2);
    });

    it('lets a request redelivered while its handler runs wait for that answer: one run, one reply', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = echoHandler(() => true);
      await queue.start(handler.handle);
      await world.publishRequest('slow', { messageId: 'm-slow', correlationId: 'c-1', replyTo });
      await waitFor('the handler to start', () => handler.runs.size === 1);
      await world.restart();
      await waitFor('the redelivery to join the running handler', () => queue.unsettled === 2, 30_000);
      handler.release();
      await waitFor('a reply', () => world.replies(replyTo).length === 1);
      await waitUntilSettled(world, queue);
      assert.deepEqual(correlationIds(world.replies(replyTo)), ['c-1']);
      assert.deepEqual([...handler.runs], [['m-slow', 1]]);
    });

    it('loses nothing and answers nothing twice when the broker restarts mid-flight, publishing answers computed while it was down', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue({ prefetch: 8 });
      const held = new Set(['r-0', 'r-1', 'r-2', 'r-3']);
      const handler = echoHandler((r) => held.has(r.messageId));
      await queue.start(handler.handle);
      for (let i = 0; i < 20; i++) await world.publishRequest(`body ${i}`, { messageId: `r-${i}`, correlationId: `c-${i}`, replyTo });
      await waitFor('16 replies and the 4 held handlers running', () => world.replies(replyTo).length === 16 && handler.runs.size === 20);
      await world.restart(async () => {
        handler.release();
        await waitFor('the held handlers to finish while the broker is down', () => handler.finished.size === 20);
      });
      await waitFor('20 replies', () => world.replies(replyTo).length >= 20, 30_000);
      await waitUntilSettled(world, queue, 30_000);
      await queue.close();
      assert.deepEqual(correlationIds(world.replies(replyTo)), Array.from({ length: 20 }, (_, i) => `c-${i}`).sort());
      assert.deepEqual([...handler.runs.values()].filter((n) => n !== 1), []);
      assert.equal(await world.waitingRequests(), 0);
    });

    it('on close() stops consuming, finishes the handlers under way and publishes their answers; twice is fine', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.queue();
      const handler = echoHandler(() => true);
      await queue.start(handler.handle);
      await world.publishRequest('a', { messageId: 'm-a', correlationId: 'c-a', replyTo });
      await world.publishRequest('b', { messageId: 'm-b', correlationId: 'c-b', replyTo });
      await waitFor('both handlers to start', () => handler.runs.size === 2);
      const closing = queue.close();
      handler.release();
      await Promise.all([closing, queue.close()]);
      await queue.close();
      await waitFor('two replies', () => world.replies(replyTo).length === 2);
      assert.deepEqual(correlationIds(world.replies(replyTo)), ['c-a', 'c-b']);
      assert.equal(await world.waitingRequests(), 0);
      await world.publishRequest('c', { messageId: 'm-c', correlationId: 'c-c', replyTo });
      assert.equal(await world.waitingRequests(), 1, 'a closed queue consumes nothing');
    });

    const count = options.loadRequests ?? 0;
    if (count > 0) {
      it(`answers ${count} requests exactly once each across a broker restart halfway`, async function () {
        this.timeout(120_000);
        const began = Date.now();
        const replyTo = await world.replyQueue();
        const queue = world.queue();
        const handler = echoHandler();
        // Half way, handlers start to wait for the broker to be down; once 4 wait (fewer than the
        // prefetch), the broker restarts. Their answers are computed while it is down, so they must
        // be published after reconnecting, and their redeliveries settled without a second run.
        let restarting: Promise<void> | undefined;
        let repliesAtRestart = 0;
        let started = 0;
        let down = false;
        const heldAtRestart = new Set<string>();
        let brokerIsDown!: () => void;
        const brokerDown = new Promise<void>((resolve) => (brokerIsDown = resolve));
        await queue.start(async (request) => {
          if (++started >= count / 2 - 4 && !down) {
            heldAtRestart.add(request.messageId);
            if (restarting === undefined && heldAtRestart.size === 4) {
              repliesAtRestart = world.replies(replyTo).length;
              restarting = world.restart(async () => {
                down = true;
                brokerIsDown();
                await waitFor('the handlers held at the restart to finish', () => [...heldAtRestart].every((id) => handler.finished.has(id)));
              });
            }
            await brokerDown;
          }
          return handler.handle(request);
        });
        await Promise.all(Array.from({ length: count }, (_, i) => world.publishRequest(`load ${i}`, { messageId: `load-${i}`, correlationId: `lc-${i}`, replyTo })));
        await waitFor('the restart to begin', () => restarting !== undefined, 60_000);
        await restarting;
        await waitFor(`${count} replies`, () => new Set(world.replies(replyTo).map((r) => r.correlationId)).size === count, 60_000);
        await waitUntilSettled(world, queue, 30_000);
        await queue.close();
        const replies = world.replies(replyTo);
        const answered = new Set(replies.map((r) => r.correlationId));
        const lost = count - answered.size;
        const answeredTwice = replies.length - answered.size;
        const runsPerId = [...handler.runs.values()];
        const waiting = await world.waitingRequests();
        console.log(`      ${name} load: ${count} requests, ${answered.size} answered, ${lost} lost, ${answeredTwice} answered twice, `
          + `handler runs ${handler.totalRuns()} (ids run more than once: ${runsPerId.filter((n) => n > 1).length}), restart after ${repliesAtRestart} replies (${heldAtRestart.size} handlers finishing while it was down), `
          + `${waiting} left in the queue, ${((Date.now() - began) / 1000).toFixed(1)} s${world.summary === undefined ? '' : `; ${world.summary()}`}`);
        assert.deepEqual({ lost, answeredTwice, waiting, distinctRuns: handler.runs.size, totalRuns: handler.totalRuns() }, { lost: 0, answeredTwice: 0, waiting: 0, distinctRuns: count, totalRuns: count });
      });
    }
  });
  requestQueueRetryContract(name, makeWorld);
}
