import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { SitesSettings } from '../../knowledge/site-settings.js';
import { describe, statusOf, withRetries } from './api-retry.js';
import type { Cluster, Clusters } from './clusters.js';
import type { KubernetesRunnerConfig } from './config.js';
import { labels, namespaceOf } from './names.js';

/** Where each party's Jobs go; held apart, and cleaned of what an earlier daemon left. */
interface Housekeeping {
  readonly sites: SitesSettings;
  readonly config: KubernetesRunnerConfig;
  readonly clusters: Clusters;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** How long the clean-up keeps trying one namespace before it leaves it to the Jobs' TTLs. */
const cleanUpForMs = 30_000;

/**
 * Each party's namespace is its own: a party's key lives there for the length of a request, and a
 * party sharing a namespace (or the daemon's, where the CA key is) could read another's.
 */
export function checkNamespacesApart(parties: readonly string[], sites: SitesSettings, config: KubernetesRunnerConfig): void {
  const owner = new Map<string, string>();
  for (const party of parties) {
    const site = sites[party];
    const namespace = namespaceOf(party, site);
    const where = `${site?.kubernetes?.context ?? ''}/${namespace}`;
    const path = `sites.${party}.kubernetes.namespace`;
    if (site?.kubernetes?.context === undefined && namespace === config.namespace) {
      throw new DynamosError('CONFIG_INVALID', `${path}: ${party}'s jobs would run in the daemon's own namespace ${namespace} (kubernetes.namespace); give it one of its own`, { retryable: false });
    }
    const other = owner.get(where);
    if (other !== undefined) throw new DynamosError('CONFIG_INVALID', `${path}: ${party} and ${other} would share namespace ${namespace}; each party needs one of its own`, { retryable: false });
    owner.set(where, party);
  }
}

/** Deletes the Jobs of this daemon's name in the parties' namespaces: at start, no request of theirs exists. */
export async function deleteEarlierDaemonsJobs(parties: readonly string[], how: Housekeeping): Promise<string[]> {
  const removed: string[] = [];
  const places = new Map<string, { cluster: Cluster; namespace: string }>();
  for (const party of parties) {
    const site = how.sites[party];
    const namespace = namespaceOf(party, site);
    places.set(`${site?.kubernetes?.context ?? ''}/${namespace}`, { cluster: how.clusters.of(site?.kubernetes?.context), namespace });
  }
  const retry = { clock: how.clock, logger: how.logger, until: how.clock.now() + cleanUpForMs };
  await Promise.all(
    [...places.values()].map(async ({ cluster, namespace }) => {
      try {
        const list = await withRetries(`list the Jobs in ${namespace}`, () => cluster.batch.listNamespacedJob({ namespace, labelSelector: `${labels.daemon}=${how.config.daemonName}` }), retry);
        for (const job of list.items) {
          const name = job.metadata?.name;
          if (name === undefined) continue;
          await withRetries(`delete the Job ${name}`, () => cluster.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }), retry).catch((error: unknown) => {
            if (statusOf(error) !== 404) throw error;
          });
          removed.push(`${namespace}/${name}`);
        }
      } catch (error) {
        how.logger.warn('the Jobs of an earlier daemon could not be cleaned up', { namespace, error: describe(error) });
      }
    }),
  );
  if (removed.length > 0) how.logger.warn('deleted Jobs of requests that no longer exist', { removed });
  return removed;
}
