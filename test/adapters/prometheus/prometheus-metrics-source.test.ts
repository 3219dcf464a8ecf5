import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { MetricsReading, Signal } from '../../../knowledge/ports/metrics-source.js';
import { metricsSourceContract } from '../../contract/metrics-source.contract.js';
import { requireTestServerEnv, testServerEnv } from '../../support/servers/server-env.js';
import type { PrometheusConfig } from '../../../adapters/prometheus/index.js';
import type { FrontOptions } from './prometheus-front.js';
import type { FrontedSource } from './prometheus-world.js';
import { readThroughFront, realPrometheusWorld, waitForScrapes } from './prometheus-world.js';
import type { ExportedParty } from './test-exporter.js';
import { TestExporter } from './test-exporter.js';

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

/**
 * One exporter and one wait for scrapes for the whole suite (Prometheus applies new file_sd
 * targets at most every 5 s); each test reads it through its own source and front.
 */
describe('PrometheusMetricsSource against a real Prometheus', function () {
  this.timeout(40_000);
  const p = (label: string) => `${label}-${process.pid}`;
  const parties = {
    kepler09: p('k09'),
    kepler010: p('k010'),
    kepler010pods: p('k010pods'),
    cadvisor: p('cadvisor'),
    plain: p('plain'),
    plain2: p('plain2'),
    plain3: p('plain3'),
    lagging: p('lagging'),
    behind: p('behind'),
  };
  let exporter: TestExporter | undefined;
  let reading: FrontedSource | undefined;

  before(async function () {
    requireRealPrometheus(this);
    exporter = await TestExporter.start(env().targetsFile);
    const exported: Record<string, ExportedParty> = {
      [parties.kepler09]: { powerWatts: 50, kepler: 'kepler-0.9' },
      [parties.kepler010]: { powerWatts: 80, kepler: 'kepler-0.10' },
      [parties.kepler010pods]: { powerWatts: 30, kepler: 'kepler-0.10-pods' },
      [parties.cadvisor]: { cpu: 0.4, memory: 0.3, cadvisor: true },
      [parties.plain]: { cpu: 0.5, memory: 0.5, queueDepth: 4, powerWatts: 20 },
      [parties.plain2]: { cpu: 0.1, memory: 0.2, queueDepth: 0, powerWatts: 5 },
      [parties.plain3]: { cpu: 0.9, memory: 0.8, queueDepth: 9, powerWatts: 90 },
      // An exporter lagging 45 s (as cAdvisor's own timestamps can).
      [parties.lagging]: { cpu: 0.3, memory: 0.5, queueDepth: 2, ageMs: { cpu: 45_000, memory: 45_000, queueDepth: 45_000 } },
      [parties.behind]: { cpu: 0.3, ageMs: { cpu: 45_000 } },
    };
    exporter.add(exported);
    await waitForScrapes(env().promUrl, Object.keys(exported).map((party) => ({ party, up: 1 as const })));
  });
  afterEach(async () => {
    await reading?.close();
    reading = undefined;
  });
  after(async () => exporter?.close());

  const through = async (config: Partial<PrometheusConfig> = {}, front: Omit<FrontOptions, 'upstream'> = {}) =>
    (reading = await readThroughFront(env().promUrl, config, front)).source;

  it('reads power from Kepler ≤ 0.9 and ≥ 0.10 (containers or pods), package + dram only', async () => {
    const { kepler09, kepler010, kepler010pods } = parties;
    const r = await (await through()).read([kepler09, kepler010, kepler010pods]);
    near(valueOf(r, kepler09, 'powerWatts'), 50, 1.5, 'Kepler 0.9');
    near(valueOf(r, kepler010, 'powerWatts'), 80, 2.5, 'Kepler 0.10 containers');
    near(valueOf(r, kepler010pods, 'powerWatts'), 30, 1, 'Kepler 0.10 pods');
    assert.equal(failureOf(r, 'powerWatts'), undefined);
  });

  it('falls back to cAdvisor for cpu and memory, counting each container once', async () => {
    const r = await (await through()).read([parties.cadvisor]);
    near(valueOf(r, parties.cadvisor, 'cpu'), 0.4, 0.03, 'cAdvisor cpu');
    near(valueOf(r, parties.cadvisor, 'memory'), 0.3, 0.001, 'cAdvisor memory');
  });

  it('a query that never answers fails its signal after timeoutMs, and the read goes on', async () => {
    const source = await through({ timeoutMs: 200 }, { answer: (q) => (q.includes('kepler') ? 'hang' : 'forward') });
    const started = performance.now();
    const r = await source.read([parties.plain]);
    const elapsed = performance.now() - started;
    assert.equal(failureOf(r, 'powerWatts'), 'timed out after 200 ms');
    near(valueOf(r, parties.plain, 'cpu'), 0.5, 0.03, 'cpu still read');
    assert.ok(elapsed >= 190 && elapsed < 1500, `read took ${elapsed.toFixed(0)} ms`);
  });

  it('an HTTP error on one signal is that signal’s failure, with the status', async () => {
    const source = await through({}, {
      answer: (q) => (q.includes('rabbitmq') ? { status: 503, body: { status: 'error', errorType: 'unavailable', error: 'overloaded' } } : 'forward'),
    });
    const r = await source.read([parties.plain]);
    assert.equal(failureOf(r, 'queueDepth'), 'HTTP 503 Service Unavailable: unavailable: overloaded');
    near(valueOf(r, parties.plain, 'cpu'), 0.5, 0.03, 'cpu');
  });

  it('judges staleness per signal by the samples’ own timestamps', async () => {
    // rate() over 1m still sees a counter 45 s behind; over the 5 s test window it would see none.
    const source = await through({ rateWindow: '1m', staleAfterMs: { queueDepth: 60_000 } });
    const { lagging } = parties;
    const r = await source.read([lagging]);
    for (const signal of ['cpu', 'memory'] as const) {
      assert.equal(valueOf(r, lagging, signal), undefined);
      assert.match(failureOf(r, signal) ?? '', new RegExp(`${lagging}: stale \\(newest sample 4\\d\\.\\d s old, staleAfterMs 30000\\)`));
    }
    near(valueOf(r, lagging, 'queueDepth'), 2, 0, 'a queue depth 45 s old is fresh enough at 60 s');
    const queue = r.samples.find((s) => s.signal === 'queueDepth');
    assert.ok(queue !== undefined && r.at - queue.at > 40_000, 'a sample carries its own time, not the read time');
  });

  it('sees no value for a counter lagging more than the rate window', async () => {
    const r = await (await through()).read([parties.behind]);
    assert.equal(failureOf(r, 'cpu'), `no series for ${parties.behind}`);
  });

  it('reads a party named by another label when partyLabel says so', async () => {
    const source = await through({
      partyLabel: 'steward',
      queries: { up: [`max by (steward) (label_replace(up, "steward", "$1", "party", "(.*)"))`] },
    });
    const r = await source.read([parties.plain]);
    assert.equal(valueOf(r, parties.plain, 'up'), 1);
    assert.match(failureOf(r, 'cpu') ?? '', /no series/, 'the default cpu query groups by steward, which the exporter lacks');
  });

  it('reports its read latency (informative, not an assertion on speed)', async () => {
    const source = await through();
    const asked = [parties.plain, parties.plain2, parties.plain3];
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      const r = await source.read(asked);
      times.push(performance.now() - started);
      assert.deepEqual(r.failures, []);
    }
    times.sort((x, y) => x - y);
    console.log(`      read of 5 signals × 3 parties: median ${times[15]?.toFixed(1)} ms, max ${times[29]?.toFixed(1)} ms over 30 reads`);
  });
});
