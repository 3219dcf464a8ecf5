import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { AnswerLedger } from '../../../adapters/rabbitmq/answer-ledger.js';
import { contentMessageId } from '../../../adapters/rabbitmq/held-request.js';
import { createRabbitMqRequestQueue, rabbitMqConfigSchema } from '../../../adapters/rabbitmq/index.js';
import { reconnectDelayMs } from '../../../adapters/rabbitmq/reconnect-backoff.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
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
      [config.queue, config.deadLetterExchange, config.deadLetterQueue, config.prefetch, config.dedupeMemorySize, config.maxDeliveries],
      ['dynamos.requests', 'dynamos.requests.dead', 'dynamos.requests.dead', 8, 100_000, 3],
    );
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
});

describe('RabbitMqRequestQueue against a real broker', function () {
  let url: string;
  let control: RabbitMqControl;
  before(function () {
    url = requireTestServerEnv(this, 'RABBITMQ_URL');
    control = RabbitMqControl.fromEnv() ?? (this.skip() as never);
  });

  requestQueueContract('rabbitmq', () => RealBrokerWorld.create(url, control), { loadRequests: 1000 });

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
