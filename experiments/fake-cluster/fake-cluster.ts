import { randomBytes } from 'node:crypto';
import type { Logger } from '../../knowledge/ports/logger.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { namespaceObject, nodeObject } from './api-defaults.js';
import { ApiServer } from './api-server.js';
import { ClusterApi } from './cluster-api.js';
import { EventRecorder } from './event-recorder.js';
import type { FakeClusterWorld } from './fake-cluster-world.js';
import { WorldView } from './fake-cluster-world.js';
import type { FakeClusterFaults } from './faults.js';
import { FaultState } from './faults.js';
import { GarbageCollector } from './garbage-collector.js';
import { JobController } from './job-controller.js';
import { Kubelet } from './kubelet.js';
import { kubeconfigFor } from './kubeconfig.js';
import { ObjectStore } from './object-store.js';
import { formatCpu, formatMiB } from './quantity.js';
import { Scheduler } from './scheduler.js';
import { createServingCertificate } from './serving-certificate.js';
import type { SandboxStatus, SiteLimits } from './site-sandboxes.js';
import { SiteSandboxes } from './site-sandboxes.js';
import { TtlAfterFinishedController } from './ttl-after-finished-controller.js';

/** One namespace of the fake cluster, with its node. */
export interface FakeNamespaceOptions {
  /**
   * The party's site on this machine (adapters/local/sites): its containers run in the site's
   * cgroups (CPU quota, memory limit) when root. Its cpus and memory are also its node's capacity.
   */
  readonly site?: SiteLimits;
  /** The namespace's node: its name (default `node-<namespace>`) and a capacity other than the site's. */
  readonly node?: { readonly name?: string; readonly cpu?: string | number; readonly memory?: string };
}

export interface FakeClusterOptions {
  /** The kubeconfig context, cluster and user name. @default 'fake-cluster' */
  readonly name?: string;
  /** The namespaces that exist from the start (more may be created through the API). */
  readonly namespaces: Readonly<Record<string, FakeNamespaceOptions>>;
  /** Image name → host directory: the image's working directory, where its containers run. */
  readonly images?: Readonly<Record<string, string>>;
  /** PersistentVolumeClaim name → host directory that backs it (in every namespace). */
  readonly persistentVolumes?: Readonly<Record<string, string>>;
  /** The bearer token the server requires. @default a random one */
  readonly token?: string;
  /** First two octets of the pods' loopback IPs; give two clusters in one process different ones. @default '127.1' */
  readonly podNetwork?: string;
  /** Changes the store keeps for watches that resume; older resumes get 410. @default 1000 */
  readonly historyLimit?: number;
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK. @default 60 000 */
  readonly bookmarkIntervalMs?: number;
  /** The Job controller's first wait before replacing a failed pod (doubling). @default 10 000 */
  readonly podFailureBackoffMs?: number;
  /** The kubelet's first wait before pulling a failed image again (doubling). @default 10 000 */
  readonly imagePullBackoffMs?: number;
  /** The kubelet's first wait before restarting a crashed container (doubling). @default 10 000 */
  readonly containerRestartBackoffMs?: number;
  /** Put containers in cgroups when this machine lets us (root). @default true */
  readonly cgroups?: boolean;
  readonly logger?: Logger;
}

export interface FakeClusterStatus {
  /** Whether containers are bounded by real cgroups here, and why not. */
  readonly cgroups: SandboxStatus;
  /** Node per namespace. */
  readonly nodes: Readonly<Record<string, string>>;
}

