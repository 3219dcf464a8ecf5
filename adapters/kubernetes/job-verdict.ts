import type { V1Pod } from '@kubernetes/client-node';
import type { JobStatus } from '../../knowledge/ports/job-runner.js';
import type { JobMessage, JobStats } from '../../services/job/job-protocol.js';
import type { JobState } from './namespace-watch.js';

/** How a job ended, read from its Job and pod the way Kubernetes reports them. */
export interface Verdict {
  readonly status: JobStatus;
  readonly error?: { readonly code: string; readonly message: string };
  readonly stats?: JobStats;
}

/** Container waiting reasons that mean the image will not run (https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff). */
const cannotStart = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError']);

/** The pod's IP once it has one and its container has not ended: where its sidecar listens. */
export function podIpOf(state: JobState): string | undefined {
  const pod = livePod(state);
  return pod?.status?.podIP === undefined || pod.status.podIP === '' ? undefined : pod.status.podIP;
}

/** Whether the job's container has started (it runs, or ran). */
export function containerStarted(state: JobState): boolean {
  return state.pods.some((pod) => {
    const container = pod.status?.containerStatuses?.[0]?.state;
    return container?.running !== undefined || container?.terminated?.startedAt !== undefined;
  });
}

/**
 * The verdict once the job has ended or cannot run, undefined while it may still succeed.
 * Kubernetes' reasons become the project's codes, with the party named
 * (docs/designs/013-cluster-mode.md has the table).
 */
export function verdictOf(state: JobState, party: string): Verdict | undefined {
  const failed = state.job?.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed?.reason === 'DeadlineExceeded') {
    return { status: 'timedOut', error: { code: 'JOB_TIMEOUT', message: `the job at ${party} passed its deadline (Kubernetes: DeadlineExceeded)` } };
  }
  for (const pod of state.pods) {
    const ended = endedContainer(pod, party);
    if (ended !== undefined) return ended;
  }
  const pod = livePod(state);
  const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting?.reason !== undefined && cannotStart.has(waiting.reason)) {
    return { status: 'failed', error: { code: 'JOB_FAILED', message: `the job at ${party} could not start (Kubernetes: ${waiting.reason}${waiting.message === undefined ? '' : `: ${waiting.message}`})` } };
  }
  const unschedulable = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable !== undefined && /persistentvolumeclaim/i.test(unschedulable.message ?? '')) {
    // No room is load; a claim that is not there is the settings' mistake.
    return { status: 'failed', error: { code: 'CONFIG_INVALID', message: `the job at ${party} cannot start: its tables claim is missing (sites.${party}.kubernetes.tables; Kubernetes: ${unschedulable.message})` } };
  }
  if (unschedulable !== undefined) {
    return { status: 'failed', error: { code: 'OVERLOADED', message: `no room for the job at ${party} (Kubernetes: Unschedulable${unschedulable.message === undefined ? '' : `: ${unschedulable.message}`})` } };
  }
  if (failed !== undefined) {
    return { status: 'failed', error: { code: 'JOB_FAILED', message: `the job at ${party} failed (Kubernetes: ${failed.reason ?? 'Failed'})` } };
  }
  return undefined;
}

function endedContainer(pod: V1Pod, party: string): Verdict | undefined {
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (terminated === undefined) {
    if (pod.status?.phase === 'Failed') return { status: 'failed', error: { code: 'JOB_FAILED', message: `the job's pod at ${party} failed (Kubernetes: ${pod.status.reason ?? 'Failed'})` } };
    return undefined;
  }
  const told = parseOutcome(terminated.message);
  if (terminated.reason === 'OOMKilled') {
    const limit = pod.spec?.containers[0]?.resources?.limits?.['memory'];
    return { status: 'failed', error: { code: 'JOB_OUT_OF_MEMORY', message: `the job at ${party} needed more memory than its limit${limit === undefined ? '' : ` of ${limit}`} (Kubernetes: OOMKilled)` }, ...(told === undefined ? {} : { stats: told.stats }) };
  }
  if (told?.type === 'done' && terminated.exitCode === 0) return { status: 'succeeded', stats: told.stats };
  if (told?.type === 'failed') return { status: 'failed', error: { code: told.code, message: told.message }, stats: told.stats };
  return { status: 'failed', error: { code: 'JOB_FAILED', message: `the job at ${party} ended with exit code ${terminated.exitCode}${terminated.reason === undefined ? '' : ` (Kubernetes: ${terminated.reason})`}` } };
}

/** The job's own report in its termination message, when it wrote one. */
function parseOutcome(message: string | undefined): Extract<JobMessage, { type: 'done' | 'failed' }> | undefined {
  if (message === undefined || message === '') return undefined;
  try {
    const parsed = JSON.parse(message) as { type?: unknown; stats?: unknown; code?: unknown; message?: unknown };
    if (typeof parsed.stats !== 'object' || parsed.stats === null) return undefined;
    if (parsed.type === 'done') return parsed as Extract<JobMessage, { type: 'done' }>;
    if (parsed.type === 'failed' && typeof parsed.code === 'string' && typeof parsed.message === 'string') return parsed as Extract<JobMessage, { type: 'failed' }>;
    return undefined;
  } catch {
    return undefined;
  }
}

/** The pod of the Job still running or starting, newest first: a Job with backoffLimit 0 has one. */
function livePod(state: JobState): V1Pod | undefined {
  return state.pods.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.containerStatuses?.[0]?.state?.terminated === undefined).at(-1);
}
