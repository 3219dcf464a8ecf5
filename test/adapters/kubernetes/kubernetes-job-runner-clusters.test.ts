import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import { KubernetesJobRunner } from '../../../adapters/kubernetes/kubernetes-job-runner.js';
import { analyze } from '../../../daemon/mape/analyze.js';
import { plan } from '../../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import type { ExampleCluster } from '../../../experiments/fake-cluster/example-cluster.js';
import { exampleImage, startExampleCluster } from '../../../experiments/fake-cluster/example-cluster.js';
import type { FakeCluster } from '../../../experiments/fake-cluster/index.js';
import { kubeconfigFor, startFakeCluster } from '../../../experiments/fake-cluster/index.js';
import { knowledgeOf } from '../../../knowledge/knowledge-snapshot.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { packageRoot } from '../../../daemon/package-root.js';
import { exampleData, expectedAverages } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { dataRequest, exampleConfig, marketplaceFrom } from '../../support/fixtures.js';

/**
 * A party that keeps its own cluster (`sites.<party>.kubernetes.context`): the TTP's job runs in
 * SURF's cluster, the stewards' in the marketplace's, and the data crosses between them over the
 * mutual-TLS data plane. Two fake API servers, one kubeconfig with a context for each.
 */
describe('Kubernetes runner: a party in a cluster of its own', function () {
  this.timeout(120_000);
  let data: ExampleData;
  let home: ExampleCluster;
  let surf: FakeCluster;
  let runner: KubernetesJobRunner;

  before(async () => {
    data = await exampleData(200);
    home = await startExampleCluster({ parties: ['UVA', 'VU', 'RUG'], stewards: ['UVA', 'VU', 'RUG'], dataDir: data.dir, scratch: data.dir });
    surf = await startFakeCluster({ name: 'surf-cluster', namespaces: { 'surf-jobs': {} }, images: { [exampleImage]: packageRoot() }, podNetwork: '127.251' });
    const kubeconfig = path.join(data.dir, 'two-clusters.yaml');
    writeFileSync(kubeconfig, kubeconfigFor([{ name: home.cluster.name, url: home.cluster.url, token: home.cluster.token, certificateAuthority: home.cluster.certificateAuthority }, { name: surf.name, url: surf.url, token: surf.token, certificateAuthority: surf.certificateAuthority }], home.cluster.name));
    const sites = { ...home.settings.sites, SURF: { kubernetes: { context: 'surf-cluster', namespace: 'surf-jobs' } } };
    runner = new KubernetesJobRunner({ ...home.settings.kubernetes, kubeconfig }, { logger: silentLogger, clock: new SimulatedClock(), sites, parties: ['UVA', 'VU', 'RUG', 'SURF'], dataDir: data.dir });
  });
  after(async () => {
    await runner?.close();
    await surf?.close();
    await home?.close();
    data?.remove();
  });

  it('runs the TTP\'s job in its own cluster and the stewards\' in theirs, and cleans up both', async () => {
    const k = knowledgeOf(marketplaceFrom(exampleConfig(), data.dir), 0);
    const request = dataRequest({ providers: ['VU', 'UVA'], options: { aggregate: true } });
    const p = plan(k, analyze(k, request), dynamosStrategy);
    assert.equal(p.kind, 'deploy');
    const seen: string[] = [];
    surf.world.on('container-started', (info) => seen.push(`surf-cluster/${info.namespace}`));
    home.cluster.world.on('container-started', (info) => seen.push(`home/${info.namespace}`));
    const result = await runner.run({ requestId: request.id, jobs: p.kind === 'deploy' ? p.jobs : [], deadlineMs: 60_000 });
    assert.deepEqual(result.jobs.map((j) => [j.party, j.status]), [['VU', 'succeeded'], ['UVA', 'succeeded'], ['SURF', 'succeeded']]);
    assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['VU', 'UVA']));
    assert.deepEqual(seen.sort(), ['home/uva', 'home/vu', 'surf-cluster/surf-jobs']);
    for (const world of [home.cluster.world, surf.world]) {
      await world.until(() => world.jobs().length + world.pods().length + world.secrets().length === 0, 'each cluster to be empty');
    }
  });
});
