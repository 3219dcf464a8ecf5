import assert from 'node:assert/strict';
import { analyze } from '../../../daemon/mape/analyze.js';
import { plan } from '../../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import { KubernetesJobRunner } from '../../../adapters/kubernetes/kubernetes-job-runner.js';
import type { ExampleCluster } from '../../../experiments/fake-cluster/example-cluster.js';
import { exampleImage, startExampleCluster } from '../../../experiments/fake-cluster/example-cluster.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import { knowledgeOf } from '../../../knowledge/knowledge-snapshot.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import type { Deployment } from '../../../knowledge/ports/job-runner.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import type { SitesSettingsInput } from '../../../knowledge/site-settings.js';
import { endlessQuery } from '../../support/endless-query.js';
import { exampleData, expectedAverages } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { dataRequest, exampleConfig, marketplaceFrom } from '../../support/fixtures.js';

const parties = ['UVA', 'VU', 'RUG', 'SURF', 'otherCompany'];

/**
 * The Kubernetes runner when the cluster misbehaves, on the fake API server: throttling, server
 * errors, dropped and expired watches, images that will not pull, no room, the OOM killer. Real
 * time (a Retry-After is waited out), bounded by short deadlines.
 */
describe('Kubernetes runner: a cluster that misbehaves', function () {
  this.timeout(120_000);
  let data: ExampleData;
  let example: ExampleCluster;
  let runner: KubernetesJobRunner;

  before(async () => (data = await exampleData(200)));
  after(() => data.remove());
  afterEach(async () => {
    await runner?.close();
    await example?.close();
  });

  /** `sites` are what the runner asks for; `nodes` what the cluster's nodes have. */
  async function start(sites: SitesSettingsInput = {}, nodes: Record<string, { cpus: number }> = {}): Promise<void> {
    example = await startExampleCluster({ parties, stewards: ['UVA', 'VU', 'RUG'], dataDir: data.dir, scratch: data.dir, sites: nodes });
    const merged = Object.fromEntries(Object.entries(example.settings.sites).map(([party, site]) => [party, { ...site, ...sites[party] }]));
    runner = new KubernetesJobRunner(example.settings.kubernetes, { logger: silentLogger, clock: systemClock, sites: merged, parties, dataDir: data.dir });
    await runner.cleanedUp;
  }

  function deploymentFor(overrides: Partial<DataRequest>, deadlineMs = 60_000): Deployment {
    const k = knowledgeOf(marketplaceFrom(exampleConfig(), data.dir), 0);
    const p = plan(k, analyze(k, dataRequest(overrides)), dynamosStrategy);
    return { requestId: dataRequest(overrides).id, jobs: p.kind === 'deploy' ? p.jobs : [], deadlineMs };
  }

  it('waits out a 429\'s Retry-After and retries 5xx on creates, and answers', async () => {
    await start();
    example.cluster.faults.failRequests({ method: 'POST', path: '/jobs', code: 429, retryAfterSeconds: 1 });
    example.cluster.faults.failRequests({ method: 'POST', path: '/secrets', code: 503, times: 2 });
    const result = await runner.run(deploymentFor({ providers: ['UVA'] }));
    assert.deepEqual(result.jobs.map((j) => j.status), ['succeeded']);
    assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['UVA']));
  });

  it('follows its jobs across dropped watches and a compacted history (410 Expired: it lists again)', async () => {
    await start();
    const { world, faults } = example.cluster;
    // Dropped while the pod starts, so the runner must resume or relist to see it run and end.
    faults.delayPodStarts(500);
    const running = runner.run(deploymentFor({ providers: ['VU', 'UVA'], options: { aggregate: true } }));
    await world.until(() => world.pods().length >= 2, 'the stewards\' pods');
    faults.compact();
    assert.ok(faults.dropWatches() >= 2, 'the runner was watching');
    const result = await running;
    assert.deepEqual(result.jobs.map((j) => [j.party, j.status, j.error?.message]), [['VU', 'succeeded', undefined], ['UVA', 'succeeded', undefined], ['SURF', 'succeeded', undefined]]);
    assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['VU', 'UVA']));
  });

  it('fails a job whose image will not pull at once, naming the party, and ends the others', async () => {
    await start();
    example.cluster.faults.failImagePulls(exampleImage);
    const result = await runner.run(deploymentFor({ providers: ['UVA'] }, 600_000));
    assert.equal(result.jobs[0]?.error?.code, 'JOB_FAILED');
    assert.match(result.jobs[0]?.error?.message ?? '', /the job at UVA could not start \(Kubernetes: (ErrImagePull|ImagePullBackOff)/);
  });

  it('answers OVERLOADED when the party\'s cluster has no room for the job', async () => {
    await start({ UVA: { cpus: 4 } }, { UVA: { cpus: 1 } });
    const result = await runner.run(deploymentFor({ providers: ['UVA'] }, 600_000));
    assert.equal(result.jobs[0]?.error?.code, 'OVERLOADED');
    assert.match(result.jobs[0]?.error?.message ?? '', /no room for the job at UVA \(Kubernetes: Unschedulable/);
  });

  it('reports a job the OOM killer stopped as JOB_OUT_OF_MEMORY with its limit', async () => {
    await start();
    const { world, faults } = example.cluster;
    const running = runner.run(deploymentFor({ providers: ['UVA'], query: endlessQuery, tables: [], algorithm: 'none' }, 600_000));
    const container = await world.until(() => world.processes()[0], 'the job\'s container');
    assert.ok(faults.oomKill(container.namespace, container.pod));
    const result = await running;
    assert.equal(result.jobs[0]?.error?.code, 'JOB_OUT_OF_MEMORY');
    assert.match(result.jobs[0]?.error?.message ?? '', /at UVA needed more memory than its limit of 2048Mi \(Kubernetes: OOMKilled\)/);
  });

  it('gives up on an API that keeps failing at the deadline, and leaves nothing running', async () => {
    await start();
    const { world, faults } = example.cluster;
    faults.failRequests({ method: 'POST', path: '/secrets', code: 500, times: 1_000 });
    const result = await runner.run(deploymentFor({ providers: ['UVA'] }, 3_000));
    assert.equal(result.jobs[0]?.status === 'succeeded', false);
    assert.match(result.jobs[0]?.error?.code ?? '', /^(JOB_TIMEOUT|ADAPTER_UNAVAILABLE)$/);
    faults.clear();
    await world.until(() => world.jobs().length + world.pods().length + world.processes().length === 0, 'nothing left');
  });
});
