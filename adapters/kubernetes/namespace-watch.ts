import type { KubeConfig, V1Job, V1Pod } from '@kubernetes/client-node';
import { BatchV1Api, CoreV1Api, Watch } from '@kubernetes/client-node';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { describe, withRetries } from './api-retry.js';

/** What the cluster says of one Job: the Job (gone once deleted) and its pods. */
export interface JobState {
  readonly job: V1Job | undefined;
  readonly pods: readonly V1Pod[];
}

type Kind = 'jobs' | 'pods';

/** The label the job controller puts on a Job's pods (https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-labels). */
const jobNameLabels = ['batch.kubernetes.io/job-name', 'job-name'];
/** A watch asks the server to close after this; the runner then resumes from where it was. */
const watchTimeoutSeconds = 290;
const maxRestartBackoffMs = 5_000;
const relistAfterErrorMs = 5_000;
/** A watch that ends sooner than this was no watch: the next waits, as after a drop. */
const shortestWatchMs = 1_000;

/**
 * The runner's view of one namespace: its Jobs and Pods with the daemon's label, kept by a list
 * and then a watch from the list's resourceVersion
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
 * A 410 Expired, in the stream or not, means the history is gone: list again. A watch that drops
 * or times out resumes from the last resourceVersion seen, bookmarks included.
 */
