import assert from 'node:assert/strict';
import { DaemonMetrics } from '../../../daemon/telemetry/daemon-metrics.js';
import type { JobReport } from '../../../knowledge/ports/job-runner.js';
import { find, parseExposition } from './exposition.js';
import type { Exposition } from './exposition.js';

const report = (overrides: Partial<JobReport> = {}): JobReport => ({
  name: 'req-7f3a-UVA',
  party: 'UVA',
  status: 'succeeded',
  startMs: 40,
  durationMs: 1500,
  cpuSeconds: 0.8,
  maxRssBytes: 80_000_000,
  rowsOut: 12,
  bytesOut: 4096,
  stages: [],
  ...overrides,
});

/** One of each event the daemon reports. */
function busyMetrics(): DaemonMetrics {
  const metrics = new DaemonMetrics();
  metrics.requestFinished('computeToData', 'completed', 0.8);
  metrics.requestFinished('computeToData', 'completed', 3);
  metrics.requestFinished(null, 'denied', 0.04);
  metrics.phase('plan', 0.004);
  metrics.decisionChanged();
  metrics.jobFinished(report(), 9.5);
  metrics.jobFinished(report({ name: 'req-8b1c-UVA', status: 'timedOut', bytesOut: 0 }), 0.5);
  metrics.staleness('cpu', 'VU', 12);
  metrics.loopError('background');
  metrics.iteration('request');
  metrics.partyOnline('SURF', false);
  metrics.countDropsOf({ dropped: 3 });
  metrics.partySignal('SURF', 'cpu', 0.85);
  metrics.partySignal('SURF', 'queueDepth', 12);
  metrics.decisionUtility('dataThroughTtp', 0.62);
  return metrics;
}

