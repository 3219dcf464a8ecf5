import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { createFakeMetrics } from '../../../adapters/fake/fake-metrics-source.js';
import { signals } from '../../../knowledge/ports/metrics-source.js';
import type { MetricsWorld } from '../../contract/metrics-source.contract.js';
import { metricsSourceContract } from '../../contract/metrics-source.contract.js';

const t0 = Date.UTC(2025, 0, 6, 9, 0, 0);

function fakeWorld(): Promise<MetricsWorld> {
  const clock = new SimulatedClock();
  clock.set(t0);
  const { world, source } = createFakeMetrics({ clock });
  return Promise.resolve({
    source,
    tolerance: { cpu: 0, memory: 0, queueDepth: 0, powerWatts: 0, up: 0 },
    given: async (parties) => {
      for (const [party, state] of Object.entries(parties)) {
        for (const signal of signals) {
          const value = signal === 'up' ? (state.up ?? 1) : state[signal];
          if (value !== undefined) world.set(party, signal, value, clock.now() - (state.ageMs?.[signal] ?? 0));
        }
      }
    },
    down: async () => void world.down(),
    up: async () => void world.up(),
    close: () => source.close(),
  });
}

metricsSourceContract('fake', fakeWorld);

describe('FakeMetricsSource: the world model', () => {
  let clock: SimulatedClock;
  beforeEach(() => {
    clock = new SimulatedClock();
    clock.set(t0);
  });

  it('a value goes stale as the clock passes its staleAfterMs, and is fresh again once set again', async () => {
    const { world, source } = createFakeMetrics({ clock, staleAfterMs: { cpu: 10_000 } });
    world.set('UVA', 'cpu', 0.5);
    clock.increment(10_000);
    assert.equal((await source.read(['UVA'])).samples.find((s) => s.signal === 'cpu')?.value, 0.5);
    clock.increment(1);
    const stale = await source.read(['UVA']);
    assert.equal(stale.samples.find((s) => s.signal === 'cpu'), undefined);
    assert.match(stale.failures.find((f) => f.signal === 'cpu')?.reason ?? '', /UVA: stale \(newest sample 10\.0 s old, staleAfterMs 10000\)/);
    world.set('UVA', 'cpu', 0.6);
    assert.equal((await source.read(['UVA'])).samples.find((s) => s.signal === 'cpu')?.value, 0.6);
  });

  it('a failed signal is listed with its reason until healed, and the world says so', async () => {
    const { world, source } = createFakeMetrics({ clock });
    world.set('UVA', 'powerWatts', 30).fail('powerWatts', 'HTTP 503 Service Unavailable');
    assert.equal(world.failureOf('powerWatts'), 'HTTP 503 Service Unavailable');
    assert.deepEqual((await source.read(['UVA'])).failures.find((f) => f.signal === 'powerWatts'), {
      signal: 'powerWatts',
      reason: 'HTTP 503 Service Unavailable',
    });
    world.heal('powerWatts');
    assert.equal((await source.read(['UVA'])).samples.find((s) => s.signal === 'powerWatts')?.value, 30);
  });

  it('keeps the observation time of a sample, not the read time', async () => {
    const { world, source } = createFakeMetrics({ clock });
    world.set('VU', 'memory', 0.7, t0 - 5000);
    const reading = await source.read(['VU']);
    assert.equal(reading.at, t0);
    assert.deepEqual(reading.samples, [{ party: 'VU', signal: 'memory', value: 0.7, at: t0 - 5000 }]);
  });

  it('forgets a cleared party', async () => {
    const { world, source } = createFakeMetrics({ clock });
    world.set('VU', 'cpu', 0.2).set('VU', 'up', 1).clear('VU');
    assert.equal(world.valueOf('VU', 'cpu'), undefined);
    assert.deepEqual((await source.read(['VU'])).samples, []);
  });

  it('an empty question gets an empty answer', async () => {
    const { world, source } = createFakeMetrics({ clock });
    world.set('VU', 'cpu', 0.2).fail('memory', 'broken');
    assert.deepEqual(await source.read([]), { at: t0, samples: [], failures: [] });
  });
});
