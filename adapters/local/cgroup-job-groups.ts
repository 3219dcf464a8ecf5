import { mkdir, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { DynamosError } from '../../knowledge/errors.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { isProcessAlive } from '../../knowledge/process-alive.js';
import type { CgroupMemoryFiles } from './cgroup-files.js';
import { messageOf, removeCgroup, writeCgroupFile } from './cgroup-files.js';
import type { JobGroup, JobMemoryGroups } from './job-memory-cgroup.js';

/** A runner's group is named after the daemon's pid, so a sweep can tell a dead runner's group. */
export function runnerGroupName(runnerId: string): string {
  return `dynamos-${process.pid}-${runnerId}`;
}
const runnerGroupPattern = /^dynamos-(\d+)-/;

/**
 * The memory cgroups of one runner: its own group, and in it one child group per job. Made by
 * `detectJobCgroups`, which has already created the runner's group.
 */
export class CgroupJobMemoryGroups implements JobMemoryGroups {
  readonly kind: 'v1' | 'v2';
  private jobsPlaced = 0;
  private closed = false;

  constructor(
    private readonly files: CgroupMemoryFiles,
    readonly path: string,
    private readonly deps: { logger: Logger },
  ) {
    this.kind = files.kind;
  }

  async place(pid: number, limitBytes: number, opts: { readonly within?: string } = {}): Promise<JobGroup> {
    if (this.closed) throw new DynamosError('INTERNAL', 'the job memory cgroups are closed', { retryable: false });
    if (!Number.isSafeInteger(limitBytes) || limitBytes <= 0) {
      throw new DynamosError('INTERNAL', `a job's memory limit must be a positive whole number of bytes, not ${limitBytes}`, { retryable: false });
    }
    // Numbered per runner, so the names stay unique wherever the groups are made.
    const dir = path.join(opts.within ?? this.path, `job-${++this.jobsPlaced}`);
    try {
      await mkdir(dir);
      await this.files.bound(dir, limitBytes);
      // Last: the process enters a group that is already bounded.
      await writeCgroupFile(dir, 'cgroup.procs', pid);
    } catch (error) {
      await rmdir(dir).catch(() => undefined);
      throw new DynamosError('ADAPTER_UNAVAILABLE', `could not put job process ${pid} in memory cgroup ${dir} with a limit of ${limitBytes} bytes: ${messageOf(error)}`, {
        retryable: false,
        cause: error,
      });
    }
    return new CgroupJobGroup(dir, this.files);
  }

  /**
   * Removes the groups of runners whose daemon is gone (killed with -9, say), ending whatever of
   * theirs still runs. Groups of live runners, this one included, are left alone.
   */
  async sweepOrphaned(): Promise<string[]> {
    const container = path.dirname(this.path);
    const names = await readdir(container).catch(() => []);
    const removed: string[] = [];
    for (const name of names) {
      const pid = Number(runnerGroupPattern.exec(name)?.[1]);
      if (!Number.isInteger(pid) || isProcessAlive(pid)) continue;
      try {
        await removeCgroup(path.join(container, name));
        removed.push(name);
      } catch (error) {
        this.deps.logger.warn('the memory cgroup of a dead job runner could not be removed: it stays until a later sweep', { group: name, error: messageOf(error) });
      }
    }
    return removed;
  }

  /** Removes this runner's group and every job group left in it, ending what still runs there. */
  async close(): Promise<void> {
    this.closed = true;
    try {
      await removeCgroup(this.path);
    } catch (error) {
      this.deps.logger.warn('this runner\'s memory cgroup could not be removed: the next runner to start removes it', { group: this.path, error: messageOf(error) });
    }
  }
}

class CgroupJobGroup implements JobGroup {
  constructor(
    readonly path: string,
    private readonly files: CgroupMemoryFiles,
  ) {}

  async oomKilled(): Promise<boolean> {
    return (await this.files.oomKills(this.path)) > 0;
  }

  peakBytes(): Promise<number | undefined> {
    return this.files.peakBytes(this.path);
  }

  async remove(): Promise<void> {
    try {
      await removeCgroup(this.path);
    } catch (error) {
      throw new DynamosError('INTERNAL', `could not remove the job's memory cgroup ${this.path}: ${messageOf(error)}`, { retryable: false, cause: error });
    }
  }
}
