import type { ClusterApi } from './cluster-api.js';
import type { EventRecorder } from './event-recorder.js';
import type { JobStatus } from './job-conditions.js';
import { addCondition, conditionOf, countsAsFailed, isFinished, isReady, isTerminal, jobReasons, restartsOf, setSuspended } from './job-conditions.js';
import type { JobObject, KubeObject, PodObject } from './kube-object.js';
import { asJob, asPod, controllerOf, copyOf, timestamp } from './kube-object.js';
import type { StoreEvent } from './object-store.js';
import { WorkQueue } from './work-queue.js';

/** Keeps a terminated pod until the Job controller has counted it. */
export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';

/** The longest wait between pods of a failing Job. */
const maxPodFailureBackoffMs = 6 * 60_000;

export interface JobControllerOptions {
  /** The first wait before a failed pod is replaced; it doubles with each failure. @default 10 000 (the controller's) */
  readonly podFailureBackoffMs: number;
}

/**
 * The Job controller of Kubernetes 1.31 for NonIndexed Jobs: pods from the template, counting
 * with the job-tracking finalizer, backoffLimit (restartPolicy Never: a new pod per failure;
 * OnFailure: container restarts), activeDeadlineSeconds from status.startTime, suspend, and the
 * interim-then-terminal conditions. https://kubernetes.io/docs/concepts/workloads/controllers/job/
 */