export class NamespaceWatch {
  private readonly objects = { jobs: new Map<string, V1Job>(), pods: new Map<string, V1Pod>() };
  private readonly followers = new Map<string, Set<(state: JobState) => void>>();
  private readonly aborts = new Set<AbortController>();
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly watcher: Watch;
  private closed = false;
  /** Resolves once both kinds were listed: before it, the view is empty rather than current. */
  readonly synced: Promise<void>;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    private readonly labelSelector: string,
    private readonly deps: { readonly clock: Clock; readonly logger: Logger },
  ) {
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.watcher = new Watch(kubeConfig);
    this.synced = Promise.all([this.relist('jobs'), this.relist('pods')]).then(() => undefined);
    this.synced.catch(() => undefined);
  }

  /** Calls `listener` now and on every change of the Job named `jobName` or its pods; returns the way to stop. */
  follow(jobName: string, listener: (state: JobState) => void): () => void {
    const set = this.followers.get(jobName) ?? new Set();
    this.followers.set(jobName, set);
    set.add(listener);
    listener(this.stateOf(jobName));
    return () => {
      set.delete(listener);
      if (set.size === 0) this.followers.delete(jobName);
    };
  }

  stateOf(jobName: string): JobState {
    return { job: this.objects.jobs.get(jobName), pods: [...this.objects.pods.values()].filter((pod) => jobNameOfPod(pod) === jobName) };
  }

  /** The Jobs seen in the namespace with the daemon's label. */
  jobNames(): string[] {
    return [...this.objects.jobs.keys()];
  }

  close(): void {
    this.closed = true;
    for (const abort of this.aborts) abort.abort();
    this.aborts.clear();
  }

  /**
   * Lists again, and watches from there. An answer that will not change by retrying (403: the
   * Role lacks a verb; 404: no such namespace) is logged and tried again later, so the runner's
   * jobs in the namespace end at their deadline rather than the daemon on an unhandled error.
   */
  private async relist(kind: Kind): Promise<void> {
    try {
      await this.listThenWatch(kind);
    } catch (error) {
      if (this.closed) return;
      this.deps.logger.error('the runner cannot list its Jobs or pods; trying again', { namespace: this.namespace, kind, error: describe(error) });
      this.deps.clock.setTimeout(() => void this.relist(kind), relistAfterErrorMs);
      throw error;
    }
  }

  private async listThenWatch(kind: Kind): Promise<void> {
    if (this.closed) return;
    const list: { items: (V1Job | V1Pod)[]; metadata?: { resourceVersion?: string } } = await withRetries(
      `list ${kind} in ${this.namespace}`,
      (): Promise<{ items: (V1Job | V1Pod)[] }> => (kind === 'jobs' ? this.batch.listNamespacedJob({ namespace: this.namespace, labelSelector: this.labelSelector }) : this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector })),
      { ...this.deps, until: Number.POSITIVE_INFINITY },
    );
    const seen = new Set<string>();
    for (const item of list.items) {
      const name = item.metadata?.name;
      if (name === undefined) continue;
      seen.add(name);
      this.put(kind, item);
    }
    // What went while the watch was away is gone now; its followers must hear it.
    for (const name of [...this.objects[kind].keys()]) if (!seen.has(name)) this.remove(kind, name);
    this.watchFrom(kind, list.metadata?.resourceVersion ?? '0', 0);
  }

  private watchFrom(kind: Kind, fromVersion: string, failures: number): void {
    if (this.closed) return;
    let version = fromVersion;
    let expired = false;
    const path = kind === 'jobs' ? `/apis/batch/v1/namespaces/${this.namespace}/jobs` : `/api/v1/namespaces/${this.namespace}/pods`;
    const onEvent = (type: string, object: V1Job & V1Pod & { code?: number }) => {
      if (type === 'ERROR') {
        expired = object.code === 410;
        return;
      }
      version = object.metadata?.resourceVersion ?? version;
      if (type === 'BOOKMARK') return;
      const name = object.metadata?.name;
      if (name === undefined) return;
      if (type === 'DELETED') this.remove(kind, name);
      else this.put(kind, object);
    };
    let controller: AbortController | undefined;
    const startedAt = this.deps.clock.now();
    const onDone = (error: unknown) => {
      if (controller !== undefined) this.aborts.delete(controller);
      if (this.closed) return;
      if (expired || (error as { statusCode?: number } | null)?.statusCode === 410) {
        this.deps.logger.debug('a Kubernetes watch expired; listing again', { namespace: this.namespace, kind });
        this.relist(kind).catch(() => undefined);
        return;
      }
      const dropped = (error !== null && error !== undefined) || this.deps.clock.now() - startedAt < shortestWatchMs;
      if (dropped) this.deps.logger.debug('a Kubernetes watch dropped; resuming', { namespace: this.namespace, kind, error: String(error) });
      const waitMs = dropped ? Math.min(maxRestartBackoffMs, 100 * 2 ** failures) : 0;
      this.deps.clock.setTimeout(() => this.watchFrom(kind, version, dropped ? failures + 1 : 0), waitMs);
    };
    this.watcher
      .watch(path, { labelSelector: this.labelSelector, resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds }, onEvent, onDone)
      .then((abort) => {
        controller = abort;
        if (this.closed) abort.abort();
        else this.aborts.add(abort);
      })
      .catch(onDone);
  }

  private put(kind: Kind, object: V1Job | V1Pod): void {
    const name = object.metadata?.name as string;
    if (kind === 'jobs') this.objects.jobs.set(name, object as V1Job);
    else this.objects.pods.set(name, object as V1Pod);
    this.notify(kind === 'jobs' ? name : jobNameOfPod(object as V1Pod));
  }

  private remove(kind: Kind, name: string): void {
    const pod = kind === 'pods' ? this.objects.pods.get(name) : undefined;
    if (!this.objects[kind].delete(name)) return;
    this.notify(kind === 'jobs' ? name : pod === undefined ? undefined : jobNameOfPod(pod));
  }

  private notify(jobName: string | undefined): void {
    if (jobName === undefined) return;
    const listeners = this.followers.get(jobName);
    if (listeners === undefined) return;
    const state = this.stateOf(jobName);
    for (const listener of [...listeners]) listener(state);
  }
}

function jobNameOfPod(pod: V1Pod): string | undefined {
  const podLabels = pod.metadata?.labels ?? {};
  for (const label of jobNameLabels) if (podLabels[label] !== undefined) return podLabels[label];
  return undefined;
}
