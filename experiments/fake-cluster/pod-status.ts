import type { ContainerProcess } from './container-process.js';
import type { ContainerStatus, PodCondition, PodObject, PodStatus } from './kube-object.js';
import { timestamp } from './kube-object.js';

/** A container's end, as `state.terminated` shows it. */
export interface Termination {
  readonly exitCode: number;
  readonly reason: string;
  readonly message?: string;
  readonly signal?: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly containerID: string;
}

/** What the kubelet knows of one container of a pod. */
export interface ContainerState {
  readonly name: string;
  readonly image: string;
  imageID?: string;
  run?: ContainerProcess;
  /** Why it is not running, when it is not and will be (ContainerCreating, ErrImagePull, CrashLoopBackOff…). */
  waiting?: { reason: string; message?: string };
  /** Its last run's end; the current state unless it is waiting to restart. */
  terminated?: Termination;
  /** The run before, once it restarted. */
  lastTerminated?: Termination;
  restartCount: number;
  /** Whether its last end is final under the pod's restartPolicy (no restart follows). */
  finished: boolean;
}

export function containerStatusOf(state: ContainerState): ContainerStatus {
  const running = state.run?.running === true;
  const base = { name: state.name, image: state.image, imageID: state.imageID ?? '', restartCount: state.restartCount, ready: running, started: running };
  const lastState = state.lastTerminated === undefined ? {} : { terminated: state.lastTerminated };
  const containerID = state.run !== undefined ? `fake-process://${state.run.pid ?? 0}` : state.terminated?.containerID;
  const withId = containerID === undefined ? base : { ...base, containerID };
  if (running && state.run !== undefined) return { ...withId, state: { running: { startedAt: timestamp(state.run.startedAtMs) } }, lastState };
  if (state.waiting !== undefined && !state.finished) return { ...withId, state: { waiting: state.waiting }, lastState };
  if (state.terminated !== undefined) return { ...withId, state: { terminated: state.terminated }, lastState };
  return { ...withId, state: { waiting: { reason: 'ContainerCreating' } }, lastState };
}

/**
 * The pod's phase from its containers. https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-phase
 * Running once any container ran and not all have finished; Succeeded when all finished with 0;
 * Failed when all finished and one did not.
 */
export function podPhaseOf(states: readonly ContainerState[]): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (states.length > 0 && states.every((s) => s.finished)) return states.every((s) => s.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  return states.some((s) => s.run !== undefined || s.terminated !== undefined) ? 'Running' : 'Pending';
}

/**
 * The status the kubelet writes: phase, addresses, start time, container statuses and the
 * conditions (PodReadyToStartContainers, Initialized, ContainersReady, Ready; PodScheduled is the
 * scheduler's). A condition keeps its lastTransitionTime while its status stays.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-conditions
 */
export function podStatusOf(pod: PodObject, states: readonly ContainerState[], network: { podIP?: string; hostIP: string; startTime?: string }, phaseOverride?: 'Succeeded' | 'Failed'): PodStatus {
  const before = pod.status ?? {};
  const phase = phaseOverride ?? podPhaseOf(states);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const unready = states.filter((s) => s.run?.running !== true).map((s) => s.name);
  const ready = !terminal && unready.length === 0 && states.length > 0;
  const notReady = terminal ? { reason: 'PodCompleted' } : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  const sandbox = network.podIP !== undefined && !terminal;
  const conditions: PodCondition[] = [
    condition(before, 'PodReadyToStartContainers', sandbox, {}),
    condition(before, 'Initialized', true, {}),
    condition(before, 'Ready', ready, notReady),
    condition(before, 'ContainersReady', ready, notReady),
    ...(before.conditions ?? []).filter((c) => c.type === 'PodScheduled'),
  ];
  return {
    ...before,
    phase,
    conditions,
    hostIP: network.hostIP,
    hostIPs: [{ ip: network.hostIP }],
    ...(network.podIP === undefined ? {} : { podIP: network.podIP, podIPs: [{ ip: network.podIP }] }),
    ...(network.startTime === undefined ? {} : { startTime: network.startTime }),
    containerStatuses: states.map(containerStatusOf),
  };
}

function condition(before: PodStatus, type: string, holds: boolean, otherwise: { reason?: string; message?: string }): PodCondition {
  const status = holds ? 'True' : 'False';
  const previous = (before.conditions ?? []).find((c) => c.type === type);
  const lastTransitionTime = previous?.status === status && previous.lastTransitionTime !== undefined ? previous.lastTransitionTime : timestamp();
  return { type, status, lastTransitionTime, ...(holds ? {} : otherwise) };
}
