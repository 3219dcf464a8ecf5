import { DynamosError } from '../../../knowledge/errors.js';
import type { Clock } from '../../../knowledge/ports/clock.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
import type { NetCommands } from './net-commands.js';
import { findNetCommands } from './net-commands.js';
import type { SiteCgroups } from './site-cgroups.js';
import { openSiteCgroups } from './site-cgroups.js';
import type { SiteNames } from './site-names.js';
import { siteNames } from './site-names.js';
import { SiteNetwork, bridgeNetfilterNote, sweepOrphanedNetworks } from './site-network.js';
import type { SiteSettings, SitesSettings } from './site-settings.js';

/** A party's use of its site since the envelope was made, for per-site readings. */
export interface SiteUsage {
  /** CPU-seconds its processes used since `sinceMs`. */
  readonly cpuSeconds: number;
  /** Memory charged to it now (page cache included). */
  readonly memoryBytes: number;
  /** Its CPU quota in cores; undefined when unbounded. */
  readonly cpus?: number;
  /** Its memory limit; undefined when unbounded. */
  readonly memoryLimitBytes?: number;
  /** When the envelope was made (ms since the epoch, by the envelopes' clock): where `cpuSeconds` starts. */
  readonly sinceMs: number;
}

export interface SiteStatus {
  /** As declared. */
  readonly cpus?: number;
  readonly memoryMiB?: number;
  readonly linkMbit?: number;
  /** The site's cgroup directories (v1: one per hierarchy), when its cgroups hold. */
  readonly cgroups?: readonly string[];
  /** Its namespace, when it asked for a network and the network holds. */
  readonly network?: { readonly namespace: string; readonly address: string; readonly hostInterface: string };
}

export interface SitesStatus {
  /** Whether everything the sites declare holds. True when no site is declared. */
  readonly enforced: boolean;
  /** Why not, when not: one sentence per part (cgroups, network) that does not hold. */
  readonly reason?: string;
  readonly cgroupVersion?: 'v1' | 'v2';
  /** The host's bridge and its address, when any site has a network. */
  readonly bridge?: { readonly name: string; readonly address: string };
  /** What the operator should know: links are rate-limited only (no latency), br_netfilter. */
  readonly notes: readonly string[];
  readonly sites: Readonly<Record<string, SiteStatus>>;
}

/** The parties' sites on this machine: each one's CPU, memory and network envelope. */
export interface SiteEnvelopes {
  /** Per party: what it has and what holds; for /healthz and the start log. */
  status(): SitesStatus;
  /**
   * Puts a job process into its party's envelope (CPU quota and memory limit). No-op for a party
   * without a site, or when the envelopes do not hold. A process already in a group inside the
   * site's group (its job's memory group, made `within: jobGroupParent(party)`) stays there; any
   * other goes into the site's own group. Call it before or after the job's memory group is
   * placed, but not at the same time: each moves the process.
   * @throws DynamosError ADAPTER_UNAVAILABLE when the process cannot be moved (it exited, say)
   */
  place(party: string, pid: number): Promise<void>;
  /**
   * The group in which to make the party's jobs' memory groups (`JobMemoryGroups.place(pid,
   * limit, { within })`), so that the site's memory limit bounds all its jobs together and each
   * job its own. Undefined for a party without a site, or when the envelopes do not hold.
   */
  jobGroupParent(party: string): string | undefined;
  /**
   * For a party whose site has a network, the command that starts a process inside its namespace:
   * spawn `[...prefix, process.execPath, …]` with an 'ipc' stdio entry; the process keeps its pid
   * and Node's IPC channel. Undefined otherwise.
   */
  launchPrefix(party: string): readonly string[] | undefined;
  /**
   * The address a job of this party listens on for incoming data: its namespace's address; for a
   * party without one, `daemonAddress`, which jobs in namespaces can reach too (127.0.0.1 cannot be).
   */
  listenAddress(party: string): string;
  /** Where the daemon listens so that jobs in namespaces reach it: the bridge's host address, else 127.0.0.1. */
  readonly daemonAddress: string;
  /** The party's use since its envelope was made; undefined for a party without one. */
  usage(party: string): Promise<SiteUsage | undefined>;
  /** Removes every group, namespace, veth, bridge and tc rule it made; ends what still runs in them. Idempotent, never rejects. */
  close(): Promise<void>;
}

export interface SiteEnvelopesOptions {
  /** Names what this runner makes, beside the daemon's pid, so a later sweep can tell. */
  readonly runnerId: string;
  readonly logger: Logger;
  /** Where the cgroup hierarchies are mounted. @default '/sys/fs/cgroup' */
  readonly cgroupRoot?: string;
  /** The cgroup (a path within each hierarchy) to make the sites' groups in. @default the daemon's own (v2: else its parent) */
  readonly cgroupParent?: string;
  /** Times `SiteUsage.sinceMs`; pass the metrics source's clock. @default systemClock */
  readonly clock?: Clock;
}

const loopback = '127.0.0.1';

/**
 * Makes every site's envelope: cgroups for all sites (usage is read from them even where nothing
 * is bounded), a namespace for each site with `network: true`. Removes what dead runners left
 * first. Never rejects for want of privileges: what cannot be made is in `status().reason`.
 */
