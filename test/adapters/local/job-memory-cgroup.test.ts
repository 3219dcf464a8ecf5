import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JobMemoryGroups } from '../../../adapters/local/job-memory-cgroup.js';
import { detectJobCgroups } from '../../../adapters/local/job-memory-cgroup.js';
import { fakeCgroupTrees } from '../../support/fake-cgroup-tree.js';

const mib = 1024 * 1024;
const limitBytes = 64 * mib;

/** Waits for a line on stdin, then holds `totalMib` of touched memory in 20 MiB steps and exits 0. */
function allocator(totalMib: number): ChildProcess {
  const script = `process.stdin.once('data', () => {
    const held = [];
    for (let mib = 0; mib < ${totalMib}; mib += 20) held.push(Buffer.alloc(20 * 1024 * 1024, 1));
    process.exit(held.length > 0 ? 0 : 1);
  });`;
  return spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'ignore', 'inherit'] });
}

function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 600_000)'], { stdio: 'ignore' });
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return { code: child.exitCode, signal: child.signalCode };
}

/** "v2 at a/b, a" from a reason listing each place it tried as "<place>: <what stopped it>". */
function placesTried(reason: string, root: string): string {
  const [, version = '', detail = ''] = /cgroup (v\d): (.*)$/.exec(reason) ?? [];
  const places = detail.split('; ').map((part) => path.relative(root, part.slice(0, part.indexOf(': '))) || '(root)');
  return `${version} at ${places.join(', ')}`;
}

function cgroupsOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

describe('detectJobCgroups: whether this machine gives jobs an OS memory limit', () => {
  const trees = fakeCgroupTrees();
  after(() => trees.removeAll());
  const fakeTree = (files: Record<string, string>) => trees.make(files);

  it('says why not when no cgroup hierarchy is mounted at the root', async () => {
    const probe = await detectJobCgroups({ root: `/nonexistent-${randomUUID()}` });
    assert.equal(probe.kind, 'unavailable');
    assert.match(probe.kind === 'unavailable' ? probe.reason : '', /^no cgroup memory controller is writable by this user.*: none is mounted at \/nonexistent-/);
  });

  it('refuses a directory that only looks like a memory hierarchy, and leaves nothing in it', async () => {
    const root = await fakeTree({ 'memory/memory.limit_in_bytes': '9223372036854771712\n' });
    const probe = await detectJobCgroups({ root, selfCgroupFile: '/nonexistent' });
    assert.match(probe.kind === 'unavailable' ? probe.reason : '', /cgroup v1: .*\/memory: not a memory cgroup/);
    assert.deepEqual(readdirSync(path.join(root, 'memory')), ['memory.limit_in_bytes']);
  });

  const rows: { rule: string; files: Record<string, string>; self: string; tried: string }[] = [
    {
      rule: 'v2: the daemon\'s own cgroup first, then its parent (it holds the daemon, so v2 gives it no child controllers)',
      files: { 'cgroup.controllers': 'cpu memory', 'svc.slice/cgroup.controllers': 'cpu', 'svc.slice/d.service/cgroup.controllers': 'cpu' },
      self: '0::/svc.slice/d.service',
      tried: 'v2 at svc.slice/d.service, svc.slice',
    },
    {
      rule: 'v2: the mount\'s root when the daemon\'s cgroup lies outside it (a cgroup namespace)',
      files: { 'cgroup.controllers': 'memory', 'cgroup.subtree_control': '' },
      self: '0::/../elsewhere',
      tried: 'v2 at (root)',
    },
    {
      rule: 'v1: the daemon\'s own memory cgroup, so jobs count against whatever bounds the daemon',
      files: { 'memory/memory.limit_in_bytes': '', 'memory/svc/memory.limit_in_bytes': '' },
      self: '5:cpu,cpuacct:/\n4:memory:/svc\n0::/',
      tried: 'v1 at memory/svc',
    },
    {
      rule: 'v1: the hierarchy\'s root when the daemon\'s group is not in the mount (a container sees only its own)',
      files: { 'memory/memory.limit_in_bytes': '' },
      self: '4:memory:/docker/abc',
      tried: 'v1 at memory',
    },
  ];
  for (const row of rows) {
    it(`tries, when no parent is configured, ${row.rule}`, async () => {
      const root = await fakeTree({ ...row.files, self: row.self });
      const probe = await detectJobCgroups({ root, selfCgroupFile: path.join(root, 'self') });
      assert.equal(probe.kind === 'unavailable' ? placesTried(probe.reason, root) : probe.kind, row.tried);
    });
  }
});