/** A running fake cluster. */
export interface FakeCluster {
  readonly name: string;
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly token: string;
  /** The server's self-signed certificate (PEM): what a client trusts. */
  readonly certificateAuthority: string;
  /** A kubeconfig (YAML) with one context, `name`, for `KubeConfig.loadFromString`. */
  readonly kubeconfig: string;
  readonly faults: FakeClusterFaults;
  readonly world: FakeClusterWorld;
  status(): FakeClusterStatus;
  /** Stops the server and controllers, kills every container, removes every directory and cgroup. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an in-process kube-apiserver on loopback with a garbage collector, scheduler, Job and
 * TTL-after-finished controllers and a kubelet that runs containers as local processes; see
 * docs/testing.md ("The fake Kubernetes cluster") for what it follows and where it departs.
 */
export async function startFakeCluster(options: FakeClusterOptions): Promise<FakeCluster> {
  const name = options.name ?? 'fake-cluster';
  const logger = options.logger ?? silentLogger;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const problems: string[] = [];
  const onError = (where: string) => (key: string, error: unknown) => {
    const problem = `${where} (${key.replaceAll('\u0000', '/')}): ${(error as Error).stack ?? String(error)}`;
    logger.warn('the fake cluster ran into an error', { problem });
    problems.push(problem);
  };
  const store = new ObjectStore(options.historyLimit ?? 1000, (error) => onError('store listener')('', error));
  const api = new ClusterApi(store);
  const nodes: Record<string, string> = {};
  // Every cluster has `default`; it gets a node only when a pod needs one.
  if (options.namespaces.default === undefined) store.add('namespaces', namespaceObject('default'));
  for (const [namespace, settings] of Object.entries(options.namespaces)) {
    store.add('namespaces', namespaceObject(namespace));
    const nodeName = settings.node?.name ?? `node-${namespace}`;
    nodes[namespace] = nodeName;
    const cpu = settings.node?.cpu ?? settings.site?.cpus;
    const memory = settings.node?.memory ?? (settings.site?.memoryMiB === undefined ? undefined : formatMiB(settings.site.memoryMiB));
    store.add('nodes', nodeObject(nodeName, { ...(cpu === undefined ? {} : { cpu: typeof cpu === 'number' ? formatCpu(cpu) : cpu }), ...(memory === undefined ? {} : { memory }) }));
  }
  const nodeFor = (namespace: string): string => {
    const known = nodes[namespace];
    if (known !== undefined) return known;
    // A namespace made through the API gets a node without limits the first time a pod needs one.
    nodes[namespace] = `node-${namespace}`;
    if (store.get('nodes', undefined, nodes[namespace]) === undefined) store.add('nodes', nodeObject(nodes[namespace], {}));
    return nodes[namespace];
  };
  const sites = Object.fromEntries(Object.entries(options.namespaces).flatMap(([ns, s]) => (s.site === undefined ? [] : [[ns, s.site]])));
  const sandboxes = await SiteSandboxes.open(sites, { enabled: options.cgroups ?? true, logger });
  const faultState = new FaultState();
  const kubelet = await Kubelet.start(
    api,
    sandboxes,
    {
      images: new Map(Object.entries(options.images ?? {})),
      persistentVolumes: options.persistentVolumes ?? {},
      imagePullBackoffMs: options.imagePullBackoffMs ?? 10_000,
      containerRestartBackoffMs: options.containerRestartBackoffMs ?? 10_000,
      podNetwork: options.podNetwork ?? '127.1',
      imagePullFails: (image) => faultState.imagePullFails(image),
      startDelayMs: (pod) => faultState.startDelayMs(pod),
    },
    onError('kubelet'),
  );
  const world = new WorldView(store, kubelet, problems);
  const controllers = [
    new GarbageCollector(api, onError('garbage collector')),
    new Scheduler(api, new EventRecorder(api, 'default-scheduler'), { nodeFor, hasPersistentVolume: (claim) => options.persistentVolumes?.[claim] !== undefined }, onError('scheduler')),
    new JobController(api, new EventRecorder(api, 'job-controller'), { podFailureBackoffMs: options.podFailureBackoffMs ?? 10_000 }, onError('job controller')),
    new TtlAfterFinishedController(api, onError('ttl-after-finished controller')),
  ];
  const certificate = await createServingCertificate();
  const server = await ApiServer.start({ api, kubelet, faults: faultState, token, certificate, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, logger });
  const faults: FakeClusterFaults = {
    failRequests: (fault) => faultState.addRequestFault(fault),
    requestFaultsLeft: () => faultState.requestFaultsLeft(),
    dropWatches: () => server.dropWatches(),
    compact: () => store.compact(),
    delayPodStarts: (delayMs, namespace) => faultState.setStartDelay(delayMs, namespace),
    failImagePulls: (image) => faultState.setImagePullFailure(image, true),
    restoreImagePulls: (image) => faultState.setImagePullFailure(image, false),
    oomKill: (namespace, pod, container) => kubelet.oomKill(namespace, pod, container),
    clear: () => faultState.clear(),
  };
  let closing: Promise<void> | undefined;
  return {
    name,
    url: server.url,
    token,
    certificateAuthority: certificate.cert,
    kubeconfig: kubeconfigFor([{ name, url: server.url, token, certificateAuthority: certificate.cert, ...(Object.keys(options.namespaces)[0] === undefined ? {} : { namespace: Object.keys(options.namespaces)[0] }) }]),
    faults,
    world,
    status: () => ({ cgroups: sandboxes.status(), nodes: { ...nodes } }),
    close() {
      closing ??= (async () => {
        await server.close();
        await Promise.all(controllers.map((c) => c.close()));
        await kubelet.close();
        await sandboxes.close();
      })();
      return closing;
    },
  };
}
