import { constants } from 'node:fs';
import { readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The memory files of one cgroup version: how to bound a group, and what the kernel reports in it
 * afterwards. v1 and v2 name the same ideas differently; callers never see which.
 */
export interface CgroupMemoryFiles {
  readonly kind: 'v1' | 'v2';
  /** A file every memory cgroup of this version has: its presence proves a new directory is one. */
  readonly limitFile: string;
  /** Lets the groups created under `dir` have a memory controller of their own. */
  enableForChildren(dir: string): Promise<void>;
  /** Bounds the group's RAM and swap together at `limitBytes`. */
  bound(dir: string, limitBytes: number): Promise<void>;
  /** How often the kernel's OOM killer killed a process in the group. */
  oomKills(dir: string): Promise<number>;
  /** The group's highest memory use, where the kernel keeps it. */
  peakBytes(dir: string): Promise<number | undefined>;
}

export const cgroupV1: CgroupMemoryFiles = {
  kind: 'v1',
  limitFile: 'memory.limit_in_bytes',
  // Every v1 group has every controller of its hierarchy.
  enableForChildren: () => Promise.resolve(),
  async bound(dir, limitBytes) {
    await writeCgroupFile(dir, 'memory.limit_in_bytes', limitBytes);
    // Without a bound on RAM + swap, a job past its limit swaps instead of being stopped. The memsw
    // file exists only with swap accounting on; without it, swappiness 0 keeps the group out of swap.
    const swapBounded = await writeCgroupFileIfPresent(dir, 'memory.memsw.limit_in_bytes', limitBytes);
    if (!swapBounded) await writeCgroupFileIfPresent(dir, 'memory.swappiness', 0);
  },
  // Kernels before 4.13 do not count kills here; on those this says 0.
  oomKills: async (dir) => counterIn(await readCgroupFile(dir, 'memory.oom_control'), 'oom_kill') ?? 0,
  peakBytes: async (dir) => numberIn(await readCgroupFileIfPresent(dir, 'memory.max_usage_in_bytes')),
};

export const cgroupV2: CgroupMemoryFiles = {
  kind: 'v2',
  limitFile: 'memory.max',
  async enableForChildren(dir) {
    const available = words(await readCgroupFile(dir, 'cgroup.controllers'));
    if (!available.includes('memory')) throw new Error(`memory is not among its cgroup.controllers (${available.join(' ') || 'none'})`);
    if (words(await readCgroupFile(dir, 'cgroup.subtree_control')).includes('memory')) return;
    await writeCgroupFile(dir, 'cgroup.subtree_control', '+memory');
  },
  async bound(dir, limitBytes) {
    await writeCgroupFile(dir, 'memory.max', limitBytes);
    // Present only with swap accounting; without it there is no swap for the group to dodge into.
    await writeCgroupFileIfPresent(dir, 'memory.swap.max', 0);
    // A job is over once the kernel kills part of it, so it kills the whole group: nothing the job
    // forked runs on without it.
    await writeCgroupFileIfPresent(dir, 'memory.oom.group', 1);
  },
  oomKills: async (dir) => counterIn(await readCgroupFile(dir, 'memory.events'), 'oom_kill') ?? 0,
  // memory.peak exists from Linux 5.19.
  peakBytes: async (dir) => numberIn(await readCgroupFileIfPresent(dir, 'memory.peak')),
};

/**
 * Writes without O_CREAT or O_TRUNC and without asking to read: the kernel refuses to create
 * cgroup files, and some (cgroup.kill) are write-only.
 */
export async function writeCgroupFile(dir: string, file: string, value: string | number): Promise<void> {
  await writeFile(path.join(dir, file), String(value), { flag: constants.O_WRONLY });
}

/** Whether the file existed to be written: some files depend on kernel version and boot options. */
async function writeCgroupFileIfPresent(dir: string, file: string, value: string | number): Promise<boolean> {
  try {
    await writeCgroupFile(dir, file, value);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

export function readCgroupFile(dir: string, file: string): Promise<string> {
  return readFile(path.join(dir, file), 'utf8');
}

async function readCgroupFileIfPresent(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readCgroupFile(dir, file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The value of `name N` in a flat keyed file such as memory.events. */
function counterIn(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function numberIn(text: string | undefined): number | undefined {
  const value = Number(text?.trim());
  return text === undefined || !Number.isSafeInteger(value) ? undefined : value;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** The kernel keeps a group busy for a moment after its last process is reaped (more so on v2). */
const busyRetries = 9;
const firstBusyWaitMs = 2;

/**
 * Ends whatever still runs in a group and its child groups, then removes them, deepest first.
 * A missing group counts as removed. Gives up (rejecting with EBUSY) after about a second.
 */
export async function removeCgroup(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) await removeCgroup(path.join(dir, entry.name));
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      if (errorCode(error) !== 'EBUSY' || attempt === busyRetries) throw error;
    }
    // Killed again on every attempt: a process may have forked between the read and the kill.
    await killMembers(dir);
    await sleep(firstBusyWaitMs * 2 ** attempt);
  }
}

/**
 * SIGKILL to every process in the group. The pids come from the group itself, so they are its
 * members, not strangers that reused a number. v2's cgroup.kill does it atomically, forks included.
 */
async function killMembers(dir: string): Promise<void> {
  try {
    await writeCgroupFile(dir, 'cgroup.kill', 1);
    return;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const procs = await readCgroupFileIfPresent(dir, 'cgroup.procs');
  for (const pid of words(procs ?? '').map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It exited after the read.
    }
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a failed cgroup operation means for the operator, with what to do about it. */
export function explainCgroupError(error: unknown): string {
  switch (errorCode(error)) {
    case 'EBUSY':
      return 'EBUSY: it holds processes, and a v2 group may not both hold processes and enable controllers for child groups';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `${errorCode(error)}: not writable by this user; run as root, or delegate a cgroup and name it as the parent`;
    default:
      return messageOf(error);
  }
}