describe('job memory cgroups on this machine\'s kernel', function () {
  let container = '';
  let groups: JobMemoryGroups;
  let started: ChildProcess[] = [];

  // A container of our own, so the tests neither write into the test process's cgroup nor sweep
  // any other runner's groups.
  before(async function () {
    const v1 = '/sys/fs/cgroup/memory';
    const hierarchy = existsSync(v1) ? v1 : '/sys/fs/cgroup';
    container = path.join(hierarchy, `dynamos-test-${randomUUID()}`);
    try {
      await mkdir(container);
    } catch (error) {
      console.log(`    (skipped: cannot create a cgroup in ${hierarchy} as uid ${process.getuid?.()}: ${(error as Error).message}; run as root on a machine with a cgroup memory controller)`);
      this.skip();
    }
    const probe = await detectJobCgroups({ parent: container });
    if (probe.kind === 'unavailable') {
      await rmdir(container);
      console.log(`    (skipped: ${probe.reason})`);
      this.skip();
    }
    groups = probe.groups;
  });
  afterEach(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(started.map(exitOf));
    started = [];
  });
  after(async () => {
    if (container === '' || !existsSync(container)) return;
    await groups.close();
    await rmdir(container);
  });

  function start(child: ChildProcess): ChildProcess & { pid: number } {
    started.push(child);
    assert.ok(child.pid !== undefined);
    return child as ChildProcess & { pid: number };
  }

  it('lets the kernel kill a job that allocates past its limit, and tells it was the OOM killer', async () => {
    const job = start(allocator(1024));
    const group = await groups.place(job.pid, limitBytes);
    assert.ok(cgroupsOf(job.pid).includes(path.relative(path.dirname(container), group.path)));
    job.stdin?.write('go\n');
    assert.deepEqual(await exitOf(job), { code: null, signal: 'SIGKILL' });
    assert.equal(await group.oomKilled(), true);
    const peak = await group.peakBytes();
    assert.ok(peak !== undefined && peak <= limitBytes && peak > limitBytes / 2, `peak ${peak}`);
    await group.remove();
    assert.equal(existsSync(group.path), false);
  });

  it('lets a job under its limit finish, and tells it was not OOM-killed', async () => {
    const job = start(allocator(20));
    const group = await groups.place(job.pid, limitBytes);
    job.stdin?.write('go\n');
    assert.deepEqual(await exitOf(job), { code: 0, signal: null });
    assert.equal(await group.oomKilled(), false);
    const peak = await group.peakBytes();
    assert.ok(peak !== undefined && peak >= 20 * mib && peak <= limitBytes, `peak ${peak}`);
    await group.remove();
    assert.equal(existsSync(group.path), false);
  });

  it('ends what still runs in a job group when removing it', async () => {
    const job = start(sleeper());
    const group = await groups.place(job.pid, limitBytes);
    await group.remove();
    assert.deepEqual(await exitOf(job), { code: null, signal: 'SIGKILL' });
    assert.equal(existsSync(group.path), false);
    await group.remove();
  });

  it('refuses to place a process that is gone, leaving no group behind', async () => {
    const gone = start(spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }));
    await exitOf(gone);
    const before = readdirSync(groups.path);
    await assert.rejects(groups.place(gone.pid, limitBytes), { code: 'ADAPTER_UNAVAILABLE' });
    assert.deepEqual(readdirSync(groups.path), before);
  });

  it('sweeps the groups of a dead runner, ending its leftover jobs, and keeps those of live runners', async () => {
    const dead = start(spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }));
    await exitOf(dead);
    const deadRunner = path.join(container, `dynamos-${dead.pid}-${randomUUID()}`);
    const liveRunner = path.join(container, `dynamos-${process.pid}-${randomUUID()}`);
    await mkdir(path.join(deadRunner, 'job-1'), { recursive: true });
    await mkdir(liveRunner);
    const leftover = start(sleeper());
    await writeFile(path.join(deadRunner, 'job-1', 'cgroup.procs'), String(leftover.pid));

    const removed = await groups.sweepOrphaned();

    assert.deepEqual(removed, [path.basename(deadRunner)]);
    assert.deepEqual(await exitOf(leftover), { code: null, signal: 'SIGKILL' });
    assert.equal(existsSync(deadRunner), false);
    assert.equal(existsSync(liveRunner), true);
    assert.equal(existsSync(groups.path), true);
    await rmdir(liveRunner);
  });

  it('removes the runner\'s group and the job groups left in it on close, and then refuses to place', async () => {
    const probe = await detectJobCgroups({ parent: container });
    assert.equal(probe.kind, 'usable');
    if (probe.kind !== 'usable') return;
    const job = start(sleeper());
    const group = await probe.groups.place(job.pid, limitBytes);
    job.kill('SIGKILL');
    await exitOf(job);

    await probe.groups.close();
    await probe.groups.close();

    assert.equal(existsSync(group.path), false);
    assert.equal(existsSync(probe.groups.path), false);
    await assert.rejects(probe.groups.place(process.pid, limitBytes), { code: 'INTERNAL' });
  });
});
