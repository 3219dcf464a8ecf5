import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { cgroupV1, errorCode, readCgroupFile, writeCgroupFile } from '../cgroup-files.js';

/**
 * One site's groups. v1 mounts each controller in a hierarchy of its own, so a site has a group in
 * each (cpu and cpuacct may share one mount, and then one directory); v2 has one group for all.
 */
export interface SiteGroupDirs {
  readonly memory: string;
  readonly cpu: string;
  readonly cpuacct: string;
}

/** The CFS period: the quota is spent per 100 ms, so a throttled site waits at most that long. */
export const cpuPeriodMicros = 100_000;

/** How the site files of one cgroup version are named and written; callers never see which. */
export interface SiteCgroupFiles {
  readonly kind: 'v1' | 'v2';
  /** Lets groups made under `dir` have the controllers a site needs (cpu, memory). */
  enableForChildren(dir: string): Promise<void>;
  /** Makes the site's group in each hierarchy ready to hold jobs. */
  prepare(dirs: SiteGroupDirs): Promise<void>;
  /** At most `cpus` cores for the whole site. */
  boundCpu(dirs: SiteGroupDirs, cpus: number): Promise<void>;
  /** At most `bytes` of RAM and swap together for the whole site. */
  boundMemory(dirs: SiteGroupDirs, bytes: number): Promise<void>;
  /** The group in which a process goes that has no job group of its own in the site. */
  directGroup(dirs: SiteGroupDirs): string;
  /** CPU-seconds the site's processes used since the group was made. */
  cpuSeconds(dirs: SiteGroupDirs): Promise<number>;
  /** Memory charged to the site now, page cache included. */
  memoryBytes(dirs: SiteGroupDirs): Promise<number>;
}

export const siteCgroupV1: SiteCgroupFiles = {
  kind: 'v1',
  // Every v1 group has every controller of its hierarchy.
  enableForChildren: () => Promise.resolve(),
  async prepare(dirs) {
    // Before Linux 5.11 a v1 group need not count its child groups' memory (use_hierarchy 0), and
    // the site's limit must count its jobs' groups. Later kernels always do and ignore the file.
    await writeCgroupFile(dirs.memory, 'memory.use_hierarchy', 1).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  },
  async boundCpu(dirs, cpus) {
    await writeCgroupFile(dirs.cpu, 'cpu.cfs_period_us', cpuPeriodMicros);
    await writeCgroupFile(dirs.cpu, 'cpu.cfs_quota_us', quotaMicros(cpus));
  },
  // The same bound as a job's: limit, then RAM + swap (or no swap at all without swap accounting).
  boundMemory: (dirs, bytes) => cgroupV1.bound(dirs.memory, bytes),
  // v1 lets a group hold processes next to child groups.
  directGroup: (dirs) => dirs.memory,
  cpuSeconds: async (dirs) => wholeNumber(await readCgroupFile(dirs.cpuacct, 'cpuacct.usage'), 'cpuacct.usage') / 1e9,
  memoryBytes: async (dirs) => wholeNumber(await readCgroupFile(dirs.memory, 'memory.usage_in_bytes'), 'memory.usage_in_bytes'),
};

export const siteCgroupV2: SiteCgroupFiles = {
  kind: 'v2',
  async enableForChildren(dir) {
    const available = words(await readCgroupFile(dir, 'cgroup.controllers'));
    const missing = ['cpu', 'memory'].filter((c) => !available.includes(c));
    if (missing.length > 0) throw new Error(`${missing.join(' and ')} not among its cgroup.controllers (${available.join(' ') || 'none'})`);
    const enabled = words(await readCgroupFile(dir, 'cgroup.subtree_control'));
    const toEnable = ['cpu', 'memory'].filter((c) => !enabled.includes(c));
    if (toEnable.length > 0) await writeCgroupFile(dir, 'cgroup.subtree_control', toEnable.map((c) => `+${c}`).join(' '));
  },
  async prepare(dirs) {
    // v2's "no internal processes": once the site gives its job groups memory, it may hold no
    // process itself, so a process without a job group goes into a leaf of its own.
    await writeCgroupFile(dirs.memory, 'cgroup.subtree_control', '+memory');
    await mkdir(siteCgroupV2.directGroup(dirs));
  },
  boundCpu: (dirs, cpus) => writeCgroupFile(dirs.cpu, 'cpu.max', `${quotaMicros(cpus)} ${cpuPeriodMicros}`),
  async boundMemory(dirs, bytes) {
    await writeCgroupFile(dirs.memory, 'memory.max', bytes);
    // Present only with swap accounting; without it there is no swap to dodge into. Unlike a job's
    // group, no memory.oom.group: the site's OOM ends one job (its group), not all of the party's.
    await writeCgroupFile(dirs.memory, 'memory.swap.max', 0).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  },
  directGroup: (dirs) => path.join(dirs.memory, 'placed-directly'),
  async cpuSeconds(dirs) {
    const usec = /^usage_usec (\d+)$/m.exec(await readCgroupFile(dirs.cpuacct, 'cpu.stat'))?.[1];
    return wholeNumber(usec, 'usage_usec in cpu.stat') / 1e6;
  },
  memoryBytes: async (dirs) => wholeNumber(await readCgroupFile(dirs.memory, 'memory.current'), 'memory.current'),
};

/** The quota in µs per period; the kernel refuses less than 1 ms. */
export function quotaMicros(cpus: number): number {
  return Math.max(1000, Math.round(cpus * cpuPeriodMicros));
}

/** Whether `pid` is in the group at `dir` or in one of its descendants (a job's group, say). */
export async function holdsProcess(dir: string, pid: number): Promise<boolean> {
  try {
    const procs = words(await readCgroupFile(dir, 'cgroup.procs'));
    if (procs.includes(String(pid))) return true;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && (await holdsProcess(path.join(dir, entry.name), pid))) return true;
    }
    return false;
  } catch (error) {
    // A job's group removed while we looked holds nothing.
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function wholeNumber(text: string | undefined, what: string): number {
  const value = Number(text?.trim());
  if (text === undefined || !Number.isSafeInteger(value) || value < 0) throw new Error(`${what} holds no count: ${JSON.stringify(text)}`);
  return value;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}
