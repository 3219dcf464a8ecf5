import { SimulatedClock } from 'xstate';
import { KubernetesJobRunner } from '../../../adapters/kubernetes/kubernetes-job-runner.js';
import { startExampleCluster } from '../../../experiments/fake-cluster/example-cluster.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { jobRunnerContract } from '../../contract/job-runner.contract.js';

const parties = ['UVA', 'VU', 'RUG', 'SURF', 'otherCompany'];

jobRunnerContract('Kubernetes Jobs on the fake API server', async (data) => {
  const example = await startExampleCluster({ parties, stewards: ['UVA', 'VU', 'RUG'], dataDir: data.dir, scratch: data.dir });
  const clock = new SimulatedClock();
  const runner = new KubernetesJobRunner(example.settings.kubernetes, { logger: silentLogger, clock, sites: example.settings.sites, parties, dataDir: data.dir });
  const { world } = example.cluster;
  return {
    runner,
    clock,
    jobsRunning: async (count) => {
      await world.until(() => world.processes().length >= count, `${count} job containers running`, 60_000);
    },
    crash: (party) => {
      const container = world.processes().find((p) => p.namespace === party.toLowerCase());
      if (container === undefined) throw new Error(`no container runs for ${party}`);
      process.kill(container.pid, 'SIGKILL');
      return Promise.resolve();
    },
    // Background deletion: the Job goes at once, its pods and Secret a moment later.
    leftovers: async () => {
      await world.until(() => world.jobs().length + world.pods().length + world.secrets().length === 0 && world.processes().length === 0, 'the deployment\'s objects and containers to go', 30_000).catch(() => undefined);
      return [
        ...world.jobs().map((j) => `Job ${j.metadata.namespace}/${j.metadata.name}`),
        ...world.pods().map((p) => `Pod ${p.metadata.namespace}/${p.metadata.name}`),
        ...world.secrets().map((s) => `Secret ${s.metadata.namespace}/${s.metadata.name}`),
        ...world.processes().map((p) => `container ${p.namespace}/${p.pod} (pid ${p.pid})`),
        ...world.errors(),
      ];
    },
    close: async () => {
      await runner.close();
      await example.close();
    },
  };
});
