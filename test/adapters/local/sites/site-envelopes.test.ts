import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SiteGroupDirs } from '../../../../adapters/local/sites/site-cgroup-files.js';
import { siteCgroupV1, siteCgroupV2 } from '../../../../adapters/local/sites/site-cgroup-files.js';
import type { SitesStatus } from '../../../../adapters/local/sites/site-envelopes.js';
import { openSiteEnvelopes } from '../../../../adapters/local/sites/site-envelopes.js';
import { sitesSettingsSchema } from '../../../../knowledge/site-settings.js';
import { silentLogger } from '../../../../knowledge/ports/logger.js';
import { fakeCgroupTrees } from '../../../support/fake-cgroup-tree.js';

const fixture = fileURLToPath(new URL('./fixtures/open-site-envelopes.ts', import.meta.url));
const tsxLoader = fileURLToPath(import.meta.resolve('tsx'));

describe('site envelopes without sites, or without privileges', () => {
  const trees = fakeCgroupTrees();
  after(() => trees.removeAll());
  const fakeTree = (files: Record<string, string>) => trees.make(files);

  it('makes nothing and holds trivially when no site is declared', async () => {
    const envelopes = await openSiteEnvelopes({}, { runnerId: randomUUID(), logger: silentLogger, cgroupRoot: '/nonexistent' });
    assert.deepEqual(envelopes.status(), { enforced: true, notes: [], sites: {} });
    assert.equal(envelopes.daemonAddress, '127.0.0.1');
    assert.equal(envelopes.listenAddress('SURF'), '127.0.0.1');
    assert.equal(envelopes.launchPrefix('SURF'), undefined);
    assert.equal(envelopes.jobGroupParent('SURF'), undefined);
    assert.equal(await envelopes.usage('SURF'), undefined);
    await envelopes.place('SURF', process.pid);
    await envelopes.close();
  });

  it('says why not when no cgroup hierarchy offers cpu and memory, and then places nothing and reads nothing', async () => {
    const root = await fakeTree({ 'cgroup.controllers': 'pids' });
    const envelopes = await openSiteEnvelopes(sitesSettingsSchema.parse({ SURF: { cpus: 0.5 } }), { runnerId: randomUUID(), logger: silentLogger, cgroupRoot: root });
    const status = envelopes.status();
    assert.equal(status.enforced, false);
    assert.match(status.reason ?? '', /^the site envelopes do not hold: cgroups: no cgroup cpu and memory controllers are writable by this user .*: no memory controller is mounted at .* \(v1\), and the unified hierarchy there offers pids \(v2\)$/);
    assert.deepEqual(status.sites, { SURF: { cpus: 0.5 } });
    await envelopes.place('SURF', process.pid);
    assert.equal(await envelopes.usage('SURF'), undefined);
    assert.equal(envelopes.jobGroupParent('SURF'), undefined);
    await envelopes.close();
  });

  it('refuses a directory that only looks like v1 hierarchies, leaving nothing in it', async () => {
    const root = await fakeTree({ 'memory/memory.limit_in_bytes': '', 'cpu,cpuacct/cpu.cfs_quota_us': '', 'cpu,cpuacct/cpuacct.usage': '' });
    const envelopes = await openSiteEnvelopes(sitesSettingsSchema.parse({ SURF: {} }), { runnerId: randomUUID(), logger: silentLogger, cgroupRoot: root });
    assert.match(envelopes.status().reason ?? '', /cgroup v1: .*\/memory: not a cpu and memory cgroup/);
    assert.deepEqual(await readdir(path.join(root, 'memory')), ['memory.limit_in_bytes']);
  });

  it('runs as a user without privileges: nothing holds, each part says why, the daemon listens on loopback', async function () {
    this.timeout(30_000);
    const args = JSON.stringify({ sites: { SURF: { cpus: 0.5, network: true, linkMbit: 8 } }, runnerId: randomUUID() });
    let status: SitesStatus;
    let daemonAddress: string;
    if (process.getuid?.() === 0) {
      // Root here: the same code as the user nobody, in a process of its own.
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', tsxLoader, fixture, args], { uid: 65534, gid: 65534, cwd: os.tmpdir() });
      ({ status, daemonAddress } = JSON.parse(stdout) as { status: SitesStatus; daemonAddress: string });
    } else {
      const envelopes = await openSiteEnvelopes(sitesSettingsSchema.parse(JSON.parse(args).sites), { runnerId: randomUUID(), logger: silentLogger });
      status = envelopes.status();
      daemonAddress = envelopes.daemonAddress;
      await envelopes.close();
    }
    assert.equal(status.enforced, false);
    assert.match(status.reason ?? '', /cgroups: no cgroup cpu and memory controllers are writable by this user \(uid \d+\)/);
    assert.match(status.reason ?? '', /network: (could not make the sites' network: .*(Operation not permitted|not installed)|the (ip|tc) command)/);
    assert.equal(daemonAddress, '127.0.0.1');
    assert.deepEqual(status.sites['SURF'], { cpus: 0.5, linkMbit: 8 });
  });
});

describe('site cgroup files: what each cgroup version is told and read', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fake-site-group-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function files(names: Record<string, string>): Promise<SiteGroupDirs> {
    for (const [name, text] of Object.entries(names)) await writeFile(path.join(dir, name), text);
    return { memory: dir, cpu: dir, cpuacct: dir };
  }
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');

  it('v2: cpu.max as quota and period, memory.max with no swap and no group-wide OOM kill, usage from cpu.stat and memory.current', async () => {
    const dirs = await files({ 'cpu.max': '', 'memory.max': '', 'memory.swap.max': '', 'cpu.stat': 'usage_usec 2500000\nuser_usec 1\n', 'memory.current': '1048576\n' });
    await siteCgroupV2.boundCpu(dirs, 0.25);
    await siteCgroupV2.boundMemory(dirs, 64 * 2 ** 20);
    assert.equal(read('cpu.max'), '25000 100000');
    assert.equal(read('memory.max'), String(64 * 2 ** 20));
    assert.equal(read('memory.swap.max'), '0');
    assert.equal(await siteCgroupV2.cpuSeconds(dirs), 2.5);
    assert.equal(await siteCgroupV2.memoryBytes(dirs), 2 ** 20);
    assert.equal(siteCgroupV2.directGroup(dirs), path.join(dir, 'placed-directly'));
  });

  it('v1: the CFS period and quota, the memory and memsw limits, usage from cpuacct.usage (ns) and memory.usage_in_bytes', async () => {
    const dirs = await files({ 'cpu.cfs_period_us': '', 'cpu.cfs_quota_us': '', 'memory.limit_in_bytes': '', 'memory.memsw.limit_in_bytes': '', 'cpuacct.usage': '1500000000\n', 'memory.usage_in_bytes': '4096\n' });
    await siteCgroupV1.boundCpu(dirs, 1.5);
    await siteCgroupV1.boundMemory(dirs, 128 * 2 ** 20);
    assert.equal(read('cpu.cfs_period_us'), '100000');
    assert.equal(read('cpu.cfs_quota_us'), '150000');
    assert.equal(read('memory.memsw.limit_in_bytes'), String(128 * 2 ** 20));
    assert.equal(await siteCgroupV1.cpuSeconds(dirs), 1.5);
    assert.equal(await siteCgroupV1.memoryBytes(dirs), 4096);
    assert.equal(siteCgroupV1.directGroup(dirs), dir, 'v1 groups hold processes beside child groups');
  });

  it('rejects a counter it cannot read as a number', async () => {
    const dirs = await files({ 'cpu.stat': 'user_usec 1\n' });
    await assert.rejects(siteCgroupV2.cpuSeconds(dirs), /usage_usec in cpu.stat holds no count/);
  });
});
