import assert from 'node:assert/strict';
import type { SimulatedClock } from 'xstate';
import { analyze } from '../../daemon/mape/analyze.js';
import { plan } from '../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../daemon/mape/strategies/dynamos-strategy.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import { DynamosError } from '../../knowledge/errors.js';
import { knowledgeOf } from '../../knowledge/knowledge-snapshot.js';
import type { Deployment, JobRunner } from '../../knowledge/ports/job-runner.js';
import { endlessQuery, endlessRowsOf } from '../support/endless-query.js';
import { exampleData, expectedAverages } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { dataRequest, exampleConfig, marketplaceFrom } from '../support/fixtures.js';

/**
 * Where a JobRunner runs its jobs, as the contract sees it: the runner, its clock, and what is
 * left of the jobs (processes, Jobs, pods) once a deployment is over.
 */
export interface JobRunnerWorld {
  readonly runner: JobRunner;
  readonly clock: SimulatedClock;
  /** Resolves once `count` of the runner's jobs run (a process assigned, a pod's container started). */
  jobsRunning(count: number): Promise<void>;
  /** Kills the running job of `party` from outside, as a crash or an eviction would. */
  crash(party: string): Promise<void>;
  /** What is left of the runner's jobs besides what it keeps warm, named; [] when nothing. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * What every JobRunner does, whether its jobs are local processes or Kubernetes Jobs: answers a
 * request through the data plane, ends jobs at the deadline, on cancel and when their partner
 * fails, and leaves nothing behind.
 */
export function jobRunnerContract(name: string, makeWorld: (data: ExampleData) => Promise<JobRunnerWorld>): void {
  describe(`JobRunner contract: ${name}`, function () {
    this.timeout(120_000);
    let data: ExampleData;
    let world: JobRunnerWorld;

    before(async () => (data = await exampleData(300)));
    after(() => data.remove());
    beforeEach(async () => (world = await makeWorld(data)));
    afterEach(async () => {
      const left = await world.leftovers();
      await world.close();
      assert.deepEqual(left, [], 'nothing of a deployment outlives it');
    });

    function deploymentFor(overrides: Partial<DataRequest>, deadlineMs = 60_000): Deployment {
      const k = knowledgeOf(marketplaceFrom(exampleConfig(), data.dir), 0);
      const p = plan(k, analyze(k, dataRequest(overrides)), dynamosStrategy);
      assert.equal(p.kind, 'deploy');
      return { requestId: dataRequest(overrides).id, jobs: p.kind === 'deploy' ? p.jobs : [], deadlineMs };
    }

    it('answers a steward\'s part with its own data (compute to data)', async () => {
      const result = await world.runner.run(deploymentFor({ providers: ['UVA'] }));
      assert.deepEqual(result.jobs.map((j) => [j.party, j.status]), [['UVA', 'succeeded']]);
      assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['UVA']));
      assert.equal(result.results[0]?.computedBy, 'UVA');
      assert.ok((result.jobs[0]?.cpuSeconds ?? 0) > 0, 'the job reports its CPU time');
    });

    it('passes two stewards\' data through the TTP and combines it once', async () => {
      const result = await world.runner.run(deploymentFor({ providers: ['VU', 'UVA'], options: { aggregate: true } }));
      assert.deepEqual(result.jobs.map((j) => j.status), ['succeeded', 'succeeded', 'succeeded']);
      assert.deepEqual(result.results.map((r) => [r.computedBy, r.providers]), [['SURF', ['VU', 'UVA']]]);
      assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['VU', 'UVA']));
      assert.equal(result.jobs.find((j) => j.party === 'VU')?.rowsOut, 300);
    });

    it('reports a steward\'s query failure with its code and still answers with the other steward', async () => {
      const query = "SELECT Geslacht, CASE WHEN p.Instcode = 'UVA' THEN CAST(p.Instcode || ' row' AS INTEGER) ELSE Salschal END AS Salschal FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr";
      const result = await world.runner.run(deploymentFor({ providers: ['VU', 'UVA'], query }));
      assert.deepEqual(result.jobs.map((j) => [j.party, j.status, j.error?.code]), [['VU', 'succeeded', undefined], ['UVA', 'failed', 'QUERY_FAILED']]);
      assert.deepEqual(result.results.map((r) => r.computedBy), ['VU']);
    });

    it('stops every job at the deadline', async () => {
      const running = world.runner.run(deploymentFor({ providers: ['UVA'], query: endlessQuery, tables: [], algorithm: 'none' }, 30_000));
      await world.jobsRunning(1);
      world.clock.increment(30_000);
      const result = await running;
      assert.deepEqual(result.jobs.map((j) => [j.status, j.error?.code]), [['timedOut', 'JOB_TIMEOUT']]);
      assert.deepEqual(result.results, []);
    });

    it('cancels every job when the request\'s signal aborts', async () => {
      const controller = new AbortController();
      const running = world.runner.run(deploymentFor({ providers: ['UVA'], query: endlessQuery, tables: [], algorithm: 'none' }), controller.signal);
      await world.jobsRunning(1);
      controller.abort();
      await assert.rejects(running, (e: unknown) => e instanceof DynamosError && e.code === 'JOB_CANCELLED');
    });

    it('ends the stewards still working when the TTP that needed their data crashes', async () => {
      const running = world.runner.run(deploymentFor({ providers: ['VU', 'UVA'], options: { aggregate: true }, query: endlessRowsOf('Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr') }));
      await world.jobsRunning(3);
      await world.crash('SURF');
      // No deadline passes: the stewards end because their consumer is gone.
      const result = await running;
      assert.equal(result.jobs.find((j) => j.party === 'SURF')?.status, 'failed');
      for (const steward of ['VU', 'UVA']) {
        const job = result.jobs.find((j) => j.party === steward);
        assert.equal(job?.status, 'failed', steward);
        assert.match(job?.error?.message ?? '', /SURF/, steward);
      }
      assert.deepEqual(result.results, []);
    });

    it('refuses an answer past the result limit and returns no part of it', async () => {
      const deployment = { ...deploymentFor({ providers: ['UVA'], algorithm: 'none' }), resultLimit: { maxRows: 10, maxBytes: 1 << 30 } };
      const result = await world.runner.run(deployment);
      assert.equal(result.jobs[0]?.error?.code, 'RESULT_TOO_LARGE');
      assert.deepEqual(result.results, []);
    });
  });
}
