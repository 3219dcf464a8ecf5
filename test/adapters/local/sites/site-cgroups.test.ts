import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JobMemoryGroups } from '../../../../adapters/local/job-memory-cgroup.js';
import { detectJobCgroups } from '../../../../adapters/local/job-memory-cgroup.js';
import type { SiteEnvelopes } from '../../../../adapters/local/sites/site-envelopes.js';
import { openSiteEnvelopes } from '../../../../adapters/local/sites/site-envelopes.js';
import type { SitesSettingsInput } from '../../../../knowledge/site-settings.js';
import { sitesSettingsSchema } from '../../../../knowledge/site-settings.js';
import { silentLogger } from '../../../../knowledge/ports/logger.js';
import type { TestCgroupContainer } from './site-test-support.js';
import { exitOf, isAlive, makeTestCgroupContainer, nextMessage, StartedProcesses, waitFor } from './site-test-support.js';

const mib = 2 ** 20;

/** Waits for a line on stdin, then holds `totalMib` of touched memory, says so over IPC, and waits. */
const allocator = (totalMib: number) => `process.stdin.once('data', () => {
  const held = [];
  for (let m = 0; m < ${totalMib}; m += 10) held.push(Buffer.alloc(10 * 1024 * 1024, 1));
  process.send({ held: held.length * 10 });
  setInterval(() => held.length, 1000);
});`;