describe('DaemonMetrics: the daemon\'s /metrics (docs/conventions.md)', () => {
  let exposition: Exposition;
  before(async () => (exposition = parseExposition(await busyMetrics().text())));

  const expected: readonly [string, string, string, Record<string, string>, number][] = [
    ['dynamos_requests_total', 'counter', 'dynamos_requests_total', { archetype: 'computeToData', outcome: 'completed' }, 2],
    ['dynamos_requests_total', 'counter', 'dynamos_requests_total', { archetype: 'none', outcome: 'denied' }, 1],
    ['dynamos_request_duration_seconds', 'histogram', 'dynamos_request_duration_seconds_count', { archetype: 'computeToData', outcome: 'completed' }, 2],
    ['dynamos_request_duration_seconds', 'histogram', 'dynamos_request_duration_seconds_bucket', { archetype: 'computeToData', outcome: 'completed', le: '1' }, 1],
    ['dynamos_request_duration_seconds', 'histogram', 'dynamos_request_duration_seconds_bucket', { archetype: 'computeToData', outcome: 'completed', le: '120' }, 2],
    ['dynamos_request_duration_seconds', 'histogram', 'dynamos_request_duration_seconds_bucket', { archetype: 'none', outcome: 'denied', le: '0.05' }, 1],
    ['dynamos_request_duration_seconds', 'histogram', 'dynamos_request_duration_seconds_sum', { archetype: 'computeToData', outcome: 'completed' }, 3.8],
    ['dynamos_loop_phase_duration_seconds', 'histogram', 'dynamos_loop_phase_duration_seconds_count', { phase: 'plan' }, 1],
    ['dynamos_loop_phase_duration_seconds', 'histogram', 'dynamos_loop_phase_duration_seconds_bucket', { phase: 'plan', le: '0.005' }, 1],
    ['dynamos_loop_phase_duration_seconds', 'histogram', 'dynamos_loop_phase_duration_seconds_count', { phase: 'record' }, 0],
    ['dynamos_decision_changes_total', 'counter', 'dynamos_decision_changes_total', {}, 1],
    ['dynamos_jobs_total', 'counter', 'dynamos_jobs_total', { party: 'UVA', status: 'timedOut' }, 1],
    ['dynamos_job_duration_seconds', 'histogram', 'dynamos_job_duration_seconds_sum', { party: 'UVA' }, 3],
    ['dynamos_job_bytes_total', 'counter', 'dynamos_job_bytes_total', { party: 'UVA' }, 4096],
    ['dynamos_energy_joules_total', 'counter', 'dynamos_energy_joules_total', { party: 'UVA' }, 10],
    ['dynamos_metric_staleness_seconds', 'gauge', 'dynamos_metric_staleness_seconds', { signal: 'cpu', party: 'VU' }, 12],
    ['dynamos_loop_errors_total', 'counter', 'dynamos_loop_errors_total', { loop: 'background' }, 1],
    ['dynamos_loop_errors_total', 'counter', 'dynamos_loop_errors_total', { loop: 'intake' }, 0],
    ['dynamos_loop_iterations_total', 'counter', 'dynamos_loop_iterations_total', { loop: 'request' }, 1],
    ['dynamos_party_online', 'gauge', 'dynamos_party_online', { party: 'SURF' }, 0],
    ['dynamos_telemetry_dropped_total', 'counter', 'dynamos_telemetry_dropped_total', {}, 3],
    ['dynamos_party_signal', 'gauge', 'dynamos_party_signal', { party: 'SURF', signal: 'cpu' }, 0.85],
    ['dynamos_party_signal', 'gauge', 'dynamos_party_signal', { party: 'SURF', signal: 'queueDepth' }, 12],
    ['dynamos_decision_utility', 'gauge', 'dynamos_decision_utility', { archetype: 'dataThroughTtp' }, 0.62],
    ['process_cpu_user_seconds_total', 'counter', 'process_cpu_user_seconds_total', {}, Number.NaN],
    ['process_resident_memory_bytes', 'gauge', 'process_resident_memory_bytes', {}, Number.NaN],
    ['nodejs_eventloop_lag_seconds', 'gauge', 'nodejs_eventloop_lag_seconds', {}, Number.NaN],
    ['nodejs_heap_size_used_bytes', 'gauge', 'nodejs_heap_size_used_bytes', {}, Number.NaN],
  ];
  for (const [family, type, name, labels, value] of expected) {
    it(`exposes ${name}${JSON.stringify(labels)} as a ${type}`, () => {
      assert.equal(exposition.types.get(family), type);
      const sample = find(exposition, name, labels);
      assert.ok(sample !== undefined, `no ${name} with ${JSON.stringify(labels)}`);
      if (!Number.isNaN(value)) assert.equal(sample.value, value);
    });
  }

  it('puts no request or job id in a label', () => {
    const values = exposition.samples.flatMap((s) => Object.values(s.labels));
    assert.deepEqual(values.filter((v) => /req-|7f3a|8b1c/.test(v)), []);
    const names = new Set(exposition.samples.flatMap((s) => Object.keys(s.labels)));
    assert.deepEqual([...names].filter((n) => /id$|^name$|^job$|request/.test(n)), []);
  });

  it('names every metric dynamos_<subsystem>_<name>_<unit> and every counter …_total', () => {
    assert.deepEqual(namingProblems(exposition), []);
  });

  it('keeps the process and Node.js metrics under their standard names, none under dynamos_', () => {
    const families = [...exposition.types.keys()];
    assert.deepEqual(families.filter((name) => /^dynamos_(process|nodejs)_/.test(name)), []);
    assert.ok(families.includes('process_start_time_seconds') && families.includes('nodejs_version_info'));
  });

  it('has a naming check that can fail', () => {
    const bad = parseExposition(['# TYPE dynamos_request_answers counter', 'dynamos_request_answers 1', '# TYPE http_up gauge', 'http_up 1', 'dynamos_Loop_x 2'].join('\n'));
    assert.deepEqual(namingProblems(bad), [
      'counter dynamos_request_answers does not end in _total',
      'http_up breaks dynamos_<subsystem>_<name>_<unit>',
      'dynamos_Loop_x has no # TYPE',
    ]);
  });

  it('shows no party load before a party was read: an unread party is not an idle one', async () => {
    const fresh = parseExposition(await new DaemonMetrics({ defaultMetrics: false }).text());
    assert.equal(fresh.types.get('dynamos_party_signal'), 'gauge');
    assert.equal(find(fresh, 'dynamos_party_signal'), undefined);
  });

  it('keeps each instance\'s series apart (no shared default registry)', async () => {
    const fresh = parseExposition(await new DaemonMetrics().text());
    assert.equal(find(fresh, 'dynamos_requests_total'), undefined);
    assert.equal(find(fresh, 'dynamos_telemetry_dropped_total')?.value, 0);
  });

  it('follows the sink\'s running count of dropped points at each scrape, adding only what is new', async () => {
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const sink = { dropped: 0 };
    metrics.countDropsOf(sink);
    const dropped = async () => find(parseExposition(await metrics.text()), 'dynamos_telemetry_dropped_total')?.value;
    const seen = [await dropped()];
    sink.dropped = 4;
    seen.push(await dropped(), await dropped());
    sink.dropped = 9;
    seen.push(await dropped());
    assert.deepEqual(seen, [0, 4, 4, 9]);
  });

  it('ignores a value no metric can take instead of throwing into the daemon', async () => {
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    metrics.countDropsOf({ dropped: Number.NaN });
    metrics.requestFinished('computeToData', 'failed', Number.NaN);
    metrics.phase('monitor', Number.NaN);
    metrics.jobFinished(report({ durationMs: -1, bytesOut: Number.NaN }), -5);
    metrics.partySignal('VU', 'cpu', Number.NaN);
    metrics.decisionUtility('computeToData', Number.POSITIVE_INFINITY);
    const after = parseExposition(await metrics.text());
    assert.equal(find(after, 'dynamos_telemetry_dropped_total')?.value, 0);
    assert.equal(find(after, 'dynamos_requests_total', { outcome: 'failed' })?.value, 1, 'counted, though its time is unknown');
    assert.equal(find(after, 'dynamos_request_duration_seconds_count', { outcome: 'failed' }), undefined);
    assert.equal(find(after, 'dynamos_loop_phase_duration_seconds_count', { phase: 'monitor' })?.value, 0);
    assert.equal(find(after, 'dynamos_jobs_total', { party: 'UVA', status: 'succeeded' })?.value, 1);
    assert.equal(find(after, 'dynamos_energy_joules_total', { party: 'UVA' }), undefined);
    assert.equal(find(after, 'dynamos_party_signal', { party: 'VU' }), undefined);
    assert.equal(find(after, 'dynamos_decision_utility'), undefined);
  });

  it('serves the Prometheus text format', () => {
    assert.match(new DaemonMetrics({ defaultMetrics: false }).contentType, /^text\/plain; version=0\.0\.4/);
  });
});

/** Every way `exposition` breaks the naming rule of docs/conventions.md#logs-and-metrics. */
function namingProblems(exposition: Exposition): string[] {
  const convention = /^dynamos_[a-z]+_[a-z_]+(_total|_seconds|_bytes|_joules|_ratio|_count|_sum|_bucket)?$/;
  // prom-client's default metrics, under their standard names.
  const processMetric = /^(process|nodejs)_[a-z0-9_]+$/;
  const problems: string[] = [];
  for (const [name, type] of exposition.types) {
    if (!convention.test(name) && !processMetric.test(name)) problems.push(`${name} breaks dynamos_<subsystem>_<name>_<unit>`);
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`counter ${name} does not end in _total`);
  }
  for (const { name } of exposition.samples) {
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!exposition.types.has(name) && !exposition.types.has(family)) problems.push(`${name} has no # TYPE`);
  }
  return problems;
}
