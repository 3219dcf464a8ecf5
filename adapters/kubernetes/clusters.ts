import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { KubernetesRunnerConfig } from './config.js';
import { labels } from './names.js';
import { NamespaceWatch } from './namespace-watch.js';

/** One cluster the daemon reaches: a context of its kubeconfig, or the one it runs in. */
export interface Cluster {
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
  watch(namespace: string): NamespaceWatch;
}

/**
 * The clusters of a deployment: the daemon's own and any a party keeps for itself
 * (`sites.<party>.kubernetes.context`), each with one watch per namespace the daemon uses.
 */
export class Clusters {
  private readonly byContext = new Map<string, Cluster & { readonly watches: Map<string, NamespaceWatch> }>();
  private readonly selector: string;

  constructor(
    private readonly config: KubernetesRunnerConfig,
    private readonly deps: { readonly clock: Clock; readonly logger: Logger },
  ) {
    this.selector = `${labels.daemon}=${config.daemonName}`;
  }

  /** The cluster of `context`, the kubeconfig's current one when absent. */
  of(context: string | undefined): Cluster {
    const key = context ?? '';
    const known = this.byContext.get(key);
    if (known !== undefined) return known;
    const kubeConfig = this.load(context);
    const watches = new Map<string, NamespaceWatch>();
    const cluster = {
      batch: kubeConfig.makeApiClient(BatchV1Api),
      core: kubeConfig.makeApiClient(CoreV1Api),
      watches,
      watch: (namespace: string) => {
        let watch = watches.get(namespace);
        if (watch === undefined) {
          watch = new NamespaceWatch(kubeConfig, namespace, this.selector, this.deps);
          watches.set(namespace, watch);
        }
        return watch;
      },
    };
    this.byContext.set(key, cluster);
    return cluster;
  }

  close(): void {
    for (const cluster of this.byContext.values()) for (const watch of cluster.watches.values()) watch.close();
  }

  private load(context: string | undefined): KubeConfig {
    const kubeConfig = new KubeConfig();
    try {
      if (this.config.kubeconfig !== undefined) kubeConfig.loadFromFile(this.config.kubeconfig);
      else kubeConfig.loadFromDefault();
      if (context !== undefined) {
        if (!kubeConfig.getContexts().some((c) => c.name === context)) throw new Error(`it has no context "${context}"`);
        kubeConfig.setCurrentContext(context);
      }
    } catch (error) {
      const where = this.config.kubeconfig ?? 'the default kubeconfig';
      throw new DynamosError('CONFIG_INVALID', `kubernetes.kubeconfig: ${where} cannot be used: ${(error as Error).message}`, { retryable: false, cause: error });
    }
    if (kubeConfig.getCurrentCluster() === null) {
      throw new DynamosError('CONFIG_INVALID', `kubernetes.kubeconfig: ${this.config.kubeconfig ?? 'the default kubeconfig'} names no cluster`, { retryable: false });
    }
    return kubeConfig;
  }
}
