import type { Status } from './api-errors.js';
import { conflict, invalid, success } from './api-errors.js';
import type { ClusterApi } from './cluster-api.js';
import { fieldError } from './field-checks.js';
import type { KubeObject } from './kube-object.js';
import { asPod, copyOf, timestamp } from './kube-object.js';
import type { PropagationPolicy, ResourceInfo } from './resources.js';

/** DeleteOptions, from the query string or the body. */
export interface DeleteOptions {
  readonly propagationPolicy?: string | undefined;
  readonly orphanDependents?: boolean | undefined;
  readonly gracePeriodSeconds?: number | undefined;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string } | undefined;
  readonly dryRun?: boolean | undefined;
}

export const finalizers = {
  /** The garbage collector removes the owner's references from its dependents, then this. */
  orphan: 'orphan',
  /** The garbage collector deletes the dependents that block the owner, then this. */
  foreground: 'foregroundDeletion',
} as const;

const policies: readonly PropagationPolicy[] = ['Foreground', 'Background', 'Orphan'];

/**
 * A delete as the apiserver's generic registry does it:
 * - preconditions (uid, resourceVersion) or 409;
 * - a Pod bound to a node and not finished is deleted gracefully: it gets `deletionTimestamp` and
 *   `deletionGracePeriodSeconds`, and its kubelet removes it once its containers stopped
 *   (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination);
 * - Orphan and Foreground add their finalizer, which the garbage collector removes
 *   (https://kubernetes.io/docs/concepts/architecture/garbage-collection/#cascading-deletion);
 * - an object with finalizers stays, marked for deletion, and is answered 200 with the object;
 *   one without is removed at once, answered with a Status (pods: the object).
 */
export function deleteObject(api: ClusterApi, info: ResourceInfo, existing: KubeObject, options: DeleteOptions): { code: number; body: KubeObject | Status } {
  const name = existing.metadata.name ?? '';
  const { uid, resourceVersion } = options.preconditions ?? {};
  if (uid !== undefined && uid !== existing.metadata.uid) throw conflict(info, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid ?? ''}`);
  if (resourceVersion !== undefined && resourceVersion !== existing.metadata.resourceVersion) {
    throw conflict(info, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`);
  }
  const policy = propagationOf(info, options);
  const next = copyOf(existing);
  const meta = next.metadata;
  const graceSeconds = info.plural === 'pods' ? podGraceSeconds(existing, options) : 0;
  const now = Date.now();
  if (graceSeconds > 0) {
    // A second delete may shorten the grace period, never lengthen it.
    const deadline = now + graceSeconds * 1000;
    if (meta.deletionTimestamp === undefined || deadline < Date.parse(meta.deletionTimestamp)) {
      meta.deletionTimestamp = timestamp(deadline);
      meta.deletionGracePeriodSeconds = graceSeconds;
    }
  } else if (meta.deletionTimestamp === undefined || (meta.deletionGracePeriodSeconds ?? 0) > 0) {
    meta.deletionTimestamp = timestamp(now);
    meta.deletionGracePeriodSeconds = 0;
  }
  const finalizer = policy === 'Orphan' ? finalizers.orphan : policy === 'Foreground' ? finalizers.foreground : undefined;
  if (finalizer !== undefined && !(meta.finalizers ?? []).includes(finalizer)) meta.finalizers = [...(meta.finalizers ?? []), finalizer];
  const stays = (meta.finalizers ?? []).length > 0 || (meta.deletionGracePeriodSeconds ?? 0) > 0;
  if (options.dryRun === true) return stays ? { code: 200, body: next } : { code: 200, body: info.returnsDeletedObject ? next : success(info, name, meta.uid ?? '') };
  if (stays) {
    const stored = JSON.stringify(next) === JSON.stringify(existing) ? existing : api.store.replace(info.plural, next);
    return { code: 200, body: stored };
  }
  const removed = api.store.remove(info.plural, meta.namespace, name);
  return { code: 200, body: info.returnsDeletedObject ? removed : success(info, name, meta.uid ?? '') };
}

function propagationOf(info: ResourceInfo, options: DeleteOptions): PropagationPolicy {
  const given = options.propagationPolicy;
  if (given !== undefined && given !== '') {
    if (!policies.includes(given as PropagationPolicy)) throw invalid(info, '', [fieldError.notSupported('propagationPolicy', given, policies)]);
    return given as PropagationPolicy;
  }
  if (options.orphanDependents !== undefined) return options.orphanDependents ? 'Orphan' : 'Background';
  return info.defaultPropagation;
}

/** A pod not bound to a node, or finished, has nothing to stop: it goes at once. */
function podGraceSeconds(existing: KubeObject, options: DeleteOptions): number {
  const pod = asPod(existing);
  if (!pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  return Math.max(0, options.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30);
}
