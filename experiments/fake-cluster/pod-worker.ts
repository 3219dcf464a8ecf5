import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterApi } from './cluster-api.js';
import type { ContainerExit } from './container-process.js';
import { ContainerProcess } from './container-process.js';
import { isValidImageReference, planContainer, readTerminationMessage } from './container-start.js';
import type { EventRecorder } from './event-recorder.js';
import type { Container, PodObject } from './kube-object.js';
import { asPod, timestamp } from './kube-object.js';
import { parseQuantity } from './quantity.js';
import type { ContainerState } from './pod-status.js';
import { podStatusOf } from './pod-status.js';
import { VolumeNotReady, setUpVolumes } from './pod-volumes.js';
import type { SiteSandboxes } from './site-sandboxes.js';

/** What a pod worker reaches outside its pod. */
export interface KubeletWorld {
  readonly api: ClusterApi;
  readonly recorder: EventRecorder;
  readonly sandboxes: SiteSandboxes;
  readonly images: ReadonlyMap<string, string>;
  readonly persistentVolumes: Readonly<Record<string, string>>;
  readonly imagePullBackoffMs: number;
  readonly containerRestartBackoffMs: number;
  readonly hostPath: string;
  /** The fake's faults: whether a pull of `image` fails, how long a pod's containers wait to start. */
  imagePullFails(image: string): boolean;
  startDelayMs(pod: PodObject): number;
  allocatePodIp(): string;
  nodeAllocatable(nodeName: string): Readonly<Record<string, string>>;
  /** Syncs the pod again after `delayMs`. */
  resync(delayMs: number): void;
  containerStarted(pod: PodObject, container: string, pid: number): void;
  containerExited(pod: PodObject, container: string, exit: ContainerExit): void;
  containerOutput(pod: PodObject, container: string): void;
}

/** Waits of the kubelet: 10 s doubling to 5 minutes, for image pulls and crashed containers. */
const maxBackoffMs = 5 * 60_000;
const hostIP = '127.0.0.1';

/**
 * The kubelet's work for one pod, level-triggered: each `sync` reads the pod and moves it on.
 * Mount its volumes (waiting for Secrets), give it an address, pull (find) each image, run each
 * container as a process in its namespace's site, record how each ended, restart per
 * restartPolicy, stop it gracefully when it is deleted, and clean up when it is gone.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/
 */
export class PodWorker {
  readonly uid: string;
  private readonly states = new Map<string, ContainerState & { exit?: ContainerExit; retryAtMs?: number; pullFailures: number; terminationFile?: string }>();
  private volumeDirs: Map<string, string> | undefined;
  private mountProblem: string | undefined;
  private podIP: string | undefined;
  private startTime: string | undefined;
  private startAtMs: number | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private deleteIssued = false;

  constructor(
    pod: PodObject,
    readonly dir: string,
    private readonly world: KubeletWorld,
  ) {
    this.uid = pod.metadata.uid ?? '';
    for (const c of pod.spec?.containers ?? []) this.states.set(c.name, { name: c.name, image: c.image ?? '', restartCount: 0, finished: false, pullFailures: 0 });
  }

  /** Running container processes, for the world's inspection. */
  processes(): { container: string; pid: number }[] {
    return [...this.states.values()].flatMap((s) => (s.run?.running === true && s.run.pid !== undefined ? [{ container: s.name, pid: s.run.pid }] : []));
  }

  containerNames(): string[] {
    return [...this.states.keys()];
  }

  logOf(container: string): ContainerState['run'] {
    return this.states.get(container)?.run;
  }

  /** The fake's OOM fault: the container is SIGKILLed and reported OOMKilled. */
  oomKill(container: string | undefined): boolean {
    const state = container === undefined ? [...this.states.values()].find((s) => s.run?.running === true) : this.states.get(container);
    if (state?.run?.running !== true) return false;
    state.run.oomKill();
    return true;
  }

