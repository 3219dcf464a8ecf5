import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import type { ExampleCluster } from '../../experiments/fake-cluster/example-cluster.js';
import { startExampleCluster } from '../../experiments/fake-cluster/example-cluster.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData, expectedAverages } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile, repoRoot } from '../support/fixtures.js';
import { asRequester } from '../support/tokens.js';

const parties = ['UVA', 'VU', 'RUG', 'SURF', 'otherCompany'];

interface Reply {
  archetype: string;
  results: { computedBy: string; providers: string[]; rows: unknown[][] }[];
  jobs: { party: string; status: string; startMs: number; cpuSeconds: number }[];
}

/**
 * Cluster mode end to end: the daemon runs each party's job as a Kubernetes Job on the fake API
 * server, whose kubelet runs the pods as local processes; the example requests are answered as
 * on the embedded default, and nothing of them is left in the cluster.
 */
describe('cluster mode end to end, through the fake API server', function () {
  this.timeout(180_000);
  let data: ExampleData;
  let example: ExampleCluster;
  let daemon: RunningDaemon;
  /** A Job a daemon of the same name left behind when it was killed. */
  let stale: V1Job;

  before(async () => {
    data = await exampleData(300);
    example = await startExampleCluster({ parties, stewards: ['UVA', 'VU', 'RUG'], dataDir: data.dir, scratch: data.dir });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(example.cluster.kubeconfig);
    stale = await kubeConfig.makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: 'vu',
      body: { metadata: { name: 'dyn-vu-left-behind', labels: { 'dynamos.io/daemon': 'dynamos' } }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'dynamos-ts:dev', command: ['node', '-e', 'setTimeout(() => {}, 600000)'] }] } } } },
    });
    await example.cluster.world.until(() => example.cluster.world.processes().length === 1, 'the left-behind job to run');
    daemon = await startDaemon(
      { port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, decisionLogFile: path.join(data.dir, 'decisions.jsonl'), watchConfig: false, metrics: { source: 'none' }, ...example.settings },
      { logger: silentLogger },
    );
  });
  after(async () => {
    await daemon?.close();
    await example?.close();
    data?.remove();
  });

  async function ask(file: string): Promise<{ status: number; reply: Reply }> {
    const body = JSON.parse(readFileSync(path.join(repoRoot, 'experiments', 'requests', file), 'utf8')) as unknown;
    const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(body), headers: await asRequester(daemon, body) });
    return { status: response.status, reply: (await response.json()) as Reply };
  }

  it('removed at start the Job a dead daemon of its name left, with its pod', async () => {
    const { world } = example.cluster;
    await world.until(() => world.jobs('vu').length === 0 && world.pods('vu').length === 0 && world.processes().length === 0, 'the left-behind Job and its pod to go');
    assert.equal(world.get('jobs', 'vu', stale.metadata?.name ?? ''), undefined);
  });

  it('answers the example request (compute to data) with each steward\'s pod', async () => {
    const { status, reply } = await ask('wage-gap.json');
    assert.equal(status, 200);
    assert.equal(reply.archetype, 'computeToData');
    assert.deepEqual(reply.results.map((r) => [r.computedBy, r.rows]), [['VU', expectedAverages(data.dir, ['VU'])], ['UVA', expectedAverages(data.dir, ['UVA'])]]);
    assert.ok(reply.jobs.every((j) => j.status === 'succeeded' && j.startMs > 0 && j.cpuSeconds > 0));
  });

  it('answers through the trusted third party, the stewards\' pods streaming to SURF\'s', async () => {
    const { status, reply } = await ask('wage-gap-through-ttp.json');
    assert.equal(status, 200);
    assert.equal(reply.archetype, 'dataThroughTtp');
    assert.deepEqual(reply.results.map((r) => r.computedBy), ['SURF']);
    assert.deepEqual(reply.jobs.map((j) => j.party).sort(), ['SURF', 'UVA', 'VU']);
  });

  it('leaves no Job, pod, Secret or container behind, and says where its jobs run', async () => {
    const { world } = example.cluster;
    await world.until(() => world.jobs().length + world.pods().length + world.secrets().length + world.processes().length === 0, 'every object of the requests to go');
    assert.deepEqual(world.errors(), []);
    const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as { dataPlane: { sites: { by: string } } };
    assert.match(health.dataPlane.sites.by, /Kubernetes/);
  });
});
