import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { MetricsReading, Signal } from '../../../knowledge/ports/metrics-source.js';
import { metricsSourceContract } from '../../contract/metrics-source.contract.js';
import { requireTestServerEnv, testServerEnv } from '../../support/servers/server-env.js';
import type { RealPrometheusWorld } from './prometheus-world.js';
import { realPrometheusWorld } from './prometheus-world.js';

const env = () => ({ promUrl: testServerEnv('PROM_URL') as string, targetsFile: testServerEnv('PROM_TARGETS_FILE') as string });
const requireRealPrometheus = (ctx: Mocha.Context) => {
  requireTestServerEnv(ctx, 'PROM_URL');
  requireTestServerEnv(ctx, 'PROM_TARGETS_FILE');
};

metricsSourceContract('prometheus (real server)', () => realPrometheusWorld(env()), { timeoutMs: 40_000, before: requireRealPrometheus });

const valueOf = (r: MetricsReading, party: string, signal: Signal) => r.samples.find((s) => s.party === party && s.signal === signal)?.value;
const failureOf = (r: MetricsReading, signal: Signal) => r.failures.find((f) => f.signal === signal)?.reason;
const near = (actual: number | undefined, expected: number, tolerance: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected} ± ${tolerance}, got ${actual}`);

describe('PrometheusMetricsSource against a real Prometheus', function () {
  this.timeout(40_000);
  let world: RealPrometheusWorld | undefined;
  let n = 0;
  const party = (label: string) => `${label}-${process.pid}-${++n}`;

  before(function () {
    requireRealPrometheus(this);
  });
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('reads power from Kepler ≤ 0.9 and ≥ 0.10 (containers or pods), package + dram only', async () => {
    world = await realPrometheusWorld(env());
    const [old, current, pods] = [party('k09'), party('k010'), party('k010pods')];
    await world.given({
      [old]: { powerWatts: 50, kepler: 'kepler-0.9' },
      [current]: { powerWatts: 80, kepler: 'kepler-0.10' },
      [pods]: { powerWatts: 30, kepler: 'kepler-0.10-pods' },
    });
    const reading = await world.source.read([old, current, pods]);
    near(valueOf(reading, old, 'powerWatts'), 50, 1.5, 'Kepler 0.9');
    near(valueOf(reading, current, 'powerWatts'), 80, 2.5, 'Kepler 0.10 containers');
    near(valueOf(reading, pods, 'powerWatts'), 30, 1, 'Kepler 0.10 pods');
    assert.equal(failureOf(reading, 'powerWatts'), undefined);
  });

  it('falls back to cAdvisor for cpu and memory, counting each container once', async () => {
    world = await realPrometheusWorld(env());
    const p = party('cadvisor');
    await world.given({ [p]: { cpu: 0.4, memory: 0.3, cadvisor: true } });
    const reading = await world.source.read([p]);
    near(valueOf(reading, p, 'cpu'), 0.4, 0.03, 'cAdvisor cpu');
    near(valueOf(reading, p, 'memory'), 0.3, 0.001, 'cAdvisor memory');
  });

  it('a query that never answers fails its signal after timeoutMs, and the read goes on', async () => {
    world = await realPrometheusWorld(env(), { timeoutMs: 200 }, { answer: (q) => (q.includes('kepler') ? 'hang' : 'forward') });
    const p = party('slow');
    await world.given({ [p]: { cpu: 0.5, powerWatts: 20 } });
    const started = performance.now();
    const reading = await world.source.read([p]);
    const elapsed = performance.now() - started;
    assert.equal(failureOf(reading, 'powerWatts'), 'timed out after 200 ms');
    near(valueOf(reading, p, 'cpu'), 0.5, 0.03, 'cpu still read');
    assert.ok(elapsed >= 190 && elapsed < 1500, `read took ${elapsed.toFixed(0)} ms`);
  });

  it('an HTTP error on one signal is that signal’s failure, with the status', async () => {
    world = await realPrometheusWorld(env(), {}, {
      answer: (q) => (q.includes('rabbitmq') ? { status: 503, body: { status: 'error', errorType: 'unavailable', error: 'overloaded' } } : 'forward'),
    });
    const p = party('busy');
    await world.given({ [p]: { cpu: 0.1, queueDepth: 4 } });
    const reading = await world.source.read([p]);
    assert.equal(failureOf(reading, 'queueDepth'), 'HTTP 503 Service Unavailable: unavailable: overloaded');
    near(valueOf(reading, p, 'cpu'), 0.1, 0.03, 'cpu');
  });

  it('judges staleness per signal by the samples’ own timestamps', async () => {
    // rate() over 1m still sees a counter 45 s behind; over the 5 s test window it would see none.
    world = await realPrometheusWorld(env(), { rateWindow: '1m', staleAfterMs: { queueDepth: 60_000 } });
    const p = party('lagging');
    // An exporter lagging 45 s (as cAdvisor's own timestamps can): too old for cpu and memory
    // (30 s), fine for queue depth (60 s here).
    await world.given({ [p]: { cpu: 0.3, memory: 0.5, queueDepth: 2, ageMs: { cpu: 45_000, memory: 45_000, queueDepth: 45_000 } } });
    const reading = await world.source.read([p]);
    for (const signal of ['cpu', 'memory'] as const) {
      assert.equal(valueOf(reading, p, signal), undefined);
      assert.match(failureOf(reading, signal) ?? '', new RegExp(`${p}: stale \\(newest sample 4\\d\\.\\d s old, staleAfterMs 30000\\)`));
    }
    near(valueOf(reading, p, 'queueDepth'), 2, 0, 'a queue depth 45 s old is fresh enough');
    const queue = reading.samples.find((s) => s.signal === 'queueDepth');
    assert.ok(queue !== undefined && reading.at - queue.at > 40_000, 'a sample carries its own time, not the read time');
  });

  it('sees no value for a counter lagging more than the rate window', async () => {
    world = await realPrometheusWorld(env());
    const p = party('behind');
    await world.given({ [p]: { cpu: 0.3, ageMs: { cpu: 45_000 } } });
    const reading = await world.source.read([p]);
    assert.equal(failureOf(reading, 'cpu'), `no series for ${p}`);
  });

  it('reads a party named by another label when partyLabel says so', async () => {
    world = await realPrometheusWorld(env(), {
      partyLabel: 'steward',
      queries: { up: [`max by (steward) (label_replace(up, "steward", "$1", "party", "(.*)"))`] },
    });
    const p = party('relabelled');
    await world.given({ [p]: { cpu: 0.2 } });
    const reading = await world.source.read([p]);
    assert.equal(valueOf(reading, p, 'up'), 1);
    assert.match(failureOf(reading, 'cpu') ?? '', /no series/, 'the default cpu query groups by steward, which the exporter lacks');
  });
});

describe('PrometheusMetricsSource: measured against a real Prometheus', function () {
  this.timeout(40_000);
  before(function () {
    requireRealPrometheus(this);
  });

  it('reports its read latency (informative, not an assertion on speed)', async () => {
    const world = await realPrometheusWorld(env());
    try {
      const parties = ['a', 'b', 'c'].map((l) => `latency-${l}-${process.pid}`);
      await world.given(Object.fromEntries(parties.map((p) => [p, { cpu: 0.5, memory: 0.5, queueDepth: 1, powerWatts: 10 }])));
      const source = world.source;
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        const reading = await source.read(parties);
        times.push(performance.now() - started);
        assert.deepEqual(reading.failures, []);
      }
      times.sort((x, y) => x - y);
      console.log(`      read of 5 signals × 3 parties: median ${times[15]?.toFixed(1)} ms, max ${times[29]?.toFixed(1)} ms over 30 reads`);
    } finally {
      await world.close();
    }
  });
});
