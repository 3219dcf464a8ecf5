import type { ClusterApi } from './cluster-api.js';
import { finishedAtMs } from './job-conditions.js';
import { asJob } from './kube-object.js';
import type { StoreEvent } from './object-store.js';
import { WorkQueue } from './work-queue.js';

/**
 * Deletes a finished Job `ttlSecondsAfterFinished` after its Complete or Failed condition, with
 * its dependents. The real controller deletes with propagationPolicy Foreground and the Job's uid
 * as precondition, so the Job stays (with deletionTimestamp) until its pods are gone; so does this.
 * https://kubernetes.io/docs/concepts/workloads/controllers/ttlafterfinished/
 */
export class TtlAfterFinishedController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: ClusterApi,
    onError: (key: string, error: unknown) => void,
  ) {
    this.queue = new WorkQueue((key) => this.process(key), onError);
    this.unsubscribe = api.store.subscribe((event) => this.observe(event));
  }

  close(): Promise<void> {
    this.unsubscribe();
    return this.queue.close();
  }

  private observe(event: StoreEvent): void {
    if (event.plural !== 'jobs' || event.type === 'DELETED') return;
    const job = asJob(event.object);
    if (job.spec?.ttlSecondsAfterFinished !== undefined && finishedAtMs(job.status) !== undefined && job.metadata.deletionTimestamp === undefined) {
      this.queue.add(`${job.metadata.namespace ?? ''}\u0000${job.metadata.name ?? ''}`);
    }
  }

  private process(key: string): void {
    const [namespace, name] = key.split('\u0000') as [string, string];
    const stored = this.api.store.get('jobs', namespace, name);
    if (stored === undefined || stored.metadata.deletionTimestamp !== undefined) return;
    const job = asJob(stored);
    const ttl = job.spec?.ttlSecondsAfterFinished;
    const finished = finishedAtMs(job.status);
    if (ttl === undefined || finished === undefined) return;
    const remainingMs = finished + ttl * 1000 - Date.now();
    if (remainingMs > 0) {
      this.queue.addAfter(key, remainingMs);
      return;
    }
    this.api.delete('jobs', namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid ?? '' } });
  }
}