export class JobController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;
  /** Failures since the last success and when the latest was counted, per Job uid: the pod backoff. */
  private readonly backoff = new Map<string, { failures: number; lastMs: number }>();

  constructor(
    private readonly api: ClusterApi,
    private readonly recorder: EventRecorder,
    private readonly options: JobControllerOptions,
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
    const { object } = event;
    const namespace = object.metadata.namespace ?? '';
    if (event.plural === 'jobs') this.queue.add(`job\u0000${namespace}\u0000${object.metadata.name ?? ''}`);
    if (event.plural !== 'pods') return;
    const owner = controllerOf(object);
    if (owner?.kind === 'Job') this.queue.add(`job\u0000${namespace}\u0000${owner.name}`);
    if (event.type !== 'DELETED' && (object.metadata.finalizers ?? []).includes(jobTrackingFinalizer)) this.queue.add(`pod\u0000${namespace}\u0000${object.metadata.name ?? ''}`);
  }

  private process(key: string): void {
    const [what, namespace, name] = key.split('\u0000') as ['job' | 'pod', string, string];
    if (what === 'pod') this.releaseIfOrphaned(namespace, name);
    else this.syncJob(namespace, name);
  }

  /** A pod whose Job is gone keeps no finalizer: nobody would count it. */
  private releaseIfOrphaned(namespace: string, name: string): void {
    const pod = this.api.store.get('pods', namespace, name);
    if (pod === undefined) return;
    const owner = controllerOf(pod);
    const job = owner === undefined ? undefined : this.api.store.get('jobs', namespace, owner.name);
    if (job === undefined || job.metadata.uid !== owner?.uid) this.release(asPod(pod));
  }

  private syncJob(namespace: string, name: string): void {
    const stored = this.api.store.get('jobs', namespace, name);
    if (stored === undefined) return;
    const job = asJob(stored);
    const uid = job.metadata.uid ?? '';
    const pods = this.api.store
      .list('pods', namespace)
      .filter((p) => controllerOf(p)?.uid === uid)
      .map(asPod);
    // A Job being deleted, or finished, lets go of its pods.
    if (job.metadata.deletionTimestamp !== undefined || isFinished(job.status)) {
      for (const pod of pods) if (job.metadata.deletionTimestamp !== undefined || isTerminal(pod)) this.release(pod);
      if (isFinished(job.status)) this.backoff.delete(uid);
      return;
    }
    const spec = job.spec ?? { template: {} };
    const status: JobStatus = copyOf(job.status ?? {});
    const now = Date.now();
    const suspended = spec.suspend === true;
    if (!suspended) status.startTime ??= timestamp(now);
    this.count(job, pods, status, now);
    // Read afresh: counting and deleting change the pods.
    const live = () => pods.map((p) => this.api.store.get('pods', namespace, p.metadata.name ?? '')).filter((p): p is KubeObject => p !== undefined).map(asPod).filter((p) => !isTerminal(p));
    let active = live().filter((p) => p.metadata.deletionTimestamp === undefined);
    if (conditionOf(status, 'FailureTarget') === undefined && conditionOf(status, 'SuccessCriteriaMet') === undefined) {
      const why = this.failureOf(job, pods, status, now);
      if (why !== undefined) {
        addCondition(status, 'FailureTarget', why);
        this.recorder.record(job, 'Warning', why.reason, why.message);
      } else if (this.succeeded(job, status, active.length)) addCondition(status, 'SuccessCriteriaMet', jobReasons.completionsReached);
    }
    const ending = conditionOf(status, 'FailureTarget') ?? conditionOf(status, 'SuccessCriteriaMet');
    if (ending !== undefined || suspended) {
      for (const pod of active) this.deletePod(job, pod);
      active = [];
    } else {
      active = [...active, ...this.createPods(job, status, active.length, now)];
    }
    if (spec.suspend !== undefined) setSuspended(status, suspended);
    const terminating = live().filter((p) => p.metadata.deletionTimestamp !== undefined).length;
    status.active = active.length;
    status.ready = active.filter(isReady).length;
    status.terminating = terminating;
    status.uncountedTerminatedPods = {};
    if (ending !== undefined && active.length === 0 && terminating === 0) {
      const failed = conditionOf(status, 'FailureTarget');
      if (failed === undefined) {
        addCondition(status, 'Complete', jobReasons.completionsReached);
        status.completionTime = timestamp();
        this.recorder.record(job, 'Normal', 'Completed', 'Job completed');
      } else {
        addCondition(status, 'Failed', { reason: failed.reason ?? '', message: failed.message ?? '' });
      }
    }
    this.api.mutate('jobs', namespace, name, (copy) => {
      copy.status = status;
    });
    // Nothing announces a deadline: the controller wakes itself for it, once.
    const deadline = spec.activeDeadlineSeconds;
    const untilDeadline = deadline === undefined || status.startTime === undefined ? 0 : Date.parse(status.startTime) + deadline * 1000 - now;
    if (ending === undefined && untilDeadline > 0) this.queue.addAfter(`job\u0000${namespace}\u0000${name}`, untilDeadline);
  }

  /** Counts the finished pods it has not counted yet (those still holding the finalizer), then releases them. */
  private count(job: JobObject, pods: readonly PodObject[], status: JobStatus, now: number): void {
    const onlyFailedPods = job.spec?.podReplacementPolicy === 'Failed';
    const uid = job.metadata.uid ?? '';
    for (const pod of pods) {
      if (!(pod.metadata.finalizers ?? []).includes(jobTrackingFinalizer)) continue;
      if (pod.status?.phase === 'Succeeded') {
        status.succeeded = (status.succeeded ?? 0) + 1;
        this.backoff.delete(uid);
      } else if (countsAsFailed(pod, onlyFailedPods)) {
        status.failed = (status.failed ?? 0) + 1;
        const before = this.backoff.get(uid)?.failures ?? 0;
        this.backoff.set(uid, { failures: before + 1, lastMs: now });
      } else continue;
      this.release(pod);
    }
  }

  private failureOf(job: JobObject, pods: readonly PodObject[], status: JobStatus, now: number): (typeof jobReasons)[keyof typeof jobReasons] | undefined {
    const limit = job.spec?.backoffLimit ?? 6;
    const onFailure = job.spec?.template.spec?.restartPolicy === 'OnFailure';
    const restarts = onFailure ? restartsOf(pods) : 0;
    if ((status.failed ?? 0) > limit || (onFailure && (limit === 0 ? restarts > 0 : restarts >= limit))) return jobReasons.backoffLimitExceeded;
    const deadline = job.spec?.activeDeadlineSeconds;
    if (deadline !== undefined && status.startTime !== undefined && now >= Date.parse(status.startTime) + deadline * 1000) return jobReasons.deadlineExceeded;
    return undefined;
  }

  private succeeded(job: JobObject, status: JobStatus, active: number): boolean {
    const succeeded = status.succeeded ?? 0;
    const completions = job.spec?.completions;
    // Without completions (a work queue), the first success ends the Job once no pod runs.
    return completions === undefined || completions === null ? succeeded > 0 && active === 0 : succeeded >= completions;
  }

  /** As many pods as parallelism and the remaining completions ask for, after the failure backoff. */
  private createPods(job: JobObject, status: JobStatus, active: number, now: number): PodObject[] {
    const spec = job.spec ?? { template: {} };
    const remaining = spec.completions === undefined || spec.completions === null ? ((status.succeeded ?? 0) > 0 ? 0 : (spec.parallelism ?? 1)) : spec.completions - (status.succeeded ?? 0);
    const wanted = Math.min(spec.parallelism ?? 1, remaining) - active;
    if (wanted <= 0) return [];
    const key = `job\u0000${job.metadata.namespace ?? ''}\u0000${job.metadata.name ?? ''}`;
    const backoff = this.backoff.get(job.metadata.uid ?? '');
    if (backoff !== undefined && backoff.failures > 0) {
      // https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
      const waitMs = Math.min(this.options.podFailureBackoffMs * 2 ** (backoff.failures - 1), maxPodFailureBackoffMs);
      if (now < backoff.lastMs + waitMs) {
        this.queue.addAfter(key, backoff.lastMs + waitMs - now);
        return [];
      }
    }
    const created: PodObject[] = [];
    for (let i = 0; i < wanted; i++) {
      const pod = asPod(this.api.create('pods', job.metadata.namespace, podFromTemplate(job)));
      this.recorder.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name ?? ''}`);
      created.push(pod);
    }
    return created;
  }

  private deletePod(job: JobObject, pod: PodObject): void {
    if (this.api.store.get('pods', pod.metadata.namespace, pod.metadata.name ?? '') === undefined) return;
    this.api.delete('pods', pod.metadata.namespace, pod.metadata.name ?? '', { propagationPolicy: 'Background' });
    this.recorder.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name ?? ''}`);
  }

  private release(pod: PodObject): void {
    this.api.mutate('pods', pod.metadata.namespace, pod.metadata.name ?? '', (copy) => {
      const kept = (copy.metadata.finalizers ?? []).filter((f) => f !== jobTrackingFinalizer);
      if (kept.length === (copy.metadata.finalizers ?? []).length) return false;
      if (kept.length === 0) delete copy.metadata.finalizers;
      else copy.metadata.finalizers = kept;
    });
  }
}

/** A pod of the Job: the template, the Job's name as generateName, owned by and tracked for the Job. */
export function podFromTemplate(job: JobObject): KubeObject {
  const template = job.spec?.template ?? {};
  const name = job.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${name}-`,
      namespace: job.metadata.namespace ?? '',
      labels: { ...template.metadata?.labels },
      ...(template.metadata?.annotations === undefined ? {} : { annotations: { ...template.metadata.annotations } }),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      finalizers: [jobTrackingFinalizer],
    },
    spec: copyOf(template.spec ?? { containers: [] }),
  };
}
