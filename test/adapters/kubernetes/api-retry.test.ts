import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { SimulatedClock } from 'xstate';
import { withRetries } from '../../../adapters/kubernetes/api-retry.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';

const status = (code: number, reason: string, headers: Record<string, string> = {}) => new ApiException(code, reason, { kind: 'Status', code, reason }, headers);

/** An API that fails with `failures` in turn, then answers; counts calls and when they came (clock ms). */
function flakyApi(clock: SimulatedClock, failures: Error[]) {
  const calls: number[] = [];
  return { calls, call: () => { calls.push(clock.now()); const next = failures.shift(); return next === undefined ? Promise.resolve('ok') : Promise.reject(next); } };
}

/** Runs `promise` while moving the clock forward in small steps until it settles. */
async function onClock<T>(clock: SimulatedClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  void promise.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < 10_000 && !settled; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    clock.increment(50);
  }
  return promise;
}

describe('calling the Kubernetes API again when it says so', () => {
  it('waits out a 429\'s Retry-After, then backs off on 5xx, doubling', async () => {
    const clock = new SimulatedClock();
    const api = flakyApi(clock, [status(429, 'TooManyRequests', { 'retry-after': '2' }), status(500, 'InternalError'), status(503, 'ServiceUnavailable')]);
    assert.equal(await onClock(clock, withRetries('list', api.call, { clock, logger: silentLogger, until: 60_000 })), 'ok');
    const gaps = api.calls.slice(1).map((at, i) => at - (api.calls[i] as number));
    assert.equal(gaps.length, 3);
    assert.ok((gaps[0] as number) >= 2_000 && (gaps[0] as number) < 2_100, `Retry-After 2 s, waited ${gaps[0]} ms`);
    assert.ok((gaps[2] as number) > (gaps[1] as number), `backoff grows: ${gaps.join(', ')}`);
  });

  it('gives up on answers that will not change: 404, 409, 422, 403', async () => {
    for (const code of [403, 404, 409, 422]) {
      const clock = new SimulatedClock();
      const api = flakyApi(clock, [status(code, 'x')]);
      await assert.rejects(withRetries('create', api.call, { clock, logger: silentLogger, until: 60_000 }), (e: unknown) => e instanceof ApiException && e.code === code);
      assert.equal(api.calls.length, 1);
    }
  });

  it('stops at the deadline with ADAPTER_UNAVAILABLE naming what failed', async () => {
    const clock = new SimulatedClock();
    const api = flakyApi(clock, Array.from({ length: 100 }, () => status(503, 'ServiceUnavailable')));
    await assert.rejects(onClock(clock, withRetries('create the Job of UVA', api.call, { clock, logger: silentLogger, until: 3_000 })), (e: unknown) => e instanceof DynamosError && e.code === 'ADAPTER_UNAVAILABLE' && /create the Job of UVA \(HTTP 503 ServiceUnavailable/.test(e.message));
    assert.ok(clock.now() <= 3_000);
  });
});
