import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPod } from 'kubernetes-models/v1/Pod';

/** Object metadata as it travels on the wire (timestamps are RFC 3339 strings). */
export type ObjectMeta = NonNullable<IJob['metadata']>;
export type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];
export type PodSpec = NonNullable<IPod['spec']>;
export type PodStatus = NonNullable<IPod['status']>;
export type Container = PodSpec['containers'][number];
export type ContainerStatus = NonNullable<PodStatus['containerStatuses']>[number];
export type Volume = NonNullable<PodSpec['volumes']>[number];
export type PodCondition = NonNullable<PodStatus['conditions']>[number];

/**
 * Any object the fake stores: the JSON the API server keeps, typed only as far as every kind
 * shares. Controllers view it as a Job or Pod with `asJob`/`asPod`.
 */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type JobObject = IJob & KubeObject;
export type PodObject = IPod & KubeObject;

export function asJob(object: KubeObject): JobObject {
  return object as JobObject;
}

export function asPod(object: KubeObject): PodObject {
  return object as PodObject;
}

export function nameOf(object: KubeObject): string {
  return object.metadata.name ?? '';
}

export function namespaceOf(object: KubeObject): string | undefined {
  return object.metadata.namespace;
}

export function uidOf(object: KubeObject): string {
  return object.metadata.uid ?? '';
}

/** A deep copy the caller may change: what the store hands out is frozen. */
export function copyOf<T>(object: T): T {
  return structuredClone(object);
}

/** Freezes an object and everything in it, so a controller that forgets to copy fails loudly. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
  }
  return value;
}

/** The time as Kubernetes writes it: RFC 3339 in UTC, whole seconds. */
export function timestamp(ms = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Whether an object's ownerReferences name the owner with this uid. */
export function isOwnedBy(object: KubeObject, ownerUid: string): boolean {
  return (object.metadata.ownerReferences ?? []).some((ref) => ref.uid === ownerUid);
}

/** The owner that controls this object (`controller: true`), as the Job controller adopts pods. */
export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return (object.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
}
