import type { JobObject, PodObject } from './kube-object.js';
import { timestamp } from './kube-object.js';

export type JobStatus = NonNullable<JobObject['status']>;
type JobCondition = NonNullable<JobStatus['conditions']>[number];

/**
 * The Job conditions of Kubernetes 1.31: an interim condition first (SuccessCriteriaMet,
 * FailureTarget), the terminal one (Complete, Failed) only once no pod of the Job is left running
 * or terminating. https://kubernetes.io/docs/concepts/workloads/controllers/job/#termination-of-job-pods
 */
export const jobReasons = {
  completionsReached: { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
  backoffLimitExceeded: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
  deadlineExceeded: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
} as const;

export type JobReason = (typeof jobReasons)[keyof typeof jobReasons];

export function conditionOf(status: JobStatus | undefined, type: string): JobCondition | undefined {
  return (status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

export function isFinished(status: JobStatus | undefined): boolean {
  return conditionOf(status, 'Complete') !== undefined || conditionOf(status, 'Failed') !== undefined;
}

/** When the Job finished (its terminal condition's transition), for the TTL controller. */
export function finishedAtMs(status: JobStatus | undefined): number | undefined {
  const condition = conditionOf(status, 'Complete') ?? conditionOf(status, 'Failed');
  return condition?.lastTransitionTime === undefined ? undefined : Date.parse(condition.lastTransitionTime);
}

export function addCondition(status: JobStatus, type: string, why: { readonly reason: string; readonly message: string }): void {
  if (conditionOf(status, type) !== undefined) return;
  const now = timestamp();
  status.conditions = [...(status.conditions ?? []), { type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: why.reason, message: why.message }];
}

export function setSuspended(status: JobStatus, suspended: boolean): void {
  const existing = (status.conditions ?? []).find((c) => c.type === 'Suspended');
  const wanted = suspended ? 'True' : 'False';
  if (existing === undefined ? !suspended : existing.status === wanted) return;
  const now = timestamp();
  const condition: JobCondition = { type: 'Suspended', status: wanted, lastProbeTime: now, lastTransitionTime: now, reason: suspended ? 'JobSuspended' : 'JobResumed', message: suspended ? 'Job suspended' : 'Job resumed' };
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'Suspended'), condition];
}

export function isTerminal(pod: PodObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isReady(pod: PodObject): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Whether a pod counts as failed for the Job: failed, or (with podReplacementPolicy
 * TerminatingOrFailed, the default) being deleted before it succeeded.
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-replacement-policy
 */
export function countsAsFailed(pod: PodObject, onlyFailedPods: boolean): boolean {
  if (pod.status?.phase === 'Failed') return true;
  return !onlyFailedPods && pod.metadata.deletionTimestamp !== undefined && pod.status?.phase !== 'Succeeded';
}

/** Container restarts of a Job's running pods: what backoffLimit bounds under restartPolicy OnFailure. */
export function restartsOf(pods: readonly PodObject[]): number {
  return pods
    .filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending')
    .flatMap((p) => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])])
    .reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
}
