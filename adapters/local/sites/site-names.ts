import { createHash } from 'node:crypto';

/**
 * The names of what a runner's sites make on the machine. Each carries the daemon's pid, so the
 * next daemon can tell a dead runner's leftovers from a live one's: in the name where the name may
 * be long (cgroups, network namespaces), in the interface alias where Linux allows 15 characters.
 */
export interface SiteNames {
  /** Six hex digits from the runner id: tells this runner's things apart from another's. */
  readonly short: string;
  /** The group holding the sites' groups, in each cgroup hierarchy. */
  readonly cgroupTop: string;
  /** The host's bridge; ≤ 15 characters. */
  readonly bridge: string;
  /** Set as the alias of the bridge and host-side veths: who made them. */
  readonly linkAlias: string;
  /** Per party: its cgroup, namespace and host-side veth. */
  readonly parties: ReadonlyMap<string, PartyNames>;
}

export interface PartyNames {
  /** The party's group inside `cgroupTop`. */
  readonly cgroup: string;
  readonly namespace: string;
  /** The host end of its veth pair; ≤ 15 characters. The other end is `eth0` in the namespace. */
  readonly hostVeth: string;
}

/** Linux's limit on interface names (IFNAMSIZ 16, with the terminating zero). */
export const maxInterfaceName = 15;

export function siteNames(runnerId: string, parties: readonly string[], pid = process.pid): SiteNames {
  const short = createHash('sha256').update(runnerId).digest('hex').slice(0, 6);
  const taken = new Set<string>();
  const byParty = new Map<string, PartyNames>();
  parties.forEach((party, index) => {
    // Parties whose names differ only in what sanitising drops (case, punctuation) keep apart.
    let label = sanitise(party);
    if (taken.has(label)) label = `${label}-${index}`;
    taken.add(label);
    byParty.set(party, {
      cgroup: `site-${label}`,
      namespace: `dynamos-${pid}-${short}-${label}`,
      hostVeth: `dyn${short}-${index}`,
    });
  });
  return { short, cgroupTop: `dynamos-${pid}-sites-${short}`, bridge: `dyn-${short}`, linkAlias: `dynamos-${pid}-${short}`, parties: byParty };
}

/** Recognises the names `siteNames` gives, and which daemon (pid) made them. */
export const ownerPatterns = {
  cgroupTop: /^dynamos-(\d+)-sites-[0-9a-f]{6}$/,
  namespace: /^dynamos-(\d+)-[0-9a-f]{6}-[a-z0-9-]+$/,
  linkAlias: /^dynamos-(\d+)-[0-9a-f]{6}$/,
} as const;

/** The pid in a name made by `siteNames`, or undefined when the name is not one of ours. */
export function ownerPid(pattern: RegExp, name: string | undefined): number | undefined {
  const pid = Number(pattern.exec(name ?? '')?.[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Lower case letters, digits and single dashes, at most 24 characters: safe as a file name, a
 * cgroup name and an argument, whatever the marketplace calls the party.
 */
function sanitise(party: string): string {
  const label = party
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24)
    .replace(/-+$/, '');
  return label === '' ? 'party' : label;
}