  /** Moves the pod on; 'gone' once the pod object is gone and nothing of it is left. */
  async sync(stored: PodObject | undefined): Promise<'keep' | 'gone'> {
    if (stored === undefined || stored.metadata.uid !== this.uid) {
      await this.tearDown();
      return 'gone';
    }
    const pod = stored;
    await this.recordExits(pod);
    if (pod.metadata.deletionTimestamp !== undefined) {
      await this.stop(pod);
      return 'keep';
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 'keep';
    if (!(await this.mountVolumes(pod))) return 'keep';
    this.podIP ??= this.world.allocatePodIp();
    this.startTime ??= timestamp();
    const now = Date.now();
    if (this.startAtMs === undefined) {
      const delay = this.world.startDelayMs(pod);
      this.startAtMs = now + delay;
      if (delay > 0) this.world.resync(delay);
    }
    if (now >= this.startAtMs) for (const container of pod.spec?.containers ?? []) await this.startIfDue(pod, container, now);
    // A timer may fire a millisecond before Date.now() reaches its time: look again, or the pod never starts.
    else this.world.resync(this.startAtMs - now);
    this.writeStatus(pod);
    return 'keep';
  }

  private async mountVolumes(pod: PodObject): Promise<boolean> {
    if (this.volumeDirs !== undefined) return true;
    try {
      await mkdir(this.dir, { recursive: true });
      this.volumeDirs = await setUpVolumes(pod, this.dir, this.world.api.store, this.world.persistentVolumes);
      return true;
    } catch (error) {
      if (!(error instanceof VolumeNotReady)) throw error;
      // https://kubernetes.io/docs/concepts/configuration/secret/#restriction-secret-must-exist
      if (this.mountProblem !== error.message) this.world.recorder.record(pod, 'Warning', 'FailedMount', error.message);
      this.mountProblem = error.message;
      this.writeStatus(pod);
      return false;
    }
  }

  private async startIfDue(pod: PodObject, container: Container, now: number): Promise<void> {
    const state = this.states.get(container.name);
    if (state === undefined || state.finished || state.run?.running === true) return;
    const image = container.image ?? '';
    if (state.retryAtMs !== undefined && now < state.retryAtMs) {
      if (state.waiting?.reason === 'ErrImagePull') {
        state.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` };
        this.world.recorder.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      }
      return;
    }
    // https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff
    if (!isValidImageReference(image)) {
      state.waiting = { reason: 'InvalidImageName', message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format` };
      return;
    }
    const imageDir = this.world.images.get(image);
    if (imageDir === undefined || this.world.imagePullFails(image)) {
      state.pullFailures += 1;
      const backoff = Math.min(this.world.imagePullBackoffMs * 2 ** (state.pullFailures - 1), maxBackoffMs);
      state.retryAtMs = now + backoff;
      const why = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found (the fake cluster has no such image)`;
      state.waiting = { reason: 'ErrImagePull', message: why };
      this.world.recorder.record(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${why}`);
      this.world.resync(0);
      this.world.resync(backoff);
      return;
    }
    state.imageID = `fake-image://${imageDir}`;
    const containerDir = path.join(this.dir, 'containers', container.name);
    await mkdir(containerDir, { recursive: true });
    // The downward API reads the sandbox's address, which the stored status may not show yet.
    const withNetwork: PodObject = { ...pod, status: { ...pod.status, hostIP, hostIPs: [{ ip: hostIP }], ...(this.podIP === undefined ? {} : { podIP: this.podIP, podIPs: [{ ip: this.podIP }] }) } };
    const plan = await planContainer({
      pod: withNetwork,
      container,
      imageDir,
      volumeDirs: this.volumeDirs ?? new Map(),
      containerDir,
      store: this.world.api.store,
      nodeAllocatable: this.world.nodeAllocatable(pod.spec?.nodeName ?? ''),
      hostPath: this.world.hostPath,
    });
    if (plan.kind === 'waiting') {
      if (state.waiting?.message !== plan.message) this.world.recorder.record(pod, 'Warning', 'Failed', `Error: ${plan.message}`);
      state.waiting = { reason: plan.reason, message: plan.message };
      return;
    }
    if (plan.kind === 'startError') {
      this.ended(pod, container, state, { exitCode: 128, reason: 'StartError', message: plan.message, startedAt: timestamp(), finishedAt: timestamp(), containerID: '' });
      return;
    }
    const limit = container.resources?.limits?.memory;
    const namespace = pod.metadata.namespace ?? '';
    let run: ContainerProcess;
    try {
      run = await ContainerProcess.start({ command: plan.command, cwd: plan.cwd, env: plan.env, place: (pid) => this.world.sandboxes.place(namespace, pid, limit === undefined ? undefined : parseQuantity(limit)) });
    } catch (error) {
      this.ended(pod, container, state, { exitCode: 128, reason: 'StartError', message: (error as Error).message, startedAt: timestamp(), finishedAt: timestamp(), containerID: '' });
      return;
    }
    state.run = run;
    state.terminationFile = plan.terminationMessageFile;
    delete state.waiting;
    delete state.retryAtMs;
    this.world.recorder.record(pod, 'Normal', 'Started', `Started container ${container.name}`);
    this.world.containerStarted(pod, container.name, run.pid ?? 0);
    run.log.on('data', () => this.world.containerOutput(pod, container.name));
    void run.exited.then((exit) => {
      state.exit = exit;
      this.world.containerExited(pod, container.name, exit);
      this.world.resync(0);
    });
  }

