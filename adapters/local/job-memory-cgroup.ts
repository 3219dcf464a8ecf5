import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../knowledge/ports/logger.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import type { CgroupMemoryFiles } from './cgroup-files.js';
import { cgroupV1, cgroupV2, explainCgroupError as explain } from './cgroup-files.js';
import { CgroupJobMemoryGroups, runnerGroupName } from './cgroup-job-groups.js';
import { exists, mountedPath, readOwnCgroups } from './cgroup-own.js';

/**
 * An OS memory limit per job process: the hard stop behind DuckDB's and V8's own limits, which
 * bound only what they allocate themselves (docs/designs/010-job-memory-limits.md).
 */
export interface JobMemoryGroups {
  readonly kind: 'v1' | 'v2';
  /** This runner's group, in which each job gets a child group. */
  readonly path: string;
  /**
   * Moves a running process into a new group bounded at `limitBytes` (RAM and swap together).
   * Processes it forks later are born into the group. Memory it used before the move stays
   * charged where it was: the kernel does not move charges.
   * @param opts.within the group to make the job's group in, instead of this runner's group: a
   *   site's group (`SiteEnvelopes.jobGroupParent`), so the site's limits bound the job as well.
   *   It must be a group of the same hierarchy that allows memory in its child groups.
   * @throws DynamosError ADAPTER_UNAVAILABLE when the group cannot be made or the process moved
   */
  place(pid: number, limitBytes: number, opts?: { readonly within?: string }): Promise<JobGroup>;
  /**
   * Removes the groups of runners whose daemon died, with whatever of theirs still runs; call once
   * at start. Resolves with the names removed.
   */
  sweepOrphaned(): Promise<string[]>;
  /** Removes this runner's group and any job group left in it. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** One job's group. Read what it reports before `remove`, which deletes the kernel's counters. */
export interface JobGroup {
  readonly path: string;
  /** Whether the kernel's OOM killer killed a process of the group: the job passed its limit. */
  oomKilled(): Promise<boolean>;
  /** The group's highest memory use since the move; undefined where the kernel keeps none (v2 before Linux 5.19). */
  peakBytes(): Promise<number | undefined>;
  /**
   * Ends whatever still runs in the group and removes it; call once the job's process exited.
   * Idempotent.
   * @throws DynamosError INTERNAL when the kernel still holds the group busy after about a second
   */
  remove(): Promise<void>;
}

export interface JobCgroupsOptions {
  /** Where the cgroup hierarchies are mounted. @default '/sys/fs/cgroup' */
  readonly root?: string;
  /**
   * The cgroup to make this runner's group in.
   * @default v1: the daemon's own memory cgroup; v2: the daemon's own cgroup, else its parent
   */
  readonly parent?: string;
  /** Names the runner's group, after the daemon's pid. @default a random UUID */
  readonly runnerId?: string;
  /** Which cgroups this process is in. @default '/proc/self/cgroup' */
  readonly selfCgroupFile?: string;
}

/** Either the runner's memory groups, or why this machine gives none (shown at start and in /healthz). */
export type JobCgroupsProbe =
  | { readonly kind: 'usable'; readonly groups: JobMemoryGroups }
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Finds a memory controller this process may use, v2 or v1, and makes this runner's group in it.
 * Creating the group is the probe: permissions, delegation, read-only mounts and container
 * namespaces all show in whether that works, and nothing else tells reliably.
 */
export async function detectJobCgroups(opts: JobCgroupsOptions = {}, deps: { logger: Logger } = { logger: silentLogger }): Promise<JobCgroupsProbe> {
  const root = path.resolve(opts.root ?? '/sys/fs/cgroup');
  const hierarchy = await findMemoryHierarchy(root, opts.selfCgroupFile ?? '/proc/self/cgroup');
  if (typeof hierarchy === 'string') return unavailable(hierarchy);
  const name = runnerGroupName(opts.runnerId ?? randomUUID());
  const problems: string[] = [];
  for (const parent of opts.parent === undefined ? hierarchy.parents : [opts.parent]) {
    const made = await makeRunnerGroup(hierarchy.files, parent, name);
    if (typeof made !== 'string') return { kind: 'usable', groups: new CgroupJobMemoryGroups(hierarchy.files, made.path, deps) };
    problems.push(`${parent}: ${made}`);
  }
  return unavailable(`cgroup ${hierarchy.files.kind}: ${problems.join('; ')}`);
}

function unavailable(detail: string): JobCgroupsProbe {
  const uid = process.getuid?.();
  return { kind: 'unavailable', reason: `no cgroup memory controller is writable by this user${uid === undefined ? '' : ` (uid ${uid})`}: ${detail}` };
}

interface MemoryHierarchy {
  readonly files: CgroupMemoryFiles;
  /** Where to try to make the runner's group, best first. */
  readonly parents: readonly string[];
}

/**
 * v2 when the unified hierarchy at `root` offers memory; v1 when a memory hierarchy is mounted at
 * `root/memory`. A hybrid machine has both mounts, and memory on the one it was bound to.
 */
async function findMemoryHierarchy(root: string, selfCgroupFile: string): Promise<MemoryHierarchy | string> {
  const own = await readOwnCgroups(selfCgroupFile);
  const unifiedControllers = await readFile(path.join(root, 'cgroup.controllers'), 'utf8').catch(() => '');
  if (unifiedControllers.split(/\s+/).includes('memory')) {
    // v2 lets a group hold processes or enable controllers for child groups, not both (the root
    // excepted). The daemon's own group holds the daemon, so the runner's group usually goes next to
    // it: in its parent, which a delegating service manager hands over.
    const ownDir = mountedPath(root, own.unified);
    if (ownDir === undefined || !(await exists(ownDir))) return { files: cgroupV2, parents: [root] };
    return { files: cgroupV2, parents: ownDir === root ? [root] : [ownDir, path.dirname(ownDir)] };
  }
  const v1Root = path.join(root, 'memory');
  if (await exists(path.join(v1Root, cgroupV1.limitFile))) {
    // Inside the daemon's own group, so jobs stay within whatever bounds the daemon (a service's or
    // a container's limit). A container that mounts only its own group shows it as the root.
    const ownDir = mountedPath(v1Root, own.v1.get('memory'));
    return { files: cgroupV1, parents: [ownDir !== undefined && (await exists(ownDir)) ? ownDir : v1Root] };
  }
  return `none is mounted at ${root} (no memory in ${path.join(root, 'cgroup.controllers')}, no ${v1Root})`;
}

/** The runner's group, made and ready for job groups; or what stopped it, for the operator. */
async function makeRunnerGroup(files: CgroupMemoryFiles, parent: string, name: string): Promise<{ path: string } | string> {
  try {
    await files.enableForChildren(parent);
  } catch (error) {
    return `cannot enable memory for child groups (${explain(error)})`;
  }
  const dir = path.join(parent, name);
  try {
    await mkdir(dir);
  } catch (error) {
    return `cannot create a group in it (${explain(error)})`;
  }
  try {
    await access(path.join(dir, files.limitFile));
    await files.enableForChildren(dir);
    return { path: dir };
  } catch (error) {
    await rmdir(dir).catch(() => undefined);
    return `not a memory cgroup: a group made in it has no usable ${files.limitFile} (${explain(error)})`;
  }
}
