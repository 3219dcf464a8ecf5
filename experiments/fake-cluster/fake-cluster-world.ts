import { EventEmitter } from 'node:events';
import { readdirSync } from 'node:fs';
import type { ContainerExit } from './container-process.js';
import type { JobObject, KubeObject, PodObject } from './kube-object.js';
import { asJob, asPod } from './kube-object.js';
import type { ContainerProcessInfo, Kubelet } from './kubelet.js';
import type { ObjectStore, StoreEvent } from './object-store.js';
import type { ResourcePlural } from './resources.js';

/**
 * What a test may look at in a fake cluster, beside the API: the objects, the container processes
 * and the pods' directories; and `until`, which waits on the world's own events instead of time.
 */
export interface FakeClusterWorld {
  jobs(namespace?: string): JobObject[];
  pods(namespace?: string): PodObject[];
  secrets(namespace?: string): KubeObject[];
  /** core/v1 Events the controllers and the kubelet wrote (FailedMount, FailedScheduling, BackOff…). */
  events(namespace?: string): KubeObject[];
  get(plural: ResourcePlural, namespace: string | undefined, name: string): KubeObject | undefined;
  /** What a container wrote to stdout and stderr (its current or last run); undefined before it ran. */
  logs(namespace: string, pod: string, container?: string): string | undefined;
  /** Container processes running now. */
  processes(): ContainerProcessInfo[];
  /** Every container process started so far, running or not (their pids, to check none is left). */
  startedProcesses(): readonly ContainerProcessInfo[];
  /** Where the pods' directories live, and which exist now. */
  readonly podsDir: string;
  podDirectories(): string[];
  /** The store's resourceVersion now. */
  readonly resourceVersion: number;
  /** Errors the fake's controllers and kubelet ran into (none, in a healthy run). */
  errors(): readonly string[];
  /**
   * Resolves with the first truthy value of `condition`, checked now and after every change to
   * the store, every container start or exit, every write to a container's log and every pod
   * the kubelet cleaned up. Rejects after `timeoutMs` (default 20 s), naming
   * `what` and the last value seen.
   */
  until<T>(condition: () => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  on(event: 'change', listener: (event: StoreEvent) => void): this;
  on(event: 'container-started', listener: (info: ContainerProcessInfo) => void): this;
  on(event: 'container-exited', listener: (info: ContainerProcessInfo & { exit: ContainerExit }) => void): this;
  on(event: 'container-output', listener: (info: { namespace: string; pod: string; container: string }) => void): this;
  on(event: 'pod-cleaned-up', listener: (info: { namespace: string; pod: string; uid: string }) => void): this;
  off(event: 'change', listener: (event: StoreEvent) => void): this;
  off(event: 'container-started', listener: (info: ContainerProcessInfo) => void): this;
  off(event: 'container-exited', listener: (info: ContainerProcessInfo & { exit: ContainerExit }) => void): this;
  off(event: 'container-output', listener: (info: { namespace: string; pod: string; container: string }) => void): this;
  off(event: 'pod-cleaned-up', listener: (info: { namespace: string; pod: string; uid: string }) => void): this;
}

export class WorldView extends EventEmitter implements FakeClusterWorld {
  private readonly started: ContainerProcessInfo[] = [];
  constructor(
    private readonly store: ObjectStore,
    private readonly kubelet: Kubelet,
    /** Filled by the controllers' and kubelet's error handlers. */
    private readonly problems: readonly string[],
  ) {
    super();
    store.subscribe((event) => this.emit('change', event));
    kubelet.on('container-started', (info: ContainerProcessInfo) => {
      this.started.push(info);
      this.emit('container-started', info);
    });
    kubelet.on('container-exited', (info: ContainerProcessInfo & { exit: ContainerExit }) => this.emit('container-exited', info));
    kubelet.on('container-output', (info: { namespace: string; pod: string; container: string }) => this.emit('container-output', info));
    kubelet.on('pod-cleaned-up', (info: { namespace: string; pod: string; uid: string }) => this.emit('pod-cleaned-up', info));
  }

  get podsDir(): string {
    return this.kubelet.podsDir;
  }

  get resourceVersion(): number {
    return this.store.resourceVersion;
  }

  jobs(namespace?: string): JobObject[] {
    return this.store.list('jobs', namespace).map(asJob);
  }

  pods(namespace?: string): PodObject[] {
    return this.store.list('pods', namespace).map(asPod);
  }

  secrets(namespace?: string): KubeObject[] {
    return this.store.list('secrets', namespace);
  }

  events(namespace?: string): KubeObject[] {
    return this.store.list('events', namespace);
  }

  get(plural: ResourcePlural, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(plural, namespace, name);
  }

  logs(namespace: string, pod: string, container?: string): string | undefined {
    return this.kubelet.logOf(namespace, pod, container);
  }

  processes(): ContainerProcessInfo[] {
    return this.kubelet.processes();
  }

  startedProcesses(): readonly ContainerProcessInfo[] {
    return this.started;
  }

  podDirectories(): string[] {
    try {
      return readdirSync(this.kubelet.podsDir);
    } catch {
      return [];
    }
  }

  errors(): readonly string[] {
    return this.problems;
  }

  until<T>(condition: () => T | undefined | null | false, what: string, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value: T | undefined | null | false;
        try {
          value = condition();
        } catch (error) {
          finish();
          reject(error as Error);
          return;
        }
        if (value !== undefined && value !== null && value !== false) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`the fake cluster did not reach "${what}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.off('change', check);
        this.off('container-started', check);
        this.off('container-exited', check);
        this.off('container-output', check);
        this.off('pod-cleaned-up', check);
      };
      this.on('change', check);
      this.on('container-started', check);
      this.on('container-exited', check);
      this.on('container-output', check);
      this.on('pod-cleaned-up', check);
      check();
    });
  }
}