  /** Turns the exits the processes reported since the last sync into terminated states. */
  private async recordExits(pod: PodObject): Promise<void> {
    for (const container of pod.spec?.containers ?? []) {
      const state = this.states.get(container.name);
      const exit = state?.exit;
      if (state === undefined || exit === undefined || state.run === undefined) continue;
      delete state.exit;
      const message = await readTerminationMessage(state.terminationFile, container.terminationMessagePolicy, exit.exitCode, state.run.log);
      const reason = exit.oomKilled ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error';
      const signal = exit.signal === null ? {} : { signal: exit.exitCode - 128 };
      const containerID = `fake-process://${state.run.pid ?? 0}`;
      this.ended(pod, container, state, { exitCode: exit.exitCode, reason, ...(message === undefined ? {} : { message }), ...signal, startedAt: timestamp(state.run.startedAtMs), finishedAt: timestamp(exit.finishedAtMs), containerID });
    }
  }

  /** A container's run ended: final under the restartPolicy, or a restart after the crash backoff. */
  private ended(pod: PodObject, container: Container, state: ContainerState & { retryAtMs?: number }, termination: NonNullable<ContainerState['terminated']>): void {
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const restarts = pod.metadata.deletionTimestamp === undefined && (policy === 'Always' || (policy === 'OnFailure' && termination.exitCode !== 0));
    if (!restarts) {
      state.terminated = termination;
      state.finished = true;
      return;
    }
    // https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-restarts
    const backoff = Math.min(this.world.containerRestartBackoffMs * 2 ** state.restartCount, maxBackoffMs);
    state.lastTerminated = termination;
    delete state.terminated;
    state.restartCount += 1;
    state.retryAtMs = Date.now() + backoff;
    state.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(backoff / 1000)}s restarting failed container=${container.name} pod=${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${this.uid})` };
    this.world.recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    this.world.resync(backoff);
  }

  /**
   * Graceful termination: SIGTERM to every container, SIGKILL when the grace period ends; once all
   * stopped, the final status and the delete with grace period 0 that lets the object go.
   * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
   */
  private async stop(pod: PodObject): Promise<void> {
    const running = [...this.states.values()].filter((s) => s.run?.running === true);
    if (running.length > 0) {
      if (!this.stopping) {
        this.stopping = true;
        for (const state of running) {
          this.world.recorder.record(pod, 'Normal', 'Killing', `Stopping container ${state.name}`);
          state.run?.signal('SIGTERM');
        }
        const graceMs = Math.max(0, Date.parse(pod.metadata.deletionTimestamp ?? '') - Date.now());
        this.killTimer = setTimeout(() => {
          for (const state of this.states.values()) state.run?.signal('SIGKILL');
        }, graceMs);
      }
      return;
    }
    clearTimeout(this.killTimer);
    if (this.deleteIssued) return;
    this.deleteIssued = true;
    const states = [...this.states.values()];
    const phase = states.every((s) => s.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
    for (const state of states) state.finished = true;
    this.writeStatus(pod, phase);
    try {
      this.world.api.delete('pods', pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
    } catch {
      // Gone already, or replaced: the next sync tears down.
    }
  }

  private writeStatus(pod: PodObject, phase?: 'Succeeded' | 'Failed'): void {
    const states = [...this.states.values()];
    this.world.api.mutate('pods', pod.metadata.namespace, pod.metadata.name ?? '', (copy) => {
      if (copy.metadata.uid !== this.uid) return false;
      const current = asPod(copy);
      const network = { hostIP, ...(this.podIP === undefined ? {} : { podIP: this.podIP }), ...(this.startTime === undefined ? {} : { startTime: this.startTime }) };
      current.status = podStatusOf(current, states, network, phase);
    });
  }

  /** Kills what still runs and removes the pod's directories. Idempotent. */
  async tearDown(): Promise<void> {
    clearTimeout(this.killTimer);
    const runs = [...this.states.values()].flatMap((s) => (s.run === undefined ? [] : [s.run]));
    for (const run of runs) run.signal('SIGKILL');
    await Promise.all(runs.map((run) => run.exited));
    await rm(this.dir, { recursive: true, force: true });
  }
}