export async function openSiteEnvelopes(sites: SitesSettings, opts: SiteEnvelopesOptions): Promise<SiteEnvelopes> {
  const declared = new Map(Object.entries(sites));
  if (declared.size === 0) return new MachineSiteEnvelopes(declared, {}, opts.clock ?? systemClock);
  const names = siteNames(opts.runnerId, [...declared.keys()]);
  const reasons: string[] = [];
  const notes: string[] = [];
  const cgroupOpts = { ...(opts.cgroupRoot === undefined ? {} : { root: opts.cgroupRoot }), ...(opts.cgroupParent === undefined ? {} : { parent: opts.cgroupParent }) };
  const probe = await openSiteCgroups(declared, names, cgroupOpts, opts.logger);
  let cgroups: SiteCgroups | undefined;
  if (probe.kind === 'usable') {
    cgroups = probe.groups;
    const removed = await cgroups.sweepOrphaned();
    if (removed.length > 0) opts.logger.warn('removed the site cgroups of job runners that died', { removed });
  } else {
    reasons.push(`cgroups: ${probe.reason}`);
  }
  const networked = new Map([...declared].filter(([, site]) => site.network));
  let network: SiteNetwork | undefined;
  if (networked.size > 0) {
    const net = await findNetCommands();
    const made = typeof net === 'string' ? net : await openNetwork(networked, names, net, opts.logger);
    if (typeof made === 'string') reasons.push(`network: ${made}`);
    else network = made;
    if ([...networked.values()].some((s) => s.linkMbit !== undefined)) notes.push('links are limited in rate only: latency is not emulated (that takes the netem qdisc, which this kernel lacks)');
    const netfilter = await bridgeNetfilterNote();
    if (netfilter !== undefined && networked.size > 1) notes.push(netfilter);
  }
  const reason = reasons.length === 0 ? undefined : `the site envelopes do not hold: ${reasons.join('; ')}`;
  return new MachineSiteEnvelopes(declared, { cgroups, network, reason, notes }, opts.clock ?? systemClock);
}

async function openNetwork(sites: ReadonlyMap<string, SiteSettings>, names: SiteNames, net: NetCommands, logger: Logger): Promise<SiteNetwork | string> {
  try {
    const removed = await sweepOrphanedNetworks(net, logger);
    if (removed.length > 0) logger.warn('removed the network namespaces and interfaces of job runners that died', { removed });
  } catch (error) {
    // Listing needs no privilege; failing here means `ip` itself is broken. Making will say how.
    logger.warn('could not look for the networks of job runners that died', { error: (error as Error).message });
  }
  return SiteNetwork.open(sites, names, net, logger);
}

interface MadeParts {
  readonly cgroups?: SiteCgroups | undefined;
  readonly network?: SiteNetwork | undefined;
  readonly reason?: string | undefined;
  readonly notes?: readonly string[];
}

class MachineSiteEnvelopes implements SiteEnvelopes {
  readonly daemonAddress: string;
  private readonly sinceMs: number;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly sites: ReadonlyMap<string, SiteSettings>,
    private readonly made: MadeParts,
    clock: Clock,
  ) {
    this.daemonAddress = made.network?.bridgeAddress ?? loopback;
    this.sinceMs = clock.now();
  }

  status(): SitesStatus {
    const { cgroups, network, reason, notes = [] } = this.made;
    const sites: Record<string, SiteStatus> = {};
    for (const [party, site] of this.sites) {
      const dirs = cgroups?.dirsOf(party);
      const net = network?.parties.get(party);
      sites[party] = {
        ...(site.cpus === undefined ? {} : { cpus: site.cpus }),
        ...(site.memoryMiB === undefined ? {} : { memoryMiB: site.memoryMiB }),
        ...(site.linkMbit === undefined ? {} : { linkMbit: site.linkMbit }),
        ...(dirs === undefined ? {} : { cgroups: [...new Set([dirs.memory, dirs.cpu, dirs.cpuacct])] }),
        ...(net === undefined ? {} : { network: { namespace: net.namespace, address: net.address, hostInterface: net.hostVeth } }),
      };
    }
    return {
      enforced: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
      ...(cgroups === undefined ? {} : { cgroupVersion: cgroups.kind }),
      ...(network === undefined ? {} : { bridge: { name: network.bridge, address: `${network.bridgeAddress}/24` } }),
      notes,
      sites,
    };
  }

  async place(party: string, pid: number): Promise<void> {
    if (this.closing !== undefined) throw new DynamosError('INTERNAL', 'the site envelopes are closed', { retryable: false });
    await this.made.cgroups?.place(party, pid);
  }

  jobGroupParent(party: string): string | undefined {
    return this.closing === undefined ? this.made.cgroups?.dirsOf(party)?.memory : undefined;
  }

  launchPrefix(party: string): readonly string[] | undefined {
    return this.closing === undefined ? this.made.network?.launchPrefix(party) : undefined;
  }

  listenAddress(party: string): string {
    return this.made.network?.parties.get(party)?.address ?? this.daemonAddress;
  }

  async usage(party: string): Promise<SiteUsage | undefined> {
    const site = this.sites.get(party);
    if (site === undefined || this.closing !== undefined) return undefined;
    const used = await this.made.cgroups?.usage(party);
    if (used === undefined) return undefined;
    return {
      ...used,
      ...(site.cpus === undefined ? {} : { cpus: site.cpus }),
      ...(site.memoryMiB === undefined ? {} : { memoryLimitBytes: site.memoryMiB * 2 ** 20 }),
      sinceMs: this.sinceMs,
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Cgroups first: removing them ends the jobs, so the namespaces are empty when they go.
      await this.made.cgroups?.close();
      await this.made.network?.close();
    })();
    return this.closing;
  }
}
