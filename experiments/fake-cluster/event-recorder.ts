import { randomBytes } from 'node:crypto';
import type { ClusterApi } from './cluster-api.js';
import type { KubeObject } from './kube-object.js';
import { timestamp } from './kube-object.js';

export type EventType = 'Normal' | 'Warning';

/**
 * Writes core/v1 Events about an object, as controllers and the kubelet do, so that
 * `kubectl describe`-style reads of the fake show why a pod waits.
 * https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/
 */
export class EventRecorder {
  constructor(
    private readonly api: ClusterApi,
    private readonly component: string,
    private readonly host?: string,
  ) {}

  record(about: KubeObject, type: EventType, reason: string, message: string): void {
    const namespace = about.metadata.namespace ?? 'default';
    if (this.api.store.get('namespaces', undefined, namespace) === undefined) return;
    const now = timestamp();
    this.api.create('events', namespace, {
      metadata: { name: `${about.metadata.name ?? 'object'}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { apiVersion: about.apiVersion, kind: about.kind, namespace, name: about.metadata.name, uid: about.metadata.uid, resourceVersion: about.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component: this.component, ...(this.host === undefined ? {} : { host: this.host }) },
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }
}
