import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { analyze } from '../../../daemon/mape/analyze.js';
import { plan } from '../../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import { KubernetesJobRunner } from '../../../adapters/kubernetes/kubernetes-job-runner.js';
import { jobNameOf } from '../../../adapters/kubernetes/names.js';
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

describe('Kubernetes runner: what the operator set up wrong, and what a Secret is worth', function () {
  this.timeout(120_000);
  let data: ExampleData;
  let example: ExampleCluster;

  before(async () => {
    data = await exampleData(100);
    example = await startExampleCluster({ parties, stewards: ['UVA', 'VU', 'RUG'], dataDir: data.dir, scratch: data.dir });
  });
  after(async () => {
    await example.close();
    data.remove();
  });

  const runnerWith = (sites: SitesSettingsInput) =>
    new KubernetesJobRunner(example.settings.kubernetes, { logger: silentLogger, clock: systemClock, sites: { ...example.settings.sites, ...sites }, parties, dataDir: data.dir });

  function deploymentFor(overrides: Partial<DataRequest>, deadlineMs = 60_000): Deployment {
    const k = knowledgeOf(marketplaceFrom(exampleConfig(), data.dir), 0);
    const p = plan(k, analyze(k, dataRequest(overrides)), dynamosStrategy);
    return { requestId: dataRequest(overrides).id, jobs: p.kind === 'deploy' ? p.jobs : [], deadlineMs };
  }

  it('refuses parties that would share a namespace, or use the daemon\'s', () => {
    assert.throws(() => runnerWith({ VU: { kubernetes: { namespace: 'uva' } } }), /sites\.VU\.kubernetes\.namespace: VU and UVA would share namespace uva|sites\.UVA\.kubernetes\.namespace: UVA and VU/);
    assert.throws(() => runnerWith({ RUG: { kubernetes: { namespace: 'dynamos' } } }), /sites\.RUG\.kubernetes\.namespace: RUG's jobs would run in the daemon's own namespace dynamos/);
  });

  it('names the setting when a party\'s namespace does not exist or its tables claim is missing', async () => {
    const runner = runnerWith({ UVA: { kubernetes: { namespace: 'nowhere', tables: { persistentVolumeClaim: 'steward-tables' } } }, VU: { kubernetes: { tables: { persistentVolumeClaim: 'no-such-claim' } } } });
    try {
      const result = await runner.run(deploymentFor({ providers: ['UVA', 'VU'] }, 600_000));
      const errors = Object.fromEntries(result.jobs.map((j) => [j.party, j.error]));
      assert.equal(errors['UVA']?.code, 'CONFIG_INVALID');
      assert.match(errors['UVA']?.message ?? '', /namespace nowhere does not exist \(sites\.UVA\.kubernetes\.namespace/);
      assert.equal(errors['VU']?.code, 'CONFIG_INVALID');
      assert.match(errors['VU']?.message ?? '', /its tables claim is missing \(sites\.VU\.kubernetes\.tables/);
    } finally {
      await runner.close();
    }
  });

  it('fails a job whose assignment Secret someone planted before it, rather than trust it', async () => {
    const runner = runnerWith({});
    const deployment = deploymentFor({ providers: ['UVA'] });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(example.cluster.kubeconfig);
    await kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: 'uva', body: { metadata: { name: jobNameOf(deployment.requestId, 'UVA') }, stringData: { 'assignment.json': '{"planted":true}' } } });
    try {
      const result = await runner.run(deployment);
      assert.equal(result.jobs[0]?.error?.code, 'JOB_FAILED');
      assert.match(result.jobs[0]?.error?.message ?? '', /is in uva already; the job does not trust it/);
      const { world } = example.cluster;
      await world.until(() => world.jobs().length + world.pods().length + world.processes().length === 0, 'the Job that met the planted Secret to go');
    } finally {
      await runner.close();
      await kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedSecret({ name: jobNameOf(deployment.requestId, 'UVA'), namespace: 'uva' });
    }
  });

  it('hands a job a certificate for its request only, expiring with it, and leaves nothing when cancelled mid-create', async () => {
    const runner = runnerWith({});
    const { world, faults } = example.cluster;
    try {
      const deadlineAt = Date.now() + 20_000;
      const first = new AbortController();
      const running = runner.run(deploymentFor({ providers: ['UVA'], query: endlessQuery, tables: [], algorithm: 'none' }, 20_000), first.signal);
      const secret = await world.until(() => world.secrets('uva')[0], 'the assignment Secret');
      const assignment = JSON.parse(Buffer.from((secret as unknown as { data: Record<string, string> }).data['assignment.json'] ?? '', 'base64').toString()) as { tls: { cert: string } };
      const notAfter = new Date(new X509Certificate(assignment.tls.cert).validTo).getTime();
      assert.ok(notAfter <= deadlineAt + 61_000, `the key is worth nothing a minute after the deadline (valid to ${new Date(notAfter).toISOString()})`);
      await world.until(() => world.processes().length === 1, 'the job running');
      const cancel = new AbortController();
      faults.failRequests({ method: 'POST', path: '/jobs', code: 429, retryAfterSeconds: 1 });
      const second = runner.run(deploymentFor({ providers: ['VU'] }), cancel.signal);
      // Cancelled while its Job's create waits out the 429: the Job must not be created after its delete.
      await world.until(() => faults.requestFaultsLeft() === 0, 'the create to be throttled');
      cancel.abort();
      first.abort();
      await Promise.all([assert.rejects(second, /cancelled/), assert.rejects(running, /cancelled/)]);
    } finally {
      await runner.close();
    }
    await world.until(() => world.jobs().length + world.pods().length + world.secrets().length + world.processes().length === 0, 'nothing left of either request', 30_000);
  });
});
