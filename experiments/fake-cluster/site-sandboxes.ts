import { randomUUID } from 'node:crypto';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { JobCgroupsProbe, JobGroup } from '../../adapters/local/job-memory-cgroup.js';
import { openJobMemoryGroups } from '../../adapters/local/site-placement.js';
import type { SiteEnvelopes, SitesStatus } from '../../adapters/local/sites/index.js';
import { openSiteEnvelopes, sitesSettingsSchema } from '../../adapters/local/sites/index.js';

/** A namespace's share of this machine: the party's site settings. */
export interface SiteLimits {
  /** Cores the namespace's containers may use together (a CPU quota). */
  readonly cpus?: number;
  /** Memory (RAM and swap) its containers may use together, in MiB (at least 64). */
  readonly memoryMiB?: number;
}

/** Whether containers get real cgroups here, and why not when they do not. */
export interface SandboxStatus {
  /** Each container with a memory limit runs in a memory cgroup of its own: a real OOM kill says OOMKilled. */
  readonly memoryLimits: boolean;
  /** Each namespace's containers run in its site's cgroups (CPU quota, memory limit together). */
  readonly sites: boolean;
  /** Why not, when either is false (not root, no writable controller). */
  readonly reason?: string;
  readonly siteEnvelopes: SitesStatus;
}

/**
 * The containers' place on this machine: each namespace is a party's site from adapters/local/sites
 * (its cgroups bound all its containers together), and each container with `limits.memory` gets
 * its own memory group inside the site's, as the local runner's jobs do (site-placement.ts).
 * Without root or a writable cgroup controller, containers run unbounded and `status()` says why.
 */
export class SiteSandboxes {
  private constructor(
    private readonly envelopes: SiteEnvelopes,
    private readonly memoryGroups: JobCgroupsProbe,
  ) {}

  static async open(sites: Readonly<Record<string, SiteLimits>>, opts: { readonly enabled: boolean; readonly logger: Logger }): Promise<SiteSandboxes> {
    const runnerId = `fake-cluster-${randomUUID().slice(0, 8)}`;
    const declared = opts.enabled ? sitesSettingsSchema.parse(sites) : {};
    const envelopes = await openSiteEnvelopes(declared, { runnerId, logger: opts.logger });
    const memoryGroups: JobCgroupsProbe = opts.enabled ? await openJobMemoryGroups({ runnerId }, opts.logger) : { kind: 'unavailable', reason: 'cgroups are turned off in the fake cluster\'s options' };
    return new SiteSandboxes(envelopes, memoryGroups);
  }

  status(): SandboxStatus {
    const siteEnvelopes = this.envelopes.status();
    const declared = Object.keys(siteEnvelopes.sites).length > 0;
    const reasons = [...(this.memoryGroups.kind === 'unavailable' ? [this.memoryGroups.reason] : []), ...(declared && siteEnvelopes.reason !== undefined ? [siteEnvelopes.reason] : [])];
    return {
      memoryLimits: this.memoryGroups.kind === 'usable',
      sites: declared && siteEnvelopes.enforced,
      ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
      siteEnvelopes,
    };
  }

  /**
   * Puts a container's process in its memory group (when it has a limit) inside its namespace's
   * site, then under the site's CPU quota. Call before the process runs its command.
   */
  async place(namespace: string, pid: number, memoryLimitBytes: number | undefined): Promise<JobGroup | undefined> {
    let group: JobGroup | undefined;
    if (this.memoryGroups.kind === 'usable' && memoryLimitBytes !== undefined) {
      const sameHierarchy = this.memoryGroups.groups.kind === this.envelopes.status().cgroupVersion;
      const within = sameHierarchy ? this.envelopes.jobGroupParent(namespace) : undefined;
      group = await this.memoryGroups.groups.place(pid, Math.floor(memoryLimitBytes), within === undefined ? {} : { within });
    }
    await this.envelopes.place(namespace, pid);
    return group;
  }

  /** Removes every group made; ends what still runs in them. */
  async close(): Promise<void> {
    if (this.memoryGroups.kind === 'usable') await this.memoryGroups.groups.close();
    await this.envelopes.close();
  }
}
