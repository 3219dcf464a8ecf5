import { readFile } from 'node:fs/promises';
import type { Logger } from '../../../knowledge/ports/logger.js';
import { isProcessAlive } from '../../../knowledge/process-alive.js';
import { messageOf } from '../cgroup-files.js';
import type { NetCommands } from './net-commands.js';
import { freeSubnet, routedPrefixes } from './net-commands.js';
import type { SiteNames } from './site-names.js';
import { ownerPatterns, ownerPid } from './site-names.js';
import type { SiteSettings } from './site-settings.js';

/** One party's own network: a namespace whose `eth0` is a veth whose host end is on the bridge. */
export interface PartyNetwork {
  readonly namespace: string;
  /** The party's address in its namespace. */
  readonly address: string;
  readonly hostVeth: string;
  /** The rate of its link each way, when limited. */
  readonly linkMbit?: number;
}

/** Parties in the same namespace per site: a /24 has 253 addresses after the bridge's. */
const maxNetworkedSites = 253;

/**
 * The sites' network on this machine: one bridge with the host's address, and one namespace per
 * party with a network, limited to its link rate both ways. What it made, it removes at `close`.
 */
export class SiteNetwork {
  readonly parties = new Map<string, PartyNetwork>();
  /** The host's address on the bridge: where jobs in namespaces reach the daemon and the host. */
  bridgeAddress = '';
  private readonly madeNamespaces: string[] = [];
  private readonly madeLinks: string[] = [];

  private constructor(
    readonly bridge: string,
    private readonly net: NetCommands,
    private readonly logger: Logger,
  ) {}

  /**
   * Makes the bridge, the namespaces, their veths and their rate limits. On any failure, removes
   * what it made and resolves with why.
   */
  static async open(sites: ReadonlyMap<string, SiteSettings>, names: SiteNames, net: NetCommands, logger: Logger): Promise<SiteNetwork | string> {
    if (sites.size > maxNetworkedSites) return `at most ${maxNetworkedSites} sites can have a network, not ${sites.size}`;
    const network = new SiteNetwork(names.bridge, net, logger);
    try {
      const x = freeSubnet(await routedPrefixes(net), parseInt(names.short, 16) % 256);
      if (x === undefined) return 'every 10.213.x.0/24 is already routed on this machine';
      await network.makeBridge(names.linkAlias, `10.213.${x}.1`);
      let host = 2;
      for (const [party, site] of sites) {
        const partyNames = names.parties.get(party);
        if (partyNames === undefined) continue;
        await network.addParty(party, { ...partyNames, address: `10.213.${x}.${host++}`, ...(site.linkMbit === undefined ? {} : { linkMbit: site.linkMbit }) }, names.linkAlias);
      }
      return network;
    } catch (error) {
      await network.close();
      const hint = /Operation not permitted/.test(messageOf(error)) ? ' (bridges, veths and namespaces need root, or CAP_NET_ADMIN and CAP_SYS_ADMIN)' : '';
      return `could not make the sites' network: ${messageOf(error)}${hint}`;
    }
  }

  /** The command prefix that starts a process in the party's namespace, keeping its file descriptors. */
  launchPrefix(party: string): readonly string[] | undefined {
    const namespace = this.parties.get(party)?.namespace;
    // `ip netns exec` execs the command in place (no fork): the pid, the process group and
    // inherited descriptors, Node's IPC channel among them, stay the same.
    return namespace === undefined ? undefined : Object.freeze([this.net.ipPath, 'netns', 'exec', namespace]);
  }

  /** Ends what runs in the namespaces, removes them, the veths and the bridge. Never rejects. */
  async close(): Promise<void> {
    const namespaces = this.madeNamespaces.splice(0).reverse();
    for (const namespace of namespaces) await this.attempt(`end what runs in ${namespace}`, () => endProcessesIn(this.net, namespace));
    // Veths first: removing one end removes its peer at once, where a namespace's veth goes only
    // once the kernel frees the namespace, a moment after its name is removed.
    for (const link of this.madeLinks.splice(0).reverse()) await this.attempt(`remove the interface ${link}`, () => removeLink(this.net, link));
    for (const namespace of namespaces) await this.attempt(`remove the network namespace ${namespace}`, () => removeNamespace(this.net, namespace));
    this.parties.clear();
  }

  private async makeBridge(alias: string, address: string): Promise<void> {
    await this.net.ip(['link', 'add', 'name', this.bridge, 'type', 'bridge']);
    this.madeLinks.push(this.bridge);
    await this.net.ip(['link', 'set', 'dev', this.bridge, 'alias', alias]);
    await this.net.ip(['addr', 'add', `${address}/24`, 'dev', this.bridge]);
    await this.net.ip(['link', 'set', 'dev', this.bridge, 'up']);
    this.bridgeAddress = address;
  }

