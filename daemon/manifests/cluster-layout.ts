import { namespaceOf } from '../../adapters/kubernetes/names.js';
import type { SiteKubernetes } from '../../knowledge/site-settings.js';
import type { Problem } from '../../knowledge/problems.js';
import type { DaemonConfig } from '../config.js';

/** Where one party's jobs run: its namespace, in the daemon's cluster or a context of its own. */
export interface PartyPlacement {
  readonly party: string;
  readonly namespace: string;
  /** A context of the daemon's kubeconfig; undefined: the daemon's own cluster. */
  readonly context: string | undefined;
  readonly tables: SiteKubernetes['tables'];
}

/** One namespace the runner creates Jobs in, with the parties that share it. */
export interface PartyNamespace {
  readonly namespace: string;
  readonly parties: readonly string[];
}

export interface ClusterLayout {
  readonly placements: readonly PartyPlacement[];
  /** The contexts of parties that keep a cluster of their own, sorted. */
  readonly contexts: readonly string[];
  readonly problems: readonly Problem[];
  readonly warnings: readonly string[];
}

/**
 * Places every party of the marketplace: its site's namespace and context, else its name as a DNS
 * label in the daemon's cluster (the runner's rule, adapters/kubernetes/names.ts).
 */
export function layOutParties(config: DaemonConfig, parties: readonly string[], stewards: readonly string[]): ClusterLayout {
  const placements = parties.map((party): PartyPlacement => {
    const site = Object.hasOwn(config.sites, party) ? config.sites[party] : undefined;
    return { party, namespace: namespaceOf(party, site), context: site?.kubernetes?.context, tables: site?.kubernetes?.tables };
  });
  const contexts = [...new Set(placements.flatMap((p) => (p.context === undefined ? [] : [p.context])))].sort();
  const problems: Problem[] = [];
  if (contexts.length > 0 && config.kubernetes?.kubeconfig === undefined) {
    const away = placements.filter((p) => p.context !== undefined).map((p) => `${p.party} (${p.context})`);
    problems.push({
      path: 'kubernetes.kubeconfig',
      message: `${away.join(', ')} run in clusters of their own: give the daemon a kubeconfig with those contexts and its own cluster as the current one (docs/kubernetes.md#parties-in-other-clusters)`,
    });
  }
  // As the runner refuses at start: a party's key lives in its namespace for a request.
  const owner = new Map<string, string>();
  for (const p of placements) {
    const where = `${p.context ?? ''}/${p.namespace}`;
    const other = owner.get(where);
    if (p.context === undefined && p.namespace === (config.kubernetes?.namespace ?? 'dynamos')) {
      problems.push({ path: `sites.${p.party}.kubernetes.namespace`, message: `${p.party}'s jobs would run in the daemon's own namespace ${p.namespace}; give it one of its own` });
    } else if (other !== undefined) {
      problems.push({ path: `sites.${p.party}.kubernetes.namespace`, message: `${p.party} and ${other} would share namespace ${p.namespace}; each party needs one of its own` });
    }
    owner.set(where, p.party);
  }
  const unknown = Object.keys(config.sites).filter((s) => !parties.includes(s));
  const dry = placements.filter((p) => stewards.includes(p.party) && p.tables === undefined).map((p) => p.party);
  const warnings = [
    ...unknown.map((s) => `sites.${s}: no party of the marketplace is called "${s}"; its site is not used`),
    ...dry.map((s) => `sites.${s}.kubernetes.tables: ${s} holds tables, but its jobs get no volume to read them from`),
  ];
  return { placements, contexts, problems, warnings };
}

/** The party namespaces of one cluster (`context` undefined: the daemon's), in order of first party. */
export function namespacesIn(layout: ClusterLayout, context: string | undefined): PartyNamespace[] {
  const byName = new Map<string, string[]>();
  for (const p of layout.placements) {
    if (p.context === context) byName.set(p.namespace, [...(byName.get(p.namespace) ?? []), p.party]);
  }
  return [...byName].map(([namespace, parties]) => ({ namespace, parties }));
}
