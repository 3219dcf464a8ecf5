import type { ClusterApi } from './cluster-api.js';
import type { KubeObject, OwnerReference } from './kube-object.js';
import { isOwnedBy } from './kube-object.js';
import { finalizers } from './object-deletion.js';
import type { ObjectStore, StoreEvent } from './object-store.js';
import type { ResourcePlural } from './resources.js';
import { resourceOfKind, resources } from './resources.js';
import { WorkQueue } from './work-queue.js';

/** Kinds that may be dependents here (namespaced, owned through ownerReferences). */
const dependentKinds: readonly ResourcePlural[] = ['pods', 'secrets', 'jobs', 'events'];

/**
 * The garbage collector: deletes objects whose owners are gone, removes owner references for an
 * orphaning delete, and deletes the dependents of a foreground delete before its owner.
 * https://kubernetes.io/docs/concepts/architecture/garbage-collection/#owners-dependents
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
 */
export class GarbageCollector {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: ClusterApi,
    onError: (key: string, error: unknown) => void,
  ) {
    this.queue = new WorkQueue((key) => this.process(key), onError);
    this.unsubscribe = api.store.subscribe((event) => this.observe(event));
  }

  private get store(): ObjectStore {
    return this.api.store;
  }

  close(): Promise<void> {
    this.unsubscribe();
    return this.queue.close();
  }

  private observe(event: StoreEvent): void {
    const { object } = event;
    const key = keyOf(event.plural, object);
    if (event.type !== 'DELETED') {
      // An owner being deleted with a finalizer of ours, or a dependent whose owner may be gone.
      if (object.metadata.deletionTimestamp !== undefined) this.queue.add(key);
      if ((object.metadata.ownerReferences ?? []).length > 0) this.queue.add(key);
      return;
    }
    // The owner is gone: its dependents are now garbage. A dependent that went may unblock its owner.
    for (const plural of dependentKinds) {
      for (const dependent of this.store.list(plural, object.metadata.namespace)) if (isOwnedBy(dependent, object.metadata.uid ?? '')) this.queue.add(keyOf(plural, dependent));
    }
    for (const ref of object.metadata.ownerReferences ?? []) {
      const owner = this.ownerOf(object.metadata.namespace, ref);
      if (owner !== undefined) this.queue.add(keyOf(owner.plural, owner.object));
    }
  }

  private process(key: string): void {
    const [plural, namespace, name] = key.split('\u0000') as [ResourcePlural, string, string];
    const object = this.store.get(plural, namespace === '' ? undefined : namespace, name);
    if (object === undefined) return;
    if (object.metadata.deletionTimestamp !== undefined) this.finishDeletion(plural, object);
    this.collectIfOrphaned(plural, object);
  }

  /** Works off the `orphan` and `foregroundDeletion` finalizers of an owner being deleted. */
  private finishDeletion(plural: ResourcePlural, owner: KubeObject): void {
    const held = owner.metadata.finalizers ?? [];
    const uid = owner.metadata.uid ?? '';
    const namespace = owner.metadata.namespace;
    const dependents = dependentKinds.flatMap((kind) => this.store.list(kind, namespace).filter((o) => isOwnedBy(o, uid)).map((o) => ({ kind, object: o })));
    if (held.includes(finalizers.orphan)) {
      for (const { kind, object } of dependents) {
        this.api.mutate(kind, object.metadata.namespace, object.metadata.name ?? '', (copy) => {
          copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== uid);
          if (copy.metadata.ownerReferences.length === 0) delete copy.metadata.ownerReferences;
        });
      }
      this.removeFinalizer(plural, owner, finalizers.orphan);
      return;
    }
    if (held.includes(finalizers.foreground)) {
      for (const { kind, object } of dependents) {
        if (object.metadata.deletionTimestamp === undefined) this.api.delete(kind, object.metadata.namespace, object.metadata.name ?? '', { propagationPolicy: 'Background' });
      }
      // Only dependents that say blockOwnerDeletion hold the owner back, until they are really gone.
      const blocking = dependents.some(({ kind, object }) => {
        const still = this.store.get(kind, object.metadata.namespace, object.metadata.name ?? '');
        return still !== undefined && (still.metadata.ownerReferences ?? []).some((ref) => ref.uid === uid && ref.blockOwnerDeletion === true);
      });
      if (!blocking) this.removeFinalizer(plural, owner, finalizers.foreground);
    }
  }

  /** Deletes a dependent none of whose owners exists any more; drops references to owners that are gone. */
  private collectIfOrphaned(plural: ResourcePlural, object: KubeObject): void {
    const refs = object.metadata.ownerReferences ?? [];
    if (refs.length === 0 || object.metadata.deletionTimestamp !== undefined) return;
    // A reference to a kind this fake does not serve is left alone, as the collector cannot look it up.
    const present = refs.filter((ref) => resourceOfKind(ref.kind) === undefined || this.ownerOf(object.metadata.namespace, ref) !== undefined);
    if (present.length === refs.length) return;
    if (present.length === 0) {
      this.api.delete(plural, object.metadata.namespace, object.metadata.name ?? '', { propagationPolicy: 'Background', preconditions: { uid: object.metadata.uid ?? '' } });
    } else {
      this.api.mutate(plural, object.metadata.namespace, object.metadata.name ?? '', (copy) => {
        copy.metadata.ownerReferences = present;
      });
    }
  }

  private removeFinalizer(plural: ResourcePlural, object: KubeObject, finalizer: string): void {
    this.api.mutate(plural, object.metadata.namespace, object.metadata.name ?? '', (copy) => {
      copy.metadata.finalizers = (copy.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      if (copy.metadata.finalizers.length === 0) delete copy.metadata.finalizers;
    });
  }

  /** The owner a reference names, when an object of that kind, name and uid exists. */
  private ownerOf(namespace: string | undefined, ref: OwnerReference): { plural: ResourcePlural; object: KubeObject } | undefined {
    const info = resourceOfKind(ref.kind);
    if (info === undefined) return undefined;
    const owner = this.store.get(info.plural, resources[info.plural].namespaced ? namespace : undefined, ref.name);
    return owner !== undefined && owner.metadata.uid === ref.uid ? { plural: info.plural, object: owner } : undefined;
  }
}

function keyOf(plural: ResourcePlural, object: KubeObject): string {
  return `${plural}\u0000${object.metadata.namespace ?? ''}\u0000${object.metadata.name ?? ''}`;
}