  private async addParty(party: string, p: PartyNetwork, alias: string): Promise<void> {
    const { namespace, hostVeth } = p;
    await this.net.ip(['netns', 'add', namespace]);
    this.madeNamespaces.push(namespace);
    await this.net.ip(['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
    this.madeLinks.push(hostVeth);
    await this.net.ip(['link', 'set', 'dev', hostVeth, 'alias', alias]);
    await this.net.ip(['link', 'set', 'dev', hostVeth, 'master', this.bridge]);
    await this.net.ip(['link', 'set', 'dev', hostVeth, 'up']);
    const inside = (args: string[]) => this.net.ip(['-n', namespace, ...args]);
    await inside(['link', 'set', 'dev', 'lo', 'up']);
    await inside(['addr', 'add', `${p.address}/24`, 'dev', 'eth0']);
    await inside(['link', 'set', 'dev', 'eth0', 'up']);
    await inside(['route', 'add', 'default', 'via', this.bridgeAddress]);
    if (p.linkMbit !== undefined) {
      // Each end's egress: the host end sends what the party receives, the namespace end what it sends.
      await this.net.tc(['qdisc', 'replace', 'dev', hostVeth, 'root', ...tokenBucket(p.linkMbit)]);
      await this.net.tc(['-n', namespace, 'qdisc', 'replace', 'dev', 'eth0', 'root', ...tokenBucket(p.linkMbit)]);
    }
    this.parties.set(party, p);
  }

  private async attempt(what: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.logger.warn(`could not ${what}: the next runner to start removes it`, { error: messageOf(error) });
    }
  }
}

/**
 * tbf's arguments for `mbit` each way. The bucket holds 10 ms of the rate and at least 64 KiB:
 * veths pass segmentation-offloaded packets of up to 64 KiB, which a smaller bucket splits one by
 * one; 10 ms keeps fast links accurate at a 250 Hz tick. Queued packets wait at most 50 ms.
 */
export function tokenBucket(mbit: number): string[] {
  const bytesPerSecond = (mbit * 1e6) / 8;
  const burst = Math.max(64 * 1024, Math.round(bytesPerSecond / 100));
  return ['tbf', 'rate', `${Math.max(1, Math.round(mbit * 1000))}kbit`, 'burst', String(burst), 'latency', '50ms'];
}

/**
 * Removes the namespaces, veths and bridges of runners whose daemon died (named after its pid; the
 * interfaces carry it in their alias), ending what still runs in their namespaces.
 */
export async function sweepOrphanedNetworks(net: NetCommands, logger: Logger): Promise<string[]> {
  const removed: string[] = [];
  const sweep = async (name: string, remove: () => Promise<void>) => {
    try {
      await remove();
      removed.push(name);
    } catch (error) {
      logger.warn('the network of a dead job runner could not be removed: it stays until a later sweep', { name, error: messageOf(error) });
    }
  };
  for (const entry of await net.ipJson(['netns', 'list'])) {
    const name = (entry as { name?: unknown }).name;
    const pid = ownerPid(ownerPatterns.namespace, typeof name === 'string' ? name : undefined);
    if (typeof name !== 'string' || pid === undefined || isProcessAlive(pid)) continue;
    await sweep(name, async () => {
      await endProcessesIn(net, name);
      await removeNamespace(net, name);
    });
  }
  for (const link of await net.ipJson(['link', 'show'])) {
    const { ifname, ifalias } = link as { ifname?: unknown; ifalias?: unknown };
    const pid = ownerPid(ownerPatterns.linkAlias, typeof ifalias === 'string' ? ifalias : undefined);
    if (typeof ifname === 'string' && pid !== undefined && !isProcessAlive(pid)) await sweep(ifname, () => removeLink(net, ifname));
  }
  return removed;
}

/** What br_netfilter means for traffic between parties on this machine, if anything. */
export async function bridgeNetfilterNote(): Promise<string | undefined> {
  const callsIptables = (await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0')).trim();
  if (callsIptables !== '1') return undefined;
  return 'traffic between two parties\' namespaces crosses the bridge through the host\'s iptables/nftables FORWARD chain (br_netfilter, net.bridge.bridge-nf-call-iptables = 1): a FORWARD policy of DROP (as Docker sets) blocks it unless the bridge is allowed';
}

/** SIGKILL to what runs in the namespace: the party's jobs, or what they started. */
async function endProcessesIn(net: NetCommands, namespace: string): Promise<void> {
  const pids = (await net.ip(['netns', 'pids', namespace]).catch(() => '')).split(/\s+/).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // It exited after the listing.
    }
  }
}

async function removeNamespace(net: NetCommands, namespace: string): Promise<void> {
  await net.ip(['netns', 'delete', namespace]).catch((error: unknown) => {
    if (!/No such file|not found/i.test(messageOf(error))) throw error;
  });
}

async function removeLink(net: NetCommands, name: string): Promise<void> {
  await net.ip(['link', 'delete', 'dev', name]).catch((error: unknown) => {
    // The veth's peer went with its namespace, taking this end along.
    if (!/Cannot find device|does not exist/i.test(messageOf(error))) throw error;
  });
}
