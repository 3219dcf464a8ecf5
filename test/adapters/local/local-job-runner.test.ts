import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import { LocalJobRunner } from '../../../adapters/local/local-job-runner.js';
import { analyze } from '../../../daemon/mape/analyze.js';
import { plan } from '../../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { knowledgeOf } from '../../../knowledge/knowledge-snapshot.js';
import type { Deployment } from '../../../knowledge/ports/job-runner.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { exampleData, expectedAverages } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { dataRequest, exampleConfig, marketplaceFrom } from '../../support/fixtures.js';
import { jobTempDirsOfThisProcess, processesOfRunner } from '../../support/processes.js';
import { endlessQuery, endlessRowsOf } from '../../support/endless-query.js';

describe('LocalJobRunner: single-use job processes', function () {
  let data: ExampleData;
  let clock: SimulatedClock;
  let runner: LocalJobRunner;

  before(async () => (data = await exampleData(400)));
  after(() => data.remove());
  beforeEach(() => {
    clock = new SimulatedClock();
    runner = new LocalJobRunner({ warmProcesses: 1 }, { logger: silentLogger, clock });
  });
  afterEach(async () => {
    await runner.close();
    assert.deepEqual(processesOfRunner(runner.runnerId), [], 'no job process outlives its runner');
    assert.deepEqual(jobTempDirsOfThisProcess(), [], 'no job temp directory is left behind');
  });

  function deploymentFor(overrides: Partial<DataRequest>, deadlineMs = 60_000): Deployment {
    const k = knowledgeOf(marketplaceFrom(exampleConfig(), data.dir), 0);
    const p = plan(k, analyze(k, dataRequest(overrides)), dynamosStrategy);
    assert.equal(p.kind, 'deploy');
    return { requestId: dataRequest(overrides).id, jobs: p.kind === 'deploy' ? p.jobs : [], deadlineMs };
  }

  /** Only the pool's fresh, unused process may remain once a deployment is done. */
  function assertOnlyThePoolRemains(): void {
    assert.ok(processesOfRunner(runner.runnerId).length <= 1);
    assert.deepEqual(jobTempDirsOfThisProcess(), []);
  }

  it('runs the chain at a steward and returns its result, leaving only the fresh pool behind', async () => {
    const result = await runner.run(deploymentFor({ providers: ['UVA'] }));
    assert.deepEqual(result.jobs.map((j) => [j.party, j.status]), [['UVA', 'succeeded']]);
    assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['UVA']));
    assert.deepEqual(result.jobs[0]?.stages.map((s) => s.stage), ['workspace', 'inputs', 'sql-query', 'sql-anonymize', 'sql-algorithm', 'output']);
    assertOnlyThePoolRemains();
  });

  it('passes two stewards\' data through the TTP\'s sidecar and combines it once', async () => {
    const result = await runner.run(deploymentFor({ providers: ['VU', 'UVA'], options: { aggregate: true } }));
    assert.deepEqual(result.jobs.map((j) => j.status), ['succeeded', 'succeeded', 'succeeded']);
    assert.equal(result.results.length, 1);
    assert.equal(result.results[0]?.computedBy, 'SURF');
    assert.deepEqual(result.results[0]?.providers, ['VU', 'UVA']);
    assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['VU', 'UVA']));
    assert.equal(result.jobs.find((j) => j.party === 'VU')?.rowsOut, 400, 'each steward streamed its 400 joined rows');
    assertOnlyThePoolRemains();
  });

  it('kills a job at its deadline with its process group', async () => {
    const slow = deploymentFor({ providers: ['UVA'], query: endlessQuery, tables: [], algorithm: 'none' }, 5_000);
    const running = runner.run(slow);
    const [assigned] = (await once(runner.events, 'jobAssigned')) as [{ pid: number }];
    assert.ok(processesOfRunner(runner.runnerId).includes(assigned.pid));
    clock.increment(5_000);
    const result = await running;
    assert.deepEqual(result.jobs.map((j) => [j.status, j.error?.code]), [['timedOut', 'JOB_TIMEOUT']]);
    assert.equal(processesOfRunner(runner.runnerId).includes(assigned.pid), false);
    assertOnlyThePoolRemains();
  });

  it('cancels every job of a deployment when its signal aborts', async () => {
    const controller = new AbortController();
    const running = runner.run(deploymentFor({ providers: ['UVA'], query: endlessQuery, tables: [], algorithm: 'none' }), controller.signal);
    await once(runner.events, 'jobAssigned');
    controller.abort();
    await assert.rejects(running, (e: unknown) => e instanceof DynamosError && e.code === 'JOB_CANCELLED');
    assertOnlyThePoolRemains();
  });

  /** Both stewards stream endless rows to SURF; resolves once all three jobs have their pids. */
  async function endlessThroughTtp() {
    const running = runner.run(deploymentFor({ providers: ['VU', 'UVA'], options: { aggregate: true }, query: endlessRowsOf('Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr') }));
    const assigned = new Map<string, number>();
    while (assigned.size < 3) {
      const [event] = (await once(runner.events, 'jobAssigned')) as [{ party: string; pid: number }];
      assigned.set(event.party, event.pid);
    }
    return { running, assigned };
  }

  it('reports a crashed steward job and ends the TTP job waiting for its data', async () => {
    const { running, assigned } = await endlessThroughTtp();
    const vuEnded = once(runner.events, 'jobEnded');
    process.kill(assigned.get('VU') as number, 'SIGKILL');
    await vuEnded;
    clock.increment(60_000);
    const result = await running;
    const vu = result.jobs.find((j) => j.party === 'VU');
    assert.equal(vu?.status, 'failed');
    assert.match(vu?.error?.message ?? '', /signal SIGKILL/);
    // Whichever sees it first, the runner or the TTP's own fetch, the TTP's failure names VU as the cause.
    const surf = result.jobs.find((j) => j.party === 'SURF');
    assert.equal(surf?.status, 'failed');
    assert.match(surf?.error?.message ?? '', /^(input from VU failed|party VU's sidecar went away or could not be reached)$/);
    assert.deepEqual(result.results, []);
    assertOnlyThePoolRemains();
  });

  it('ends the stewards still working when the TTP that needed their data crashes', async () => {
    const { running, assigned } = await endlessThroughTtp();
    process.kill(assigned.get('SURF') as number, 'SIGKILL');
    // No deadline passes: the stewards end because their consumer is gone, not at the deadline.
    const result = await running;
    assert.equal(result.jobs.find((j) => j.party === 'SURF')?.status, 'failed');
    for (const steward of ['VU', 'UVA']) {
      const job = result.jobs.find((j) => j.party === steward);
      assert.equal(job?.status, 'failed', steward);
      assert.match(job?.error?.message ?? '', /SURF/, steward);
    }
    assertOnlyThePoolRemains();
  });

  it('returns the other steward\'s result when one steward\'s query fails on its data', async () => {
    const query = "SELECT Geslacht, CASE WHEN p.Instcode = 'UVA' THEN CAST(p.Instcode || ' row' AS INTEGER) ELSE Salschal END AS Salschal FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr";
    const result = await runner.run(deploymentFor({ providers: ['VU', 'UVA'], query }));
    assert.deepEqual(result.jobs.map((j) => [j.party, j.status, j.error?.code]), [['VU', 'succeeded', undefined], ['UVA', 'failed', 'QUERY_FAILED']]);
    assert.deepEqual(result.results.map((r) => r.computedBy), ['VU']);
    assertOnlyThePoolRemains();
  });

  it('removes the temp directories of runners that died, and only those', async () => {
    const dead = path.join(os.tmpdir(), 'dynamos-job-999999999-left');
    const alive = path.join(os.tmpdir(), `dynamos-job-${process.ppid}-kept`);
    mkdirSync(dead, { recursive: true });
    mkdirSync(alive, { recursive: true });
    const fresh = new LocalJobRunner({ warmProcesses: 0 }, { logger: silentLogger, clock });
    await fresh.close();
    await fresh.swept;
    assert.equal(existsSync(dead), false);
    assert.equal(existsSync(alive), true);
    rmSync(alive, { recursive: true });
  });
});
