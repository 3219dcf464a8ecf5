import assert from 'node:assert/strict';
import type { RunningDaemon } from '../../../daemon/start-daemon.js';
import { startDaemon } from '../../../daemon/start-daemon.js';
import { DaemonMetrics } from '../../../daemon/telemetry/daemon-metrics.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { deadPort } from '../../adapters/influx/outage-proxy.js';
import { pollUntil } from '../../grafana/poll.js';
import { exampleData } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { exampleMarketplaceFile } from '../../support/fixtures.js';
import { find, parseExposition } from './exposition.js';
import { promtoolProblems, requirePromtool, standardNamesPromtoolFlags } from './promtool.js';

/** Every metric with at least one series, as a busy daemon has them. */
function everyMetricFed(): DaemonMetrics {
  const metrics = new DaemonMetrics();
  metrics.requestFinished('computeToData', 'completed', 1.2);
  metrics.requestFinished(null, 'denied', 0.03);
  metrics.phase('execute', 0.9);
  metrics.decisionChanged();
  metrics.jobFinished({ name: 'j', party: 'UVA', status: 'succeeded', startMs: 0, durationMs: 900, cpuSeconds: 0.4, maxRssBytes: 1, rowsOut: 3, bytesOut: 512, stages: [] }, 4);
  metrics.staleness('cpu', 'UVA', 2);
  metrics.loopError('intake');
  metrics.iteration('background');
  metrics.partyOnline('UVA', true);
  metrics.partySignal('UVA', 'memory', 0.4);
  metrics.decisionUtility('computeToData', 0.7);
  metrics.countDropsOf({ dropped: 2 });
  return metrics;
}

describe('/metrics under promtool check metrics (Prometheus\'s own lint)', function () {
  before(function () {
    requirePromtool(this);
  });

  it('finds nothing to fix in the daemon\'s metrics, each fed, beyond prom-client\'s standard names', async () => {
    const problems = promtoolProblems(await everyMetricFed().text());
    assert.deepEqual(problems.filter((p) => !standardNamesPromtoolFlags.includes(p)), []);
    assert.deepEqual(problems, [...standardNamesPromtoolFlags], 'the known exceptions, no more and no fewer: drop one prom-client no longer has');
  });

  it('has a promtool check that can fail', () => {
    const text = ['# HELP dynamos_answer_ms Time.', '# TYPE dynamos_answer_ms gauge', 'dynamos_answer_ms 3', '# HELP dynamos_up_total Up.', '# TYPE dynamos_up_total gauge', 'dynamos_up_total 1', ''].join('\n');
    assert.deepEqual(promtoolProblems(text), [
      'dynamos_answer_ms metric names should not contain abbreviated units',
      'dynamos_up_total non-counter metrics should not have "_total" suffix',
    ]);
    assert.match(promtoolProblems('not{ a metric\n')[0] ?? '', /^promtool exited 1: /);
  });
});

describe('a running daemon\'s /metrics, its InfluxDB down', function () {
  let data: ExampleData;
  let daemon: RunningDaemon;

  before(async function () {
    this.timeout(120_000);
    data = await exampleData(50);
    daemon = await startDaemon(
      {
        port: 0,
        marketplaceFile: exampleMarketplaceFile,
        dataDir: data.dir,
        decisionLogFile: `${data.dir}/decisions.jsonl`,
        runner: { warmProcesses: 1 },
        watchConfig: false,
        // Room for one point: the background loop's first read of the parties overflows it.
        influx: { url: `http://127.0.0.1:${await deadPort()}`, bufferSize: 1, batchSize: 1, maxRetryDelayMs: 60_000 },
      },
      { logger: silentLogger },
    );
  });
  after(async () => {
    await daemon?.close();
    data?.remove();
  });

  const scrape = async () => (await fetch(`${daemon.url}/metrics`)).text();

  it('counts the telemetry points the InfluxDB sink dropped', async () => {
    const dropped = await pollUntil(async () => {
      const value = find(parseExposition(await scrape()), 'dynamos_telemetry_dropped_total')?.value;
      return value !== undefined && value > 0 ? value : undefined;
    });
    assert.ok(dropped !== undefined, 'dynamos_telemetry_dropped_total rose above 0');
  });

  it('serves the process and Node.js metrics under their standard names, and passes promtool', async function () {
    requirePromtool(this);
    const text = await scrape();
    const families = parseExposition(text).types;
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) assert.ok(families.has(name), name);
    assert.deepEqual(promtoolProblems(text).filter((p) => !standardNamesPromtoolFlags.includes(p)), []);
  });
});
