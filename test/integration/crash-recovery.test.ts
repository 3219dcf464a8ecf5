import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { auditVerify } from '../../daemon/cli/audit.js';
import type { DaemonConfigInput } from '../../daemon/config.js';
import { startDaemon, localRunnerOf } from '../../daemon/start-daemon.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile, repoRoot } from '../support/fixtures.js';
import { outputUntil, processesOfRunner } from '../support/processes.js';
import { bearerFromKeysDir } from '../support/tokens.js';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const analyst = 'analyst@uva.example';
/** A one-row answer that takes hours: a steward's table counted against 10¹⁰ rows of nothing. */
const slowQuery = 'WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)) SELECT count(*) AS n FROM Personen, t a, t b, t c, t d, t e, t f, t g, t h, t i, t j';

/** Polls `check` until it holds; a bound on the wait, not a timing assertion. */
async function until(what: string, check: () => boolean | Promise<boolean>, boundMs = 60_000): Promise<void> {
  const giveUpAt = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function recordsOf(file: string): DecisionRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"at"'))
    .map((line) => JSON.parse(line) as DecisionRecord);
}

/**
 * kill -9 of the daemon with requests in flight, then a restart: every request that started has
 * a record of how it ended, the log verifies, and nothing of the dead daemon is left running.
 */
describe('robustness: a daemon killed mid-run', function () {
  this.timeout(300_000);
  let data: ExampleData;

  before(async () => {
    data = await exampleData(200);
  });
  after(() => data.remove());

  it('leaves every request a record, a log that verifies, and no orphan', async () => {
    const logFile = path.join(data.dir, 'decisions.jsonl');
    const settings: DaemonConfigInput = { port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, decisionLogFile: logFile, runner: { warmProcesses: 1 }, watchConfig: false, metrics: { source: 'none' }, logLevel: 'silent' };
    const child = spawn(process.execPath, ['--import', tsx, path.join(repoRoot, 'test', 'support', 'daemon-child.ts'), JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [, pid, runnerId, url] = (await outputUntil(child, /ready .*\n/)).trim().split(' ') as [string, string, string, string];
      const { authorization } = await bearerFromKeysDir(path.join(data.dir, 'keys'), analyst);
      const body = { type: 'sqlDataRequest', user: { userName: analyst }, dataProviders: ['VU', 'UVA'], data_request: { type: 'sqlDataRequest', query: slowQuery, algorithm: 'none' } };
      const inFlight = Array.from({ length: 3 }, () => fetch(`${url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(body), headers: { authorization } }).catch(() => 'connection lost'));
      await until('three requests in flight', () => recordsOf(logFile).filter((r) => r.outcome.kind === 'started').length === 3);

      child.kill('SIGKILL');
      await once(child, 'exit');
      assert.deepEqual(await Promise.all(inFlight), ['connection lost', 'connection lost', 'connection lost']);
      await until('the dead daemon\'s jobs to end', () => processesOfRunner(runnerId).length === 0);

      const restarted = await startDaemon(settings, { logger: silentLogger });
      try {
        const swept = await localRunnerOf(restarted).swept;
        assert.deepEqual(readdirSync(os.tmpdir()).filter((name) => name.startsWith(`dynamos-job-${pid}-`)), [], 'its temp directories are gone');
        assert.ok(swept.every((dir) => !existsSync(dir)));
        const records = recordsOf(logFile);
        const started = records.filter((r) => r.outcome.kind === 'started');
        assert.equal(started.length, 3);
        for (const s of started) {
          const ends = records.filter((r) => r.requestId === s.requestId && r.outcome.kind !== 'started');
          assert.deepEqual(ends.map((r) => r.outcome.kind), ['interrupted'], `${s.requestId} ends once, interrupted`);
          assert.match(ends[0]?.outcome.reason ?? '', /the daemon stopped while this request was in flight/);
        }
      } finally {
        await restarted.close();
      }
      const out: string[] = [];
      const status = await auditVerify(logFile, { keys: [restarted.auditKey.publicFile] }, { out: (l) => out.push(l), err: (l) => out.push(l) });
      assert.equal(status, 0, out.join('\n'));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
