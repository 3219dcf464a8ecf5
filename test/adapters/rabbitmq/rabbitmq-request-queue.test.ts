import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { AnswerLedger } from '../../../adapters/rabbitmq/answer-ledger.js';
import { contentMessageId, retriesOf } from '../../../adapters/rabbitmq/held-request.js';
import { createRabbitMqRequestQueue, rabbitMqConfigSchema } from '../../../adapters/rabbitmq/index.js';
import { reconnectDelayMs } from '../../../adapters/rabbitmq/reconnect-backoff.js';
import { verdictWithinRetries } from '../../../adapters/rabbitmq/verdict-publisher.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
import type { QueueVerdict } from '../../../knowledge/ports/request-queue.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { echoHandler, requestQueueContract, waitFor } from '../../contract/request-queue.contract.js';
import { freeLoopbackPort } from '../../support/servers/free-port.js';
import { RabbitMqControl } from '../../support/servers/rabbitmq-control.js';
import { requireTestServerEnv } from '../../support/servers/server-env.js';
import { RealBrokerWorld } from './real-broker-world.js';

interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger: Logger = {
    debug: (message) => void lines.push({ level: 'debug', message }),
    info: (message) => void lines.push({ level: 'info', message }),
    warn: (message) => void lines.push({ level: 'warn', message }),
    error: (message) => void lines.push({ level: 'error', message }),
    child: () => logger,
  };
  return { logger, lines };
}

