/**
 * `npm run replay:record`: records a live run of the daemon as a golden trace, so replay tests
 * also pin a trace nobody generated (docs/replay.md#golden-traces). The daemon runs on this
 * machine (embedded default: local jobs, local metrics) with the reference marketplace and
 * generated wage-gap tables; a scripted workload talks to it over HTTP for about two minutes:
 * a steady stream of requests, a burst that loads the parties, an agreement that drops SURF, and
 * SURF going offline and back. Then the trace's golden decisions are written beside it.
 *
 * The recording itself depends on this machine's timings, so running it again gives another
 * trace; the decisions of a given trace are reproducible to the byte.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon } from '../daemon/start-daemon.js';
import { generateWageGapData } from '../daemon/example-data/generate-wage-gap.js';
import { goldenDecisions, goldenDir, referenceMarketplaceFile } from '../replay/traces/golden-traces.js';
import { silentLogger } from '../knowledge/ports/logger.js';

const output = path.join(goldenDir, 'recorded-reference.jsonl');
const rows = Number(process.env['RECORD_ROWS'] ?? 20_000);
const seconds = Number(process.env['RECORD_SECONDS'] ?? 120);
const token = `record-${Date.now()}-token-0123456789`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-record-'));
const recording = path.join(dir, 'run.jsonl');
const log = (line: string) => process.stdout.write(`[record] ${line}\n`);
try {
  await generateWageGapData(dir, ['UVA', 'VU', 'RUG'], { rows, seed: 7 });
  const daemon = await startDaemon(
    {
      port: 0,
      host: '127.0.0.1',
      marketplaceFile: referenceMarketplaceFile,
      dataDir: dir,
      decisionLogFile: path.join(dir, 'decisions.jsonl'),
      adminToken: token,
      watchConfig: false,
      recordFile: recording,
      strategy: { name: 'utility' },
      loop: { periodMs: 2_000, maxBackoffMs: 60_000, loadThreshold: 0.8 },
    },
    { logger: silentLogger },
  );
  // The requester signs in with the daemon's local issuer; policy changes use the admin token.
  const requesterToken = await daemon.mintToken('analyst@uva.example', { ttlMs: (seconds + 600) * 1000 });
  const call = async (method: string, url: string, body: unknown) => {
    const credential = url === '/api/v1/requestApproval' ? requesterToken : token;
    const response = await fetch(`${daemon.url}${url}`, { method, body: JSON.stringify(body), headers: { authorization: `Bearer ${credential}` } });
    await response.arrayBuffer();
    return response.status;
  };
  const request = (aggregate: boolean, providers: readonly string[]) =>
    call('POST', '/api/v1/requestApproval', {
      type: 'sqlDataRequest',
      user: { id: '12324', userName: 'analyst@uva.example' },
      dataProviders: providers,
      data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options: { aggregate }, requestMetadata: {} },
    });

  // The script of the run, in seconds from the start: what a researcher would do by hand.
  const events: [number, string, () => Promise<number>][] = [
    [0.55 * seconds, 'UVA allows otherCompany only', () => call('PUT', '/api/v1/agreements/UVA', { computeProviders: ['otherCompany'] })],
    [0.7 * seconds, 'SURF goes offline', () => call('PUT', '/api/v1/parties/SURF/status', { online: false })],
    [0.8 * seconds, 'SURF is back', () => call('PUT', '/api/v1/parties/SURF/status', { online: true })],
  ];
  const started = Date.now();
  const statuses = new Map<number, number>();
  const pending = new Set<Promise<void>>();
  const send = (aggregate: boolean, providers: readonly string[]) => {
    const task = request(aggregate, providers).then(
      (status) => void statuses.set(status, (statuses.get(status) ?? 0) + 1),
      () => void statuses.set(0, (statuses.get(0) ?? 0) + 1),
    );
    pending.add(task);
    void task.finally(() => pending.delete(task));
  };
  for (let tick = 0; ; tick++) {
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed >= seconds) break;
    for (let due = events[0]; due !== undefined && due[0] <= elapsed; due = events[0]) {
      events.shift();
      log(`${elapsed.toFixed(0)} s: ${due[1]} (HTTP ${await due[2]()})`);
    }
    // A request a second, half of them aggregating; one in ten also names RUG, which has no agreement.
    send(tick % 2 === 0, tick % 10 === 3 ? ['UVA', 'VU', 'RUG'] : ['UVA', 'VU']);
    // From 20 % to 45 % of the run, a burst: another at once, to load the parties.
    if (elapsed >= 0.2 * seconds && elapsed < 0.45 * seconds) send(tick % 2 !== 0, ['UVA', 'VU']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  await Promise.allSettled([...pending]);
  await daemon.close();
  log(`answers by HTTP status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  copyFileSync(recording, output);
  const decisions = output.replace(/\.jsonl$/, '.decisions.jsonl');
  writeFileSync(decisions, await goldenDecisions(output));
  log(`wrote ${path.relative(process.cwd(), output)} and ${path.relative(process.cwd(), decisions)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
