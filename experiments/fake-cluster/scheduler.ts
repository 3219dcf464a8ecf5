import type { ClusterApi } from './cluster-api.js';
import type { EventRecorder } from './event-recorder.js';
import { isTerminal } from './job-conditions.js';
import type { KubeObject, PodObject, PodSpec } from './kube-object.js';
import { asPod, timestamp } from './kube-object.js';
import type { StoreEvent } from './object-store.js';
import { parseQuantity } from './quantity.js';
import { WorkQueue } from './work-queue.js';

/** The node each namespace's pods run on, and the persistent volumes that exist. */
export interface SchedulingWorld {
  nodeFor(namespace: string): string;
  hasPersistentVolume(claimName: string): boolean;
}

/**
 * The scheduler for one node per namespace: binds a pod when the node's allocatable CPU and
 * memory, less the requests of the pods already on it, hold the pod's requests and its claims
 * exist; otherwise marks it PodScheduled=False, reason Unschedulable, and tries again when a pod
 * leaves the node. https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/
 * https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#how-pods-with-resource-requests-are-scheduled
 */
export class Scheduler {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: ClusterApi,
    private readonly recorder: EventRecorder,
    private readonly world: SchedulingWorld,
    onError: (key: string, error: unknown) => void,
  ) {
    this.queue = new WorkQueue((key) => this.schedule(key), onError);
    this.unsubscribe = api.store.subscribe((event) => this.observe(event));
  }

  close(): Promise<void> {
    this.unsubscribe();
    return this.queue.close();
  }

  private observe(event: StoreEvent): void {
    if (event.plural === 'nodes') {
      for (const pod of this.api.store.list('pods')) if (!asPod(pod).spec?.nodeName) this.queue.add(keyOf(pod));
      return;
    }
    if (event.plural !== 'pods') return;
    const pod = asPod(event.object);
    if (event.type !== 'DELETED' && !pod.spec?.nodeName) this.queue.add(keyOf(pod));
    // Room freed on a node: the pods waiting in its namespace may fit now.
    if (pod.spec?.nodeName && (event.type === 'DELETED' || isTerminal(pod))) {
      for (const waiting of this.api.store.list('pods', pod.metadata.namespace)) if (!asPod(waiting).spec?.nodeName) this.queue.add(keyOf(waiting));
    }
  }

  private schedule(key: string): void {
    const [namespace, name] = key.split('\u0000') as [string, string];
    const stored = this.api.store.get('pods', namespace, name);
    if (stored === undefined) return;
    const pod = asPod(stored);
    if (pod.spec?.nodeName || pod.metadata.deletionTimestamp !== undefined) return;
    const nodeName = this.world.nodeFor(namespace);
    const node = this.api.store.get('nodes', undefined, nodeName);
    const why = node === undefined ? `node "${nodeName}" not found` : this.misfit(pod, node);
    if (why !== undefined) {
      this.markUnschedulable(pod, why);
      return;
    }
    this.api.mutate('pods', namespace, name, (copy) => {
      const bound = asPod(copy);
      if (bound.spec === undefined) return false;
      bound.spec.nodeName = nodeName;
      bound.status = { ...bound.status, conditions: [...(bound.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastTransitionTime: timestamp() }] };
    });
    this.recorder.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
  }

  /** Why the pod does not fit on the node, worded as the scheduler's FailedScheduling message; undefined when it fits. */
  private misfit(pod: PodObject, node: KubeObject): string | undefined {
    for (const volume of pod.spec?.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (claim !== undefined && !this.world.hasPersistentVolume(claim)) {
        return `0/1 nodes are available: persistentvolumeclaim "${claim}" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`;
      }
    }
    const allocatable = ((node.status as { allocatable?: Record<string, string> } | undefined)?.allocatable ?? {}) as Record<string, string>;
    const onNode = this.api.store
      .list('pods', pod.metadata.namespace)
      .map(asPod)
      .filter((p) => p.spec?.nodeName === node.metadata.name && !isTerminal(p));
    const short: string[] = [];
    for (const resource of ['cpu', 'memory'] as const) {
      const capacity = allocatable[resource] === undefined ? undefined : parseQuantity(allocatable[resource]);
      if (capacity === undefined) continue;
      const used = onNode.reduce((sum, p) => sum + requestOf(p.spec, resource), 0);
      if (used + requestOf(pod.spec, resource) > capacity + 1e-9) short.push(`1 Insufficient ${resource}`);
    }
    if (short.length === 0) return undefined;
    return `0/1 nodes are available: ${short.join(', ')}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`;
  }

  private markUnschedulable(pod: PodObject, message: string): void {
    const before = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (before?.status === 'False' && before.message === message) return;
    this.api.mutate('pods', pod.metadata.namespace, pod.metadata.name ?? '', (copy) => {
      const pending = asPod(copy);
      const condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: timestamp() };
      pending.status = { ...pending.status, phase: 'Pending', conditions: [...(pending.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), condition] };
    });
    this.recorder.record(pod, 'Warning', 'FailedScheduling', message);
  }
}

/** A pod's request of a resource: its containers' sum, or its largest init container's if larger. */
export function requestOf(spec: PodSpec | undefined, resource: 'cpu' | 'memory'): number {
  const of = (c: PodSpec['containers'][number]) => parseQuantity(c.resources?.requests?.[resource] ?? 0) ?? 0;
  const sum = (spec?.containers ?? []).reduce((total, c) => total + of(c), 0);
  const init = Math.max(0, ...(spec?.initContainers ?? []).map(of));
  return Math.max(sum, init);
}

function keyOf(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}\u0000${pod.metadata.name ?? ''}`;
}