describe('RabbitMqRequestQueue without a broker', () => {
  it('rejects a config it cannot use with CONFIG_INVALID and every problem\'s path', () => {
    assert.throws(
      () => createRabbitMqRequestQueue({ url: 'http://broker', prefetch: 0, reconnectMinDelayMs: 5000, reconnectMaxDelayMs: 100 }, { logger: silentLogger, clock: systemClock }),
      (error: unknown) => error instanceof DynamosError && error.code === 'CONFIG_INVALID'
        && ['url', 'prefetch', 'reconnectMinDelayMs'].every((path) => error.message.includes(path)),
    );
  });

  it('fills in the defaults the brief names', () => {
    const config = rabbitMqConfigSchema.parse({ url: 'amqp://127.0.0.1' });
    assert.deepEqual(
      [config.queue, config.deadLetterExchange, config.deadLetterQueue, config.delayQueue, config.prefetch, config.dedupeMemorySize, config.maxDeliveries, config.maxRetries],
      ['dynamos.requests', 'dynamos.requests.dead', 'dynamos.requests.dead', 'dynamos.requests.delay', 8, 100_000, 3, 5],
    );
    assert.equal(rabbitMqConfigSchema.parse({ url: 'amqp://127.0.0.1', queue: 'party-a.requests' }).delayQueue, 'party-a.requests.delay', 'each request queue gets its own delay queue');
  });

  it('reads the retry count from x-dynamos-retries, and a value no retry could have written as 0', () => {
    const rows: { header: unknown; retries: number }[] = [
      { header: undefined, retries: 0 },
      { header: 3, retries: 3 },
      { header: '2', retries: 2 },
      { header: Buffer.from('4'), retries: 4 },
      { header: -1_000, retries: 0 },
      { header: 1.5, retries: 0 },
      { header: 'many', retries: 0 },
    ];
    for (const { header, retries } of rows) assert.equal(retriesOf(header === undefined ? {} : { 'x-dynamos-retries': header }), retries, String(header));
  });

  it('turns a retryLater into its answer once the request was put back maxRetries times, and refuses a delay it cannot set', () => {
    const later: QueueVerdict = { kind: 'retryLater', afterMs: 5000, status: 503, body: { code: 'OVERLOADED' } };
    assert.deepEqual(verdictWithinRetries(later, 4, 5), later);
    assert.deepEqual(verdictWithinRetries(later, 5, 5), { kind: 'reply', status: 503, body: { code: 'OVERLOADED' } });
    assert.deepEqual(verdictWithinRetries(later, 0, 0), { kind: 'reply', status: 503, body: { code: 'OVERLOADED' } }, 'maxRetries 0 answers at once');
    for (const afterMs of [Number.NaN, -1, 2.5]) {
      assert.throws(() => verdictWithinRetries({ ...later, afterMs }, 0, 5), (error: unknown) => error instanceof DynamosError && error.code === 'INTERNAL');
    }
  });

  it('fails start() with a retryable ADAPTER_UNAVAILABLE when the broker is unreachable, without showing the password', async () => {
    const queue = createRabbitMqRequestQueue({ url: `amqp://guest:secret@127.0.0.1:${await freeLoopbackPort()}` }, { logger: silentLogger, clock: systemClock });
    const unavailable = (error: unknown) =>
      error instanceof DynamosError && error.code === 'ADAPTER_UNAVAILABLE' && error.retryable && /dynamos\.requests/.test(error.message) && !error.message.includes('secret');
    await assert.rejects(queue.start(echoHandler().handle), unavailable);
    await assert.rejects(queue.start(echoHandler().handle), unavailable, 'a retry of start() tries again');
    await queue.close();
    await queue.close();
  });

  it('waits longer after each failed reconnect, capped, with jitter in the upper half of each step', () => {
    const bounds = { minMs: 100, maxMs: 1000 };
    const rows = [
      { attempt: 1, random: 0, expected: 50 },
      { attempt: 1, random: 1, expected: 100 },
      { attempt: 2, random: 1, expected: 200 },
      { attempt: 4, random: 0.5, expected: 600 },
      { attempt: 5, random: 1, expected: 1000 },
      { attempt: 50, random: 0, expected: 500 },
    ];
    for (const { attempt, random, expected } of rows) assert.equal(reconnectDelayMs(attempt, bounds, () => random), expected, `attempt ${attempt}, random ${random}`);
  });

  it('knows a message without messageId by correlation id, reply queue and body', () => {
    const body = new TextEncoder().encode('{"q":1}');
    assert.equal(contentMessageId(body, 'c-1', 'r'), contentMessageId(new TextEncoder().encode('{"q":1}'), 'c-1', 'r'));
    assert.notEqual(contentMessageId(body, 'c-1', 'r'), contentMessageId(body, 'c-2', 'r'));
    assert.notEqual(contentMessageId(body, 'c-1', 'r'), contentMessageId(body, 'c-1r', ''));
    assert.match(contentMessageId(body, undefined, undefined), /^sha256:[0-9a-f]{64}$/);
  });

  it('remembers at most dedupeMemorySize answered ids, forgetting the least recently answered', async () => {
    const ledger = new AnswerLedger<string>(2);
    for (const id of ['a', 'b', 'c']) {
      await ledger.handle(id, id, () => Promise.resolve({ kind: 'reply', status: 200, body: id })).verdict;
      assert.equal(await ledger.publishOnce(id, () => Promise.resolve()), true);
    }
    assert.deepEqual(['a', 'b', 'c'].map((id) => ledger.isAnswered(id)), [false, true, true]);
  });

  it('keeps an answer whose publish failed, and shares one publish among callers', async () => {
    const ledger = new AnswerLedger<string>(10);
    await ledger.handle('a', 'a', () => Promise.resolve({ kind: 'reply', status: 200, body: 1 })).verdict;
    assert.equal(await ledger.publishOnce('a', () => Promise.reject(new Error('channel closed'))), false);
    assert.deepEqual(ledger.keptAnswers(), ['a']);
    let publishes = 0;
    const both = await Promise.all([1, 2].map(() => ledger.publishOnce('a', async () => void (publishes += 1))));
    assert.deepEqual([both, publishes, ledger.keptAnswers(), ledger.isAnswered('a')], [[true, true], 1, [], true]);
  });

  it('forgets an id once its retry was put back: not answered, its return handled afresh, a joined delivery told it was put back', async () => {
    const ledger = new AnswerLedger<string>(10);
    const later: QueueVerdict = { kind: 'retryLater', afterMs: 1000, status: 503, body: {} };
    const first = ledger.handle('a', 'a', () => Promise.resolve(later));
    const joined = ledger.handle('a', 'a', () => Promise.reject(new Error('a joined delivery runs nothing')));
    await Promise.all([first.verdict, joined.verdict]);
    let publishes = 0;
    assert.equal(await first.publishOnce(async () => void (publishes += 1)), true);
    assert.equal(await joined.publishOnce(async () => void (publishes += 1)), true);
    assert.deepEqual([publishes, ledger.isAnswered('a'), ledger.keptAnswers(), ledger.handle('a', 'a', () => Promise.resolve(later)).started], [1, false, [], true]);
  });

  it('drops a retry it could not put back instead of keeping it: the broker redelivers the request', async () => {
    const ledger = new AnswerLedger<string>(10);
    const handling = ledger.handle('a', 'a', () => Promise.resolve({ kind: 'retryLater', afterMs: 1000, status: 503, body: {} }));
    await handling.verdict;
    assert.equal(await handling.publishOnce(() => Promise.reject(new Error('channel closed'))), false);
    assert.deepEqual([ledger.keptAnswers(), ledger.isAnswered('a'), ledger.handle('a', 'a', () => Promise.resolve({ kind: 'reply', status: 200, body: {} })).started], [[], false, true]);
  });
});