describe('site envelopes: CPU and memory on this machine\'s kernel', function () {
  let container: TestCgroupContainer | undefined;
  const started = new StartedProcesses();
  const opened: SiteEnvelopes[] = [];

  before(async function () {
    const made = await makeTestCgroupContainer();
    if (typeof made === 'string') {
      console.log(`    (skipped: ${made}; run as root on a machine with cgroup cpu and memory controllers)`);
      this.skip();
    }
    container = made;
  });
  afterEach(async () => {
    await started.endAll();
    await Promise.all(opened.splice(0).map((e) => e.close()));
  });
  after(async () => container?.remove());

  async function open(sites: SitesSettingsInput, runnerId = randomUUID()): Promise<SiteEnvelopes> {
    const envelopes = await openSiteEnvelopes(sitesSettingsSchema.parse(sites), { runnerId, logger: silentLogger, cgroupParent: container?.parent ?? '' });
    opened.push(envelopes);
    assert.equal(envelopes.status().reason, undefined);
    return envelopes;
  }

  it('holds a CPU-burning process of a 0.25-cpu site to about a quarter of a core', async () => {
    const envelopes = await open({ SURF: { cpus: 0.25 } });
    const burner = started.node('for (;;);');
    await envelopes.place('SURF', burner.pid);
    const startedAt = performance.now();
    // Bounded by the kernel's counter, not a timer: half a CPU-second takes ≥ 2 s at a quarter core.
    let cpuSeconds = 0;
    await waitFor(async () => (cpuSeconds = (await envelopes.usage('SURF'))?.cpuSeconds ?? 0) >= 0.5, 'the site to use 0.5 CPU-seconds', 30_000);
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const cores = cpuSeconds / wallSeconds;
    console.log(`      (a 0.25-cpu site burning got ${cores.toFixed(3)} cores: ${cpuSeconds.toFixed(3)} CPU-s in ${wallSeconds.toFixed(2)} s)`);
    assert.ok(wallSeconds >= (0.5 / 0.25) * 0.8, `0.5 CPU-seconds took only ${wallSeconds.toFixed(2)} s`);
    assert.ok(cores <= 0.3, `${cores.toFixed(3)} cores`);
  });

  it('lets the kernel kill a process that allocates past the site\'s memory, and reports the memory it holds', async () => {
    const envelopes = await open({ SURF: { memoryMiB: 64 }, VU: {} });
    const small = started.node(allocator(30));
    await envelopes.place('VU', small.pid);
    small.stdin?.write('go\n');
    await nextMessage(small);
    const vu = await envelopes.usage('VU');
    assert.ok(vu !== undefined && vu.memoryBytes >= 30 * mib, `VU holds ${vu?.memoryBytes} bytes`);
    assert.equal(vu.memoryLimitBytes, undefined);
    const big = started.node(allocator(200));
    await envelopes.place('SURF', big.pid);
    big.stdin?.write('go\n');
    assert.deepEqual(await exitOf(big), { code: null, signal: 'SIGKILL' });
    assert.equal((await envelopes.usage('SURF'))?.memoryLimitBytes, 64 * mib);
  });

  describe('with the jobs\' own memory groups inside the site', () => {
    let jobs: JobMemoryGroups | undefined;
    beforeEach(async function () {
      const probe = await detectJobCgroups({ parent: container?.dirs[0] ?? '', runnerId: randomUUID() });
      if (probe.kind === 'unavailable') {
        console.log(`      (skipped: ${probe.reason})`);
        this.skip();
      }
      jobs = probe.groups;
    });
    afterEach(async () => jobs?.close());

    it('bounds all of a party\'s jobs together by the site, and each by its own limit', async () => {
      const envelopes = await open({ SURF: { cpus: 1, memoryMiB: 100 } });
      const within = envelopes.jobGroupParent('SURF');
      assert.ok(within !== undefined && existsSync(within));
      const first = started.node(allocator(40));
      const second = started.node(allocator(80));
      const groups = [];
      for (const job of [first, second]) {
        groups.push(await jobs!.place(job.pid, 1024 * mib, { within }));
        await envelopes.place('SURF', job.pid);
        // The job stays in its own group, which is inside the site's.
        assert.match(readFileSync(`/proc/${job.pid}/cgroup`, 'utf8'), new RegExp(`${path.basename(within)}/job-\\d+$`, 'm'));
      }
      first.stdin?.write('go\n');
      await nextMessage(first);
      second.stdin?.write('go\n');
      // 40 + 80 MiB pass the site's 100 MiB, though each fits in it alone and in its own 1 GiB.
      assert.deepEqual(await exitOf(second), { code: null, signal: 'SIGKILL' });
      assert.equal(await groups[1]?.oomKilled(), true, 'the job group of the killed job counts the kill');
      assert.ok(isAlive(first.pid), 'the job that fit is not killed with it');
      for (const group of groups) await group.remove();
    });
  });

  it('leaves no cgroup behind at close, ending what still runs in its groups; close is idempotent', async () => {
    const envelopes = await open({ SURF: { cpus: 0.5, memoryMiB: 128 }, UVA: {} });
    const sleeper = started.node('setInterval(() => undefined, 1000)');
    await envelopes.place('UVA', sleeper.pid);
    const dirs = Object.values(envelopes.status().sites).flatMap((s) => s.cgroups ?? []);
    assert.equal(dirs.length, container?.kind === 'v1' ? 6 : 2);
    assert.ok(dirs.every((dir) => existsSync(dir)));
    await envelopes.close();
    await envelopes.close();
    assert.deepEqual(await exitOf(sleeper), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(dirs.filter((dir) => existsSync(dir)), []);
    assert.deepEqual(dirs.map((dir) => path.dirname(dir)).filter((dir) => existsSync(dir)), [], 'the top group is gone too');
    assert.equal(await envelopes.usage('SURF'), undefined);
    await assert.rejects(envelopes.place('SURF', sleeper.pid), /closed/);
  });

  it('sweeps the site groups of a dead runner, ending what runs there, and keeps a live runner\'s', async () => {
    const dead = started.node('');
    await exitOf(dead);
    const deadTop = `dynamos-${dead.pid}-sites-abcdef`;
    const liveTop = `dynamos-${process.pid}-sites-fedcba`;
    for (const dir of container?.dirs ?? []) {
      await mkdir(path.join(dir, deadTop, 'site-surf'), { recursive: true });
      await mkdir(path.join(dir, liveTop));
    }
    const leftover = started.node('setInterval(() => undefined, 1000)');
    const memoryDir = container?.dirs[0] ?? '';
    await writeFile(path.join(memoryDir, deadTop, 'site-surf', 'cgroup.procs'), String(leftover.pid), { flag: 'r+' });
    await open({ SURF: {} });
    assert.deepEqual(await exitOf(leftover), { code: null, signal: 'SIGKILL' });
    for (const dir of container?.dirs ?? []) {
      assert.equal(existsSync(path.join(dir, deadTop)), false, `${deadTop} in ${dir}`);
      assert.equal(existsSync(path.join(dir, liveTop)), true);
      await rmdir(path.join(dir, liveTop));
    }
  });
});
