import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { createPrometheusMetricsSource } from '../../../adapters/prometheus/index.js';
import type { PrometheusConfig, PrometheusMetricsSource } from '../../../adapters/prometheus/index.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import type { MetricsReading, Signal } from '../../../knowledge/ports/metrics-source.js';
import type { FrontAnswer } from './prometheus-front.js';
import { PrometheusFront, vectorAnswer } from './prometheus-front.js';

/**
 * What the stub Prometheus knows, per metric name: each party's value, and optionally how old
 * its newest sample is (answered to the `timestamp()` queries), or a fixed answer.
 */
type Metrics = Record<string, { values: Record<string, number | string>; ageS?: Record<string, number> } | FrontAnswer>;

/** Answers a query from the first metric it names (whole words, in table order). */
function answerFrom(metrics: Metrics, partyLabel = 'party'): (query: string) => FrontAnswer {
  return (query) => {
    const now = Date.now() / 1000;
    for (const [metric, known] of Object.entries(metrics)) {
      if (!new RegExp(`\\b${metric}\\b`).test(query)) continue;
      if (typeof known === 'string' || 'status' in known) return known;
      const stamps = query.includes('timestamp(');
      return vectorAnswer(
        Object.entries(known.values).map(([party, value]) => ({
          labels: { [partyLabel]: party },
          value: stamps ? now - (known.ageS?.[party] ?? 0) : value,
          atSeconds: now,
        })),
      );
    }
    return vectorAnswer([]);
  };
}

const valueOf = (r: MetricsReading, party: string, signal: Signal) => r.samples.find((s) => s.party === party && s.signal === signal)?.value;
const failureOf = (r: MetricsReading, signal: Signal) => r.failures.find((f) => f.signal === signal)?.reason;

