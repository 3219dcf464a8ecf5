import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClusterApi } from './cluster-api.js';
import type { ContainerExit } from './container-process.js';
import { EventRecorder } from './event-recorder.js';
import type { PodObject } from './kube-object.js';
import { asPod } from './kube-object.js';
import type { StoreEvent } from './object-store.js';
import type { KubeletWorld } from './pod-worker.js';
import { PodWorker } from './pod-worker.js';
import type { SiteSandboxes } from './site-sandboxes.js';
import { WorkQueue } from './work-queue.js';

export interface KubeletOptions {
  readonly images: ReadonlyMap<string, string>;
  readonly persistentVolumes: Readonly<Record<string, string>>;
  readonly imagePullBackoffMs: number;
  readonly containerRestartBackoffMs: number;
  /** The first two octets of the pods' loopback addresses, e.g. '127.1'. */
  readonly podNetwork: string;
  imagePullFails(image: string): boolean;
  startDelayMs(pod: PodObject): number;
}

/** A container process the kubelet started, for the world's inspection. */
export interface ContainerProcessInfo {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly pid: number;
}

/**
 * The kubelet of every simulated node: one `PodWorker` per pod bound to a node, synced through a
 * work queue whenever its pod, a Secret of its namespace or one of its processes changes.
 * Emits 'container-started' and 'container-exited' (ContainerProcessInfo, plus the exit), and
 * 'container-output' ({ namespace, pod, container }) when a container writes to its log, and
 * 'pod-cleaned-up' ({ namespace, pod, uid }) once a deleted pod's processes and directories are gone.
 * https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/
 */
export class Kubelet extends EventEmitter {
  private readonly workers = new Map<string, PodWorker>();
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  private readonly unsubscribe: () => void;
  private nextAddress = 1;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly api: ClusterApi,
    private readonly sandboxes: SiteSandboxes,
    private readonly options: KubeletOptions,
    /** Each pod's directories (volumes, termination message, home) live under it. */
    readonly podsDir: string,
    onError: (key: string, error: unknown) => void,
  ) {
    super();
    this.recorder = new EventRecorder(api, 'kubelet');
    this.queue = new WorkQueue((key) => this.sync(key), onError);
    this.unsubscribe = api.store.subscribe((event) => this.observe(event));
  }

  static async start(api: ClusterApi, sandboxes: SiteSandboxes, options: KubeletOptions, onError: (key: string, error: unknown) => void): Promise<Kubelet> {
    const podsDir = await mkdtemp(path.join(os.tmpdir(), 'fake-cluster-pods-'));
    return new Kubelet(api, sandboxes, options, podsDir, onError);
  }

  processes(): ContainerProcessInfo[] {
    return [...this.workers.entries()].flatMap(([key, worker]) => {
      const [namespace = '', pod = ''] = key.split('\u0000');
      return worker.processes().map((p) => ({ namespace, pod, ...p }));
    });
  }

  /** What a container wrote (its current or last run), as its log endpoint serves it. */
  logOf(namespace: string, pod: string, container?: string): string | undefined {
    const worker = this.workers.get(`${namespace}\u0000${pod}`);
    const name = container ?? worker?.containerNames()[0];
    return name === undefined ? undefined : worker?.logOf(name)?.log.all();
  }

  /** The current (or last) run of a container, for its log. */
  runOf(namespace: string, pod: string, container: string): ReturnType<PodWorker['logOf']> {
    return this.workers.get(`${namespace}\u0000${pod}`)?.logOf(container);
  }

  oomKill(namespace: string, pod: string, container?: string): boolean {
    return this.workers.get(`${namespace}\u0000${pod}`)?.oomKill(container) ?? false;
  }

  /** Stops syncing, kills every container and removes every pod directory. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unsubscribe();
      await this.queue.close();
      await Promise.all([...this.workers.values()].map((worker) => worker.tearDown()));
      this.workers.clear();
      await rm(this.podsDir, { recursive: true, force: true });
    })();
    return this.closing;
  }

  private observe(event: StoreEvent): void {
    if (event.plural === 'pods') {
      const pod = asPod(event.object);
      const key = `${pod.metadata.namespace ?? ''}\u0000${pod.metadata.name ?? ''}`;
      if (pod.spec?.nodeName || this.workers.has(key)) this.queue.add(key);
    } else if (event.plural === 'secrets' && event.type !== 'DELETED') {
      // A pod waiting for this Secret (a volume, an env var) may go on now.
      for (const key of this.workers.keys()) if (key.startsWith(`${event.object.metadata.namespace ?? ''}\u0000`)) this.queue.add(key);
    }
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('\u0000') as [string, string];
    const stored = this.api.store.get('pods', namespace, name);
    const pod = stored === undefined ? undefined : asPod(stored);
    let worker = this.workers.get(key);
    if (worker !== undefined && worker.uid !== pod?.metadata.uid) {
      // Gone, or a new pod under the same name: the old one's processes and directories go first.
      await worker.sync(undefined);
      this.workers.delete(key);
      this.emit('pod-cleaned-up', { namespace, pod: name, uid: worker.uid });
      worker = undefined;
    }
    if (pod === undefined || !pod.spec?.nodeName) return;
    if (worker === undefined) {
      worker = new PodWorker(pod, path.join(this.podsDir, pod.metadata.uid ?? name), this.worldFor(key));
      this.workers.set(key, worker);
    }
    if ((await worker.sync(pod)) === 'gone') {
      this.workers.delete(key);
      this.emit('pod-cleaned-up', { namespace, pod: name, uid: worker.uid });
    }
  }

  private worldFor(key: string): KubeletWorld {
    const [namespace = '', pod = ''] = key.split('\u0000');
    const info = (container: string, pid: number): ContainerProcessInfo => ({ namespace, pod, container, pid });
    return {
      api: this.api,
      recorder: this.recorder,
      sandboxes: this.sandboxes,
      images: this.options.images,
      persistentVolumes: this.options.persistentVolumes,
      imagePullBackoffMs: this.options.imagePullBackoffMs,
      containerRestartBackoffMs: this.options.containerRestartBackoffMs,
      hostPath: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      imagePullFails: (image) => this.options.imagePullFails(image),
      startDelayMs: (p) => this.options.startDelayMs(p),
      allocatePodIp: () => this.allocatePodIp(),
      nodeAllocatable: (nodeName) => ((this.api.store.get('nodes', undefined, nodeName)?.status as { allocatable?: Record<string, string> } | undefined)?.allocatable ?? {}),
      resync: (delayMs) => this.queue.addAfter(key, delayMs),
      containerStarted: (_pod, container, pid) => this.emit('container-started', info(container, pid)),
      containerOutput: (_pod, container) => this.emit('container-output', { namespace, pod, container }),
      containerExited: (_pod, container, exit: ContainerExit) => {
        const started = this.workers.get(key)?.logOf(container)?.pid ?? 0;
        this.emit('container-exited', { ...info(container, started), exit });
      },
    };
  }

  /**
   * A loopback address of its own for each pod, `<podNetwork>.x.y` (Linux routes all of 127/8 to
   * lo, so a process may listen on any of them): the pod's IP, as a CNI plugin would give one.
   */
  private allocatePodIp(): string {
    const n = this.nextAddress++;
    const third = Math.floor(n / 254) % 256;
    const fourth = (n % 254) + 1;
    return `${this.options.podNetwork}.${third}.${fourth}`;
  }
}