describe('RabbitMqRequestQueue against a real broker', function () {
  let url: string;
  let control: RabbitMqControl;
  before(function () {
    url = requireTestServerEnv(this, 'RABBITMQ_URL');
    control = RabbitMqControl.fromEnv() ?? (this.skip() as never);
  });

  requestQueueContract('rabbitmq', () => RealBrokerWorld.create(url, control), { loadRequests: 1000 });

  describe('putting a request back for later', () => {
    let world: RealBrokerWorld;
    beforeEach(async () => (world = await RealBrokerWorld.create(url, control)));
    afterEach(() => world.close());

    it('keeps it across a broker restart as a persistent copy with its credential and retry count, which goes back to the request queue when it leaves the delay queue', async () => {
      const replyTo = await world.replyQueue();
      const queue = world.rabbitQueue();
      const seen: { retries: number; credential: string | undefined }[] = [];
      await queue.start((request) => {
        seen.push({ retries: request.retries, credential: request.credential });
        return Promise.resolve<QueueVerdict>(seen.length === 1 ? { kind: 'retryLater', afterMs: 600_000, status: 503, body: {} } : { kind: 'reply', status: 200, body: {} });
      });
      await world.publishRequest('{}', { messageId: 'm-later', correlationId: 'c-later', replyTo, authorization: 'Bearer header.payload.signature' });
      await waitFor('the request in the delay queue', async () => queue.stats().unsettled === 0 && (await world.delayedRequests()) === 1);
      await world.restart();
      const copy = await (await world.channel()).get(world.names.delayQueue, { noAck: false });
      assert.ok(copy !== false, 'the copy survived the restart');
      const { deliveryMode, expiration, messageId, correlationId, replyTo: copyReplyTo, headers } = copy.properties;
      assert.deepEqual(
        { deliveryMode, expiration, messageId, correlationId, replyTo: copyReplyTo, authorization: headers?.['authorization'] as unknown, retries: headers?.['x-dynamos-retries'] as unknown },
        { deliveryMode: 2, expiration: '600000', messageId: 'm-later', correlationId: 'c-later', replyTo, authorization: 'Bearer header.payload.signature', retries: 1 },
      );
      // Rejected rather than waiting ten minutes: the delay queue dead-letters it as it would on expiry.
      (await world.channel()).nack(copy, false, false);
      await waitFor('the answer', () => world.replies(replyTo).length === 1);
      assert.deepEqual(seen, [{ retries: 0, credential: 'Bearer header.payload.signature' }, { retries: 1, credential: 'Bearer header.payload.signature' }]);
      assert.equal(queue.stats().delayedForRetry, 1);
    });
  });

  describe('reconnecting', () => {
    let world: RealBrokerWorld;
    beforeEach(async () => (world = await RealBrokerWorld.create(url, control)));
    afterEach(() => world.close());

    it('waits on the injected clock between attempts (no hot loop), says what losing the broker means, and consumes again', async () => {
      const clock = new SimulatedClock();
      const { logger, lines } = recordingLogger();
      const queue = world.rabbitQueue({ reconnectMinDelayMs: 1000, reconnectMaxDelayMs: 4000 }, { clock, logger });
      const handler = echoHandler();
      await queue.start(handler.handle);
      const warnings = () => lines.filter((l) => l.level === 'warn').map((l) => l.message);
      await world.restart(async () => {
        await waitFor('the lost-connection warning', () => warnings().some((m) => m.includes('connection to the broker lost')));
        assert.match(warnings()[0] ?? '', /reconnecting; the broker redelivers the requests under way/);
        clock.increment(1000);
        await waitFor('the first attempt to fail', () => warnings().some((m) => m.startsWith('reconnect attempt 1 failed')));
      });
      // start_app took about a second of real time; without the clock moving, no further attempt was made.
      assert.deepEqual([warnings().filter((m) => m.startsWith('reconnect attempt')).length, queue.stats().connected], [1, false]);
      clock.increment(4000);
      await waitFor('the reconnect', () => queue.stats().connected);
      const replyTo = await world.replyQueue();
      await world.publishRequest('after', { messageId: 'm-after', correlationId: 'c-after', replyTo });
      await waitFor('the reply', () => world.replies(replyTo).length === 1);
      assert.deepEqual([queue.stats().reconnects, handler.totalRuns()], [1, 1]);
    });
  });
});