describe('PrometheusMetricsSource: how it reads Prometheus answers (stub API, no server needed)', () => {
  let front: PrometheusFront | undefined;
  let source: PrometheusMetricsSource | undefined;

  async function given(metrics: Metrics, config: Partial<PrometheusConfig> = {}): Promise<PrometheusMetricsSource> {
    front = await PrometheusFront.start({ answer: answerFrom(metrics, config.partyLabel) });
    source = createPrometheusMetricsSource({ url: front.url, ...config }, { logger: silentLogger, clock: systemClock });
    return source;
  }
  afterEach(async () => {
    await source?.close();
    await front?.close();
    source = front = undefined;
  });

  const everySignal: Metrics = {
    node_cpu_seconds_total: { values: { UVA: 0.2 } },
    node_memory_MemAvailable_bytes: { values: { UVA: 0.4 } },
    rabbitmq_queue_messages: { values: { UVA: 3 } },
    kepler_container_joules_total: { values: { UVA: 12.5 } },
    up: { values: { UVA: 1 } },
  };

  it('reads one sample per signal for the asked party, ignoring parties not asked for', async () => {
    const s = await given({ ...everySignal, up: { values: { UVA: 1, VU: 1 } } });
    const reading = await s.read(['UVA']);
    assert.deepEqual(reading.failures, []);
    assert.deepEqual(reading.samples.map((x) => [x.signal, x.party, x.value]), [
      ['cpu', 'UVA', 0.2],
      ['memory', 'UVA', 0.4],
      ['queueDepth', 'UVA', 3],
      ['powerWatts', 'UVA', 12.5],
      ['up', 'UVA', 1],
    ]);
  });

  it('tries the next alternative only for the parties still missing', async () => {
    const s = await given({
      node_cpu_seconds_total: { values: { UVA: 0.2 } },
      container_cpu_usage_seconds_total: { values: { UVA: 0.9, VU: 0.7 } },
    });
    const reading = await s.read(['UVA', 'VU']);
    assert.equal(valueOf(reading, 'UVA', 'cpu'), 0.2, 'node_exporter first');
    assert.equal(valueOf(reading, 'VU', 'cpu'), 0.7, 'cAdvisor for the party node_exporter lacks');
    assert.equal(failureOf(reading, 'cpu'), undefined);
  });

  it('takes a fresh value from a later alternative over a stale one from an earlier', async () => {
    const s = await given({
      kepler_container_joules_total: { values: { UVA: 50 }, ageS: { UVA: 300 } },
      kepler_container_cpu_joules_total: { values: { UVA: 40 } },
    });
    assert.equal(valueOf(await s.read(['UVA']), 'UVA', 'powerWatts'), 40);
  });

  it('refuses a value whose newest sample is older than staleAfterMs, saying how old', async () => {
    const s = await given({ node_memory_MemAvailable_bytes: { values: { UVA: 0.5, VU: 0.6 }, ageS: { UVA: 31 } } });
    const reading = await s.read(['UVA', 'VU']);
    assert.equal(valueOf(reading, 'UVA', 'memory'), undefined);
    assert.equal(valueOf(reading, 'VU', 'memory'), 0.6);
    assert.match(failureOf(reading, 'memory') ?? '', /^UVA: stale \(newest sample 31\.\d s old, staleAfterMs 30000\)$/);
  });

  const dropped = [
    { rule: 'NaN', value: 'NaN', reason: 'no series for UVA' },
    { rule: '+Inf', value: '+Inf', reason: 'no series for UVA' },
    { rule: 'a percentage where a fraction belongs', value: 57, reason: 'UVA: value 57 is not a fraction 0..1' },
  ];
  for (const row of dropped) {
    it(`drops ${row.rule}`, async () => {
      const s = await given({ node_cpu_seconds_total: { values: { UVA: row.value } } });
      assert.equal(failureOf(await s.read(['UVA']), 'cpu'), row.reason);
    });
  }

  it('clamps a fraction rate() overshot a little', async () => {
    const s = await given({ node_cpu_seconds_total: { values: { UVA: 1.02 } } });
    assert.equal(valueOf(await s.read(['UVA']), 'UVA', 'cpu'), 1);
  });

  const httpFailures: { rule: string; answer: FrontAnswer; reason: string }[] = [
    { rule: 'a 503 with Prometheus’s error body', answer: { status: 503, body: { status: 'error', errorType: 'unavailable', error: 'too many queries' } }, reason: 'HTTP 503 Service Unavailable: unavailable: too many queries' },
    { rule: 'a 400 for a bad query', answer: { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error' } }, reason: 'HTTP 400 Bad Request: bad_data: parse error' },
    { rule: 'a proxy’s HTML page', answer: { status: 502, body: '<html>bad gateway</html>' }, reason: 'HTTP 502 Bad Gateway: <html>bad gateway</html>' },
    { rule: 'a 200 that is not Prometheus', answer: { status: 200, body: '{"hello":1}' }, reason: 'not a Prometheus answer: {"hello":1}' },
  ];
  for (const row of httpFailures) {
    it(`lists ${row.rule} as that signal's failure and reads the others`, async () => {
      const s = await given({ ...everySignal, rabbitmq_queue_messages: row.answer, rabbitmq_queue_messages_ready: row.answer });
      const reading = await s.read(['UVA']);
      assert.equal(failureOf(reading, 'queueDepth'), row.reason);
      assert.equal(valueOf(reading, 'UVA', 'cpu'), 0.2);
    });
  }

  it('a query that never answers fails its signal after timeoutMs, not the read', async () => {
    const s = await given({ ...everySignal, kepler_container_joules_total: 'hang' }, { timeoutMs: 200 });
    const started = performance.now();
    const reading = await s.read(['UVA']);
    const elapsed = performance.now() - started;
    assert.equal(failureOf(reading, 'powerWatts'), 'timed out after 200 ms');
    assert.equal(valueOf(reading, 'UVA', 'cpu'), 0.2);
    assert.ok(elapsed >= 190 && elapsed < 1500, `read took ${elapsed.toFixed(0)} ms`);
  });

  it('rejects, retryably, naming the URL, when no query is answered', async () => {
    const s = await given({}, { timeoutMs: 200 });
    const url = (front as PrometheusFront).url;
    await (front as PrometheusFront).down();
    await assert.rejects(s.read(['UVA']), (e: unknown) => {
      assert.ok(e instanceof DynamosError);
      assert.equal(e.code, 'ADAPTER_UNAVAILABLE');
      assert.equal(e.retryable, true);
      assert.equal(e.message, `Prometheus at ${url} answered no query: connection refused (ECONNREFUSED)`);
      return true;
    });
  });

  it('rejects with ADAPTER_TIMEOUT when every query timed out', async () => {
    const s = await given({ '.*': 'hang' }, { timeoutMs: 100 });
    await assert.rejects(s.read(['UVA']), (e: unknown) => {
      assert.ok(e instanceof DynamosError);
      assert.equal(e.code, 'ADAPTER_TIMEOUT');
      assert.match(e.message, /answered no query: timed out after 100 ms$/);
      return true;
    });
  });

  it('an empty answer from every query is a reading full of failures, not an outage', async () => {
    const s = await given({});
    const reading = await s.read(['UVA']);
    assert.deepEqual(reading.samples, []);
    assert.deepEqual(reading.failures.map((f) => f.reason), Array(5).fill('no series for UVA'));
  });

  it('close aborts a read in flight; a caller’s abort rejects with its reason', async () => {
    const s = await given({ up: 'hang' }, { timeoutMs: 10_000 });
    const closing = s.read(['UVA']);
    await s.close();
    await assert.rejects(closing, (e: unknown) => e instanceof DynamosError && /closed/.test(e.message));

    source = createPrometheusMetricsSource({ url: (front as PrometheusFront).url, timeoutMs: 10_000 }, { logger: silentLogger, clock: systemClock });
    const controller = new AbortController();
    const reading = source.read(['UVA'], controller.signal);
    controller.abort(new Error('request cancelled'));
    await assert.rejects(reading, /request cancelled/);
  });

  it('sends the configured authorization and headers, and the label-rendered queries', async () => {
    const s = await given({ up: { values: { RUG: 1 } } }, {
      partyLabel: 'steward',
      rateWindow: '2m',
      auth: { type: 'bearer', token: 's3cret' },
      headers: { 'X-Scope-OrgID': 'amdex' },
    });
    assert.equal(valueOf(await s.read(['RUG']), 'RUG', 'up'), 1);
    const seen = (front as PrometheusFront).seen;
    assert.ok(seen.every((q) => q.headers.authorization === 'Bearer s3cret' && q.headers['x-scope-orgid'] === 'amdex'));
    assert.ok(seen.some((q) => q.query === '1 - avg by (steward) (rate(node_cpu_seconds_total{mode="idle"}[2m]))'));
  });

  it('sends basic credentials', async () => {
    const s = await given(everySignal, { auth: { type: 'basic', username: 'dynamos', password: 'pw' } });
    await s.read(['UVA']);
    assert.equal((front as PrometheusFront).seen[0]?.headers.authorization, `Basic ${Buffer.from('dynamos:pw').toString('base64')}`);
  });
});
