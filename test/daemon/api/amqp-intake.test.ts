import assert from 'node:assert/strict';
import { verdictOfAnswer } from '../../../daemon/api/amqp-intake.js';

const overloaded = (retryAfterSeconds?: unknown) => ({
  code: 'OVERLOADED',
  message: 'the daemon runs as many jobs as it may',
  ...(retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } }),
});

describe('AMQP intake: the verdict for an answer', () => {
  const rows: { rule: string; status: number; body: unknown; afterMs?: number }[] = [
    { rule: 'OVERLOADED waits as long as Retry-After would say', status: 503, body: overloaded(5), afterMs: 5_000 },
    { rule: 'a wait under 1 s is raised to 1 s', status: 503, body: overloaded(0.2), afterMs: 1_000 },
    { rule: 'a wait over 60 s is cut to 60 s', status: 503, body: overloaded(3_600), afterMs: 60_000 },
    { rule: 'an OVERLOADED without a wait waits the shortest time', status: 503, body: overloaded(), afterMs: 1_000 },
    { rule: 'a wait that is not a number waits the shortest time', status: 503, body: overloaded('soon'), afterMs: 1_000 },
    { rule: 'another 503 is an answer', status: 503, body: { code: 'ADAPTER_UNAVAILABLE', message: 'prometheus is down' } },
    { rule: 'a success is an answer', status: 200, body: { jobId: 'j-1' } },
    { rule: 'a body without a code is an answer', status: 503, body: null },
  ];
  for (const { rule, status, body, afterMs } of rows) {
    it(rule, () => {
      const expected = afterMs === undefined ? { kind: 'reply', status, body } : { kind: 'retryLater', afterMs, status, body };
      assert.deepEqual(verdictOfAnswer({ status, body }), expected);
    });
  }
});
