import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isProcessAlive } from '../../../knowledge/process-alive.js';
import { skipUnlessRoot } from '../../support/fake-cgroup-tree.js';
import type { Given } from './fake-cluster-fixtures.js';
import { givenCluster, nodeJob } from './fake-cluster-fixtures.js';

function terminationOf(given: Given, job: string): { reason?: string; exitCode?: number; message?: string } | undefined {
  const pod = given.cluster.world.pods('surf').find((p) => p.metadata.labels?.['job-name'] === job);
  return pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed' ? (pod.status.containerStatuses?.[0]?.state?.terminated ?? {}) : undefined;
}

describe('fake cluster: containers in their party\'s site, and nothing left after close', () => {
  it('says why containers run without cgroups when told not to use them', async () => {
    const given = await givenCluster({ cgroups: false, namespaces: { surf: { site: { cpus: 1, memoryMiB: 256 } } } });
    try {
      const { cgroups } = given.cluster.status();
      assert.deepEqual([cgroups.memoryLimits, cgroups.sites], [false, false]);
      assert.match(cgroups.reason ?? '', /turned off/);
    } finally {
      await given.close();
    }
  });

  it('leaves no process, pod directory or cgroup behind after close, whatever was running', async () => {
    const given = await givenCluster({ namespaces: { surf: { site: { cpus: 1, memoryMiB: 256 } } } });
    const groups = given.cluster.status().cgroups.siteEnvelopes.sites.surf?.cgroups ?? [];
    for (const name of ['left-running', 'also-running']) {
      await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob(name, 'process.on("SIGTERM", () => undefined); setInterval(() => undefined, 1000)', { container: { resources: { limits: { memory: '64Mi' } } } }) });
    }
    await given.cluster.world.until(() => given.cluster.world.processes().length === 2, 'both containers running');
    const pids = given.cluster.world.startedProcesses().map((p) => p.pid);
    assert.equal(given.cluster.world.podDirectories().length, 2);
    await given.close();
    assert.deepEqual(pids.filter(isProcessAlive), []);
    assert.equal(existsSync(given.cluster.world.podsDir), false);
    assert.deepEqual(groups.filter((dir) => existsSync(dir)), []);
  });

  describe('with real cgroups (root)', function () {
    let given: Given;
    before(async function () {
      skipUnlessRoot(this, 'site cgroups and memory limits');
      given = await givenCluster({ namespaces: { surf: { site: { cpus: 1, memoryMiB: 256 } } } });
    });
    after(async () => {
      await given?.close();
    });

    it('runs each container in its own memory group inside its namespace\'s site', async () => {
      const { cgroups } = given.cluster.status();
      assert.deepEqual([cgroups.memoryLimits, cgroups.sites, cgroups.reason], [true, true, undefined]);
      const site = cgroups.siteEnvelopes.sites.surf?.cgroups?.find((dir) => dir.includes('/memory/')) ?? '';
      // Paths reach the host only through env and args (no mount namespace): the log's path comes as an argument.
      const container = { resources: { limits: { memory: '64Mi' } }, args: ['/dev/termination-log'] };
      await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('in-site', 'require("fs").writeFileSync(process.argv[1], require("fs").readFileSync("/proc/self/cgroup", "utf8"))', { container }) });
      const end = await given.cluster.world.until(() => terminationOf(given, 'in-site'), 'in-site finished');
      const memoryLine = (end.message ?? '').split('\n').find((line) => line.includes(':memory:')) ?? '';
      const relativeSite = site.replace(/^\/sys\/fs\/cgroup\/memory/, '');
      assert.ok(memoryLine.includes(`${relativeSite}/job-`), `${memoryLine} is a job group inside ${relativeSite}`);
    });

    it('reports a container the kernel killed past its memory limit as OOMKilled, exit 137', async () => {
      const hog = 'const held = []; for (;;) held.push(Buffer.alloc(16 * 1024 * 1024, 1));';
      await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('hog', hog, { container: { resources: { limits: { memory: '64Mi' } } } }) });
      const end = await given.cluster.world.until(() => terminationOf(given, 'hog'), 'hog finished');
      assert.deepEqual([end.reason, end.exitCode], ['OOMKilled', 137]);
    });
  });
});
