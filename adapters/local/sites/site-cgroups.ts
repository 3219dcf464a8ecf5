import { access, mkdir, readFile, readdir, realpath, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { DynamosError } from '../../../knowledge/errors.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
import { isProcessAlive } from '../../../knowledge/process-alive.js';
import { explainCgroupError, messageOf, removeCgroup, writeCgroupFile } from '../cgroup-files.js';
import { exists, mountedPath, readOwnCgroups } from '../cgroup-own.js';
import type { SiteCgroupFiles, SiteGroupDirs } from './site-cgroup-files.js';
import { holdsProcess, siteCgroupV1, siteCgroupV2 } from './site-cgroup-files.js';
import type { SiteNames } from './site-names.js';
import { ownerPatterns, ownerPid } from './site-names.js';
import type { SiteSettings } from './site-settings.js';

export interface SiteCgroupsOptions {
  /** Where the cgroup hierarchies are mounted. @default '/sys/fs/cgroup' (and /proc/self/mountinfo) */
  readonly root?: string;
  /**
   * The cgroup, as a path within each hierarchy (`/a/b`), to make the sites' groups in.
   * @default v1: the daemon's own group in each hierarchy; v2: the daemon's own, else its parent
   */
  readonly parent?: string;
  /** @default '/proc/self/cgroup' */
  readonly selfCgroupFile?: string;
}

export type SiteCgroupsProbe = { readonly kind: 'usable'; readonly groups: SiteCgroups } | { readonly kind: 'unavailable'; readonly reason: string };

/** Markers that a directory made in a hierarchy is a group of the controller we need. */
const v1Controllers = { memory: 'memory.limit_in_bytes', cpu: 'cpu.cfs_quota_us', cpuacct: 'cpuacct.usage' } as const;
type V1Controller = keyof typeof v1Controllers;

/**
 * Makes every site's group (CPU quota and memory limit) in the first place this process may:
 * making them is the probe, as for the jobs' memory groups (job-memory-cgroup.ts).
 */
export async function openSiteCgroups(sites: ReadonlyMap<string, SiteSettings>, names: SiteNames, opts: SiteCgroupsOptions, logger: Logger): Promise<SiteCgroupsProbe> {
  const layout = await findHierarchies(opts);
  if (typeof layout === 'string') return unavailable(layout);
  const problems: string[] = [];
  for (const container of layout.containers) {
    const top = await makeTop(layout.files, container, names.cgroupTop);
    if (typeof top === 'string') {
      problems.push(`${container.memory}: ${top}`);
      continue;
    }
    const groups = new SiteCgroups(layout.files, container, top, logger);
    try {
      for (const [party, site] of sites) await groups.add(party, names.parties.get(party)?.cgroup ?? party, site);
      return { kind: 'usable', groups };
    } catch (error) {
      await groups.close();
      return unavailable(`cgroup ${layout.files.kind}: ${messageOf(error)}`);
    }
  }
  return unavailable(`cgroup ${layout.files.kind}: ${problems.join('; ')}`);
}

function unavailable(detail: string): SiteCgroupsProbe {
  const uid = process.getuid?.();
  return { kind: 'unavailable', reason: `no cgroup cpu and memory controllers are writable by this user${uid === undefined ? '' : ` (uid ${uid})`}: ${detail}` };
}

/** One runner's site groups: a top group in each hierarchy, one group per site in it. */
export class SiteCgroups {
  readonly kind: 'v1' | 'v2';
  private readonly sites = new Map<string, SiteGroupDirs>();

  constructor(
    private readonly files: SiteCgroupFiles,
    private readonly container: SiteGroupDirs,
    private readonly top: SiteGroupDirs,
    private readonly logger: Logger,
  ) {
    this.kind = files.kind;
  }

  /** Makes a site's group and bounds it. */
  async add(party: string, name: string, site: SiteSettings): Promise<void> {
    const dirs = { memory: path.join(this.top.memory, name), cpu: path.join(this.top.cpu, name), cpuacct: path.join(this.top.cpuacct, name) };
    try {
      for (const dir of distinct(dirs)) await mkdir(dir);
      this.sites.set(party, dirs);
      await this.files.prepare(dirs);
      if (site.cpus !== undefined) await this.files.boundCpu(dirs, site.cpus);
      if (site.memoryMiB !== undefined) await this.files.boundMemory(dirs, site.memoryMiB * 2 ** 20);
    } catch (error) {
      throw new DynamosError('ADAPTER_UNAVAILABLE', `could not make and bound the cgroup of ${party}'s site in ${dirs.memory}: ${explainCgroupError(error)}`, { retryable: false, cause: error });
    }
  }

  dirsOf(party: string): SiteGroupDirs | undefined {
    return this.sites.get(party);
  }

  /**
   * Puts `pid` under the site's CPU quota and memory limit. A process already in a group inside
   * the site (its job's memory group) stays there; any other goes into the site's own group.
   */
  async place(party: string, pid: number): Promise<void> {
    const dirs = this.sites.get(party);
    if (dirs === undefined) return;
    try {
      for (const dir of distinct(dirs)) if (dir !== dirs.memory) await writeCgroupFile(dir, 'cgroup.procs', pid);
      if (!(await holdsProcess(dirs.memory, pid))) await writeCgroupFile(this.files.directGroup(dirs), 'cgroup.procs', pid);
    } catch (error) {
      throw new DynamosError('ADAPTER_UNAVAILABLE', `could not put process ${pid} in the cgroup of ${party}'s site (${dirs.memory}): ${messageOf(error)}`, { retryable: false, cause: error });
    }
  }

  async usage(party: string): Promise<{ cpuSeconds: number; memoryBytes: number } | undefined> {
    const dirs = this.sites.get(party);
    if (dirs === undefined) return undefined;
    try {
      return { cpuSeconds: await this.files.cpuSeconds(dirs), memoryBytes: await this.files.memoryBytes(dirs) };
    } catch (error) {
      throw new DynamosError('ADAPTER_UNAVAILABLE', `could not read the cgroup of ${party}'s site (${dirs.memory}): ${messageOf(error)}`, { retryable: true, cause: error });
    }
  }

  /** Removes the site groups of runners whose daemon died, ending what still runs in them. */
  async sweepOrphaned(): Promise<string[]> {
    const removed: string[] = [];
    for (const container of distinct(this.container)) {
      for (const name of await readdir(container).catch(() => [])) {
        const pid = ownerPid(ownerPatterns.cgroupTop, name);
        if (pid === undefined || isProcessAlive(pid)) continue;
        try {
          await removeCgroup(path.join(container, name));
          removed.push(path.join(container, name));
        } catch (error) {
          this.logger.warn('the site cgroup of a dead job runner could not be removed: it stays until a later sweep', { group: path.join(container, name), error: messageOf(error) });
        }
      }
    }
    return removed;
  }

  /** Removes every site group, ending what still runs in them. Never rejects. */
  async close(): Promise<void> {
    this.sites.clear();
    for (const dir of distinct(this.top)) {
      await removeCgroup(dir).catch((error: unknown) => {
        this.logger.warn('a site cgroup could not be removed: the next runner to start removes it', { group: dir, error: messageOf(error) });
      });
    }
  }
}

interface Hierarchies {
  readonly files: SiteCgroupFiles;
  /** Where to try to make the sites' top group, best first. */
  readonly containers: readonly SiteGroupDirs[];
}

/** v2 when the unified hierarchy at the root offers cpu and memory; else v1's three hierarchies. */
async function findHierarchies(opts: SiteCgroupsOptions): Promise<Hierarchies | string> {
  const root = path.resolve(opts.root ?? '/sys/fs/cgroup');
  const own = await readOwnCgroups(opts.selfCgroupFile ?? '/proc/self/cgroup');
  const unified = await readFile(path.join(root, 'cgroup.controllers'), 'utf8').catch(() => '');
  if (['cpu', 'memory'].every((c) => unified.split(/\s+/).includes(c))) {
    const same = (dir: string): SiteGroupDirs => ({ memory: dir, cpu: dir, cpuacct: dir });
    if (opts.parent !== undefined) return { files: siteCgroupV2, containers: [same(path.join(root, opts.parent))] };
    // As for the jobs' memory groups: the daemon's own group holds the daemon, so v2 gives its child
    // groups no controllers unless it is the root; its parent is the usual place.
    const ownDir = mountedPath(root, own.unified);
    if (ownDir === undefined || ownDir === root || !(await exists(ownDir))) return { files: siteCgroupV2, containers: [same(root)] };
    return { files: siteCgroupV2, containers: [same(ownDir), same(path.dirname(ownDir))] };
  }
  const dirs: Partial<Record<V1Controller, string>> = {};
  for (const controller of Object.keys(v1Controllers) as V1Controller[]) {
    const mount = await findV1Mount(root, controller, opts.root === undefined);
    if (mount === undefined) return `no ${controller} controller is mounted at ${root} (v1), and the unified hierarchy there offers ${unified.trim() || 'none'} (v2)`;
    // Inside the daemon's own group, so the sites stay within whatever bounds the daemon.
    const ownDir = opts.parent === undefined ? mountedPath(mount, own.v1.get(controller)) : path.join(mount, opts.parent);
    dirs[controller] = ownDir !== undefined && (opts.parent !== undefined || (await exists(ownDir))) ? ownDir : mount;
  }
  const { memory = '', cpu = '', cpuacct = '' } = dirs;
  return { files: siteCgroupV1, containers: [{ memory, cpu, cpuacct }] };
}

/**
 * The v1 mount of a controller, resolved (cpu and cpuacct are often one mount under two names):
 * `<root>/<name>` where a name lists it, else (for the real root) wherever mountinfo says.
 */
async function findV1Mount(root: string, controller: V1Controller, useMountinfo: boolean): Promise<string | undefined> {
  const marker = v1Controllers[controller];
  const names = await readdir(root).catch(() => []);
  const candidates = [controller, ...names.filter((n) => n.split(',').includes(controller))].map((n) => path.join(root, n));
  if (useMountinfo) candidates.push(...(await v1MountsFromMountinfo(controller)));
  for (const dir of candidates) {
    if (await exists(path.join(dir, marker))) return realpath(dir);
  }
  return undefined;
}

/** Mount points of v1 hierarchies with the controller: `… mountpoint … - cgroup … rw,cpu,cpuacct`. */
async function v1MountsFromMountinfo(controller: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const mounts: string[] = [];
  for (const line of text.split('\n')) {
    const [before, after] = line.split(' - ');
    const [fstype, , superOptions = ''] = (after ?? '').split(' ');
    const mountPoint = before?.split(' ')[4];
    if (fstype === 'cgroup' && mountPoint !== undefined && superOptions.split(',').includes(controller)) mounts.push(mountPoint);
  }
  return mounts;
}

/** The sites' top group in each hierarchy, ready for site groups; or what stopped it. */
async function makeTop(files: SiteCgroupFiles, container: SiteGroupDirs, name: string): Promise<SiteGroupDirs | string> {
  const top = { memory: path.join(container.memory, name), cpu: path.join(container.cpu, name), cpuacct: path.join(container.cpuacct, name) };
  const made: string[] = [];
  try {
    await files.enableForChildren(container.memory);
  } catch (error) {
    return `cannot enable cpu and memory for child groups (${explainCgroupError(error)})`;
  }
  try {
    for (const dir of distinct(top)) {
      await mkdir(dir);
      made.push(dir);
    }
  } catch (error) {
    await Promise.all(made.map((dir) => rmdir(dir).catch(() => undefined)));
    return `cannot create a group in it (${explainCgroupError(error)})`;
  }
  try {
    const markers = files.kind === 'v2' ? [path.join(top.memory, 'cpu.max'), path.join(top.memory, 'memory.max')] : (Object.entries(v1Controllers) as [V1Controller, string][]).map(([c, file]) => path.join(top[c], file));
    for (const marker of markers) await access(marker);
    await files.enableForChildren(top.memory);
    return top;
  } catch (error) {
    await Promise.all(made.map((dir) => rmdir(dir).catch(() => undefined)));
    return `not a cpu and memory cgroup: a group made in it lacks what a site needs (${explainCgroupError(error)})`;
  }
}

function distinct(dirs: SiteGroupDirs): string[] {
  return [...new Set([dirs.memory, dirs.cpu, dirs.cpuacct])];
}
