import type { Logger } from '../../knowledge/ports/logger.js';
import { messageOf } from './cgroup-files.js';
import type { JobCgroupsProbe, JobGroup } from './job-memory-cgroup.js';
import { detectJobCgroups } from './job-memory-cgroup.js';
import type { JobProcess } from './job-process.js';
import type { SiteEnvelopes, SitesSettings } from './sites/index.js';

/** Where a job process went: its memory group, if it has one, or why it could not be placed. */
export interface Placement {
  readonly group?: JobGroup;
  /** Set when the process could not be placed: it has been ended and must not be given its job. */
  readonly failure?: string;
}

/**
 * Below this distance from its own limit, a job's peak did not reach it. The kernel charges memory
 * in batches of at most 64 pages, so a group that hit its limit peaked within them of it.
 */
const peakSlackBytes = 2 ** 20;

/**
 * Puts each job process in its place before it gets its job: its own memory group
 * (designs/010-job-memory-limits.md), made inside its party's site group so the site's memory
 * limit bounds all the party's jobs together and each job its own; then its site's CPU quota.
 */
export class JobPlacement {
  constructor(
    private readonly memoryGroups: Promise<JobCgroupsProbe>,
    private readonly sites: Promise<SiteEnvelopes>,
    private readonly declared: SitesSettings,
    private readonly jobMemoryBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Places the process; one that cannot be placed is ended, since a job the OS cannot bound does not run unbounded. */
  async place(process: JobProcess, party: string): Promise<Placement> {
    const [probe, sites] = await Promise.all([this.memoryGroups, this.sites]);
    const pid = process.pid;
    if (pid === undefined) return {};
    let group: JobGroup | undefined;
    try {
      if (probe.kind === 'usable') {
        // A site's group is a parent only in the hierarchy the jobs' groups use (a hybrid machine may differ).
        const within = probe.groups.kind === sites.status().cgroupVersion ? sites.jobGroupParent(party) : undefined;
        group = await probe.groups.place(pid, this.jobMemoryBytes, within === undefined ? {} : { within });
      }
      // After the memory group: the site leaves a process already inside its tree where it is.
      await sites.place(party, pid);
      return group === undefined ? {} : { group };
    } catch (error) {
      const failure = `the job process could not be given its memory limit or ${party}'s site: ${messageOf(error)}`;
      this.logger.warn('a job process could not be placed; it is ended', { party, error: messageOf(error) });
      process.kill();
      return group === undefined ? { failure } : { group, failure };
    }
  }

  /**
   * Why the kernel's OOM killer stopped a job of `party`, when it did: past its own limit, or past
   * its site's (all the party's jobs together). The site's group counts the kills of every job in
   * it, so the job's own peak tells which limit was reached: a job that hit its own peaked at it.
   */
  async outOfMemory(party: string, group: JobGroup | undefined): Promise<string | undefined> {
    if (group === undefined || !(await group.oomKilled().catch(() => false))) return undefined;
    const ownMiB = this.jobMemoryBytes / 2 ** 20;
    const own = `the job passed its memory limit of ${ownMiB} MiB and the operating system stopped it`;
    const siteMiB = this.declared[party]?.memoryMiB;
    const sites = await this.sites;
    if (siteMiB === undefined || sites.jobGroupParent(party) === undefined || !group.path.startsWith(`${sites.jobGroupParent(party)}/`)) return own;
    const site = `${party}'s site passed its memory limit of ${siteMiB} MiB (all its jobs together) and the operating system stopped this job`;
    if (siteMiB * 2 ** 20 < this.jobMemoryBytes - peakSlackBytes) return site;
    const peak = await group.peakBytes().catch(() => undefined);
    if (peak === undefined) return `the job passed its memory limit of ${ownMiB} MiB or ${party}'s site its limit of ${siteMiB} MiB (this kernel keeps no peak to tell which), and the operating system stopped it`;
    return peak >= this.jobMemoryBytes - peakSlackBytes ? own : site;
  }
}

/** The OS memory groups of jobs, or why there are none (logged once, at start). */
export async function openJobMemoryGroups(opts: { runnerId: string; parent?: string }, logger: Logger): Promise<JobCgroupsProbe> {
  const probe = await detectJobCgroups(opts, { logger });
  if (probe.kind === 'unavailable') {
    logger.warn('jobs run without an OS memory limit (DuckDB\'s and V8\'s limits still hold)', { reason: probe.reason });
    return probe;
  }
  const removed = await probe.groups.sweepOrphaned();
  if (removed.length > 0) logger.warn('removed the job memory groups of job runners that died', { removed });
  return probe;
}
