import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { localRunnerOf, startDaemon } from '../../daemon/start-daemon.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { processesOfRunner } from '../support/processes.js';
import { asRequester } from '../support/tokens.js';

/** A one-row answer that takes hours: a steward's table against 10⁷ rows of nothing. */
const slowQuery = 'WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)) SELECT count(*) AS n FROM Personen, t a, t b, t c, t d, t e, t f, t g';

/**
 * A requester that hangs up before its answer: its jobs are cancelled at once and its request
 * gets its `cancelled` record. Before, the request ran on, and a record waited for a connection
 * close that had already happened, so the request had a `started` record and no end.
 */
describe('a requester that goes away', function () {
  this.timeout(120_000);
  let data: ExampleData;
  let daemon: RunningDaemon;
  let log: string;

  before(async () => {
    data = await exampleData(300);
    log = path.join(data.dir, 'decisions.jsonl');
    daemon = await startDaemon({ port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, decisionLogFile: log, watchConfig: false, metrics: { source: 'none' }, runner: { warmProcesses: 1 } }, { logger: silentLogger });
  });
  after(async () => {
    await daemon.close();
    data.remove();
  });

  it('cancels its jobs, and its request ends with a cancelled record', async () => {
    const body = { type: 'sqlDataRequest', user: { userName: 'analyst@uva.example' }, dataProviders: ['UVA'], data_request: { type: 'sqlDataRequest', query: slowQuery, algorithm: 'none' } };
    const headers = await asRequester(daemon, body);
    const client = new AbortController();
    const assigned = new Promise<{ pid: number }>((resolve) => daemon.runner.events.once('jobAssigned', resolve));
    const asked = fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(body), headers, signal: client.signal }).catch((e: Error) => e.name);
    const { pid } = await assigned;
    const ended = new Promise((resolve) => daemon.runner.events.once('deploymentEnded', resolve));
    client.abort();
    assert.equal(await asked, 'AbortError');
    await ended;
    assert.equal(processesOfRunner(localRunnerOf(daemon).runnerId).includes(pid), false, 'the job process is gone');
    const recorded = async () => readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('{"at"')).map((l) => JSON.parse(l) as DecisionRecord);
    // The record follows the answer that could not be delivered; a bound on the wait, not a timing.
    for (let i = 0; i < 500 && (await recorded()).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const records = await recorded();
    assert.deepEqual(records.map((r) => r.outcome.kind), ['started', 'cancelled']);
    assert.match(records[1]?.outcome.reason ?? '', /the requester went away/);
  });
});
