import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { DaemonMetrics } from '../../../daemon/telemetry/daemon-metrics.js';
import { setTargetGroup } from './prometheus-targets.js';

const promUrl = process.env['PROM_URL'];
const targetsFile = process.env['PROM_TARGETS_FILE'];

/** Asks Prometheus for `query` until `accept` takes the result's value, for at most `timeoutMs`. */
async function queryUntil(query: string, accept: (value: number) => boolean, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await response.json()) as { status: string; data?: { result: { value: [number, string] }[] } };
    const value = body.data?.result[0]?.value[1];
    last = JSON.stringify(body);
    if (value !== undefined && accept(Number(value))) return Number(value);
    await delay(250);
  }
  throw new Error(`Prometheus did not answer ${query} as expected within ${timeoutMs} ms; last answer: ${last}`);
}

describe('DaemonMetrics scraped by a real Prometheus', function () {
  const run = randomUUID();
  const metrics = new DaemonMetrics();
  let server: http.Server | undefined;
  let target = '';

  before(async function () {
    if (promUrl === undefined || targetsFile === undefined) {
      console.log('    (skipped: PROM_URL and PROM_TARGETS_FILE are not set; run through scripts/with-test-servers.ts to test against a real Prometheus)');
      this.skip();
    }
    server = http.createServer((request, response) => {
      if (request.url !== '/metrics') return void response.writeHead(404).end();
      metrics.text().then(
        (text) => response.writeHead(200, { 'Content-Type': metrics.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    await setTargetGroup(targetsFile as string, target, { targets: [target], labels: { test_run: run } });
  });

  after(async () => {
    if (server === undefined) return;
    await setTargetGroup(targetsFile as string, target, undefined);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('reads back what the daemon counted, with its labels', async () => {
    for (let i = 0; i < 3; i += 1) metrics.requestFinished('computeToData', 'completed', 3 + i / 2);
    metrics.requestFinished(null, 'denied', 0.03);
    metrics.phase('plan', 0.002);
    metrics.phase('plan', 0.003);
    const completed = await queryUntil(`dynamos_requests_total{test_run="${run}",job="dynamos",archetype="computeToData",outcome="completed"}`, (v) => v === 3);
    const denied = await queryUntil(`dynamos_requests_total{test_run="${run}",archetype="none",outcome="denied"}`, (v) => v === 1);
    const planned = await queryUntil(`dynamos_loop_phase_duration_seconds_count{test_run="${run}",phase="plan"}`, (v) => v === 2);
    // 3, 3.5 and 4 s, all in the (2.5, 5] bucket: the median interpolates inside it.
    const median = await queryUntil(`histogram_quantile(0.5, sum by (le) (dynamos_request_duration_seconds_bucket{test_run="${run}",archetype="computeToData"}))`, (v) => v > 2.5 && v <= 5);
    assert.deepEqual([completed, denied, planned], [3, 1, 2]);
    assert.ok(median > 2.5 && median <= 5);
  });

  it('scrapes the default process metrics under their standard names', async () => {
    const resident = await queryUntil(`process_resident_memory_bytes{test_run="${run}"}`, (v) => v > 0);
    const lag = await queryUntil(`nodejs_eventloop_lag_seconds{test_run="${run}"}`, (v) => v >= 0);
    assert.ok(resident > 0 && lag >= 0);
  });
});
