import type { KubeObject } from './kube-object.js';
import { deepFreeze } from './kube-object.js';
import type { ResourcePlural } from './resources.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, as etcd's revision log holds it and a watch replays it. */
export interface StoreEvent {
  readonly type: StoreEventType;
  readonly plural: ResourcePlural;
  /** The object after the change (for DELETED: its last state, at the deletion's resourceVersion). */
  readonly object: KubeObject;
  /** The object before the change; undefined for ADDED. */
  readonly previous: KubeObject | undefined;
  readonly resourceVersion: number;
}

/**
 * Every object of one fake cluster, with one resourceVersion counter across all kinds (as etcd's
 * revision) and a bounded log of recent changes for watches that resume. Objects handed out are
 * frozen: copy before changing.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
 */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly log: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private revision = 0;
  /** Changes up to and including this revision are no longer in the log. */
  private compactedRevision = 0;

  constructor(
    /** How many changes the log keeps: a resume from further back is answered 410 Expired. */
    private readonly historyLimit: number,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  get resourceVersion(): number {
    return this.revision;
  }

  /** The oldest revision a watch may resume from. */
  get oldestResumable(): number {
    return this.compactedRevision;
  }

  get(plural: ResourcePlural, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(keyOf(plural, namespace, name));
  }

  /** Objects of a kind, in one namespace or all, ordered as etcd lists them (by namespace, then name). */
  list(plural: ResourcePlural, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? `${plural}\u0000` : `${plural}\u0000${namespace}\u0000`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  /**
   * The objects as they were at `revision`, rebuilt by undoing the logged changes after it: what a
   * paginated list continues from. 'expired' when the log no longer reaches back that far.
   */
  listAt(plural: ResourcePlural, namespace: string | undefined, revision: number): KubeObject[] | 'expired' {
    if (revision < this.compactedRevision) return 'expired';
    const state = new Map(this.list(plural, namespace).map((o) => [keyOf(plural, o.metadata.namespace, o.metadata.name ?? ''), o]));
    for (const event of [...this.log].reverse()) {
      if (event.resourceVersion <= revision) break;
      if (event.plural !== plural || (namespace !== undefined && event.object.metadata.namespace !== namespace)) continue;
      const key = keyOf(plural, event.object.metadata.namespace, event.object.metadata.name ?? '');
      if (event.previous === undefined) state.delete(key);
      else state.set(key, event.previous);
    }
    return [...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, object]) => object);
  }

  /** The logged changes after `revision`, or 'expired' when some of them were compacted away. */
  changesAfter(revision: number): StoreEvent[] | 'expired' {
    if (revision < this.compactedRevision) return 'expired';
    return this.log.filter((event) => event.resourceVersion > revision);
  }

  add(plural: ResourcePlural, object: KubeObject): KubeObject {
    const key = keyOf(plural, object.metadata.namespace, object.metadata.name ?? '');
    if (this.objects.has(key)) throw new Error(`the store already holds ${key}`);
    return this.commit('ADDED', plural, key, object, undefined);
  }

  replace(plural: ResourcePlural, object: KubeObject): KubeObject {
    const key = keyOf(plural, object.metadata.namespace, object.metadata.name ?? '');
    const previous = this.objects.get(key);
    if (previous === undefined) throw new Error(`the store holds no ${key}`);
    return this.commit('MODIFIED', plural, key, object, previous);
  }

  remove(plural: ResourcePlural, namespace: string | undefined, name: string): KubeObject {
    const key = keyOf(plural, namespace, name);
    const previous = this.objects.get(key);
    if (previous === undefined) throw new Error(`the store holds no ${key}`);
    return this.commit('DELETED', plural, key, structuredClone(previous), previous);
  }

  /** Drops the whole log, as etcd's compaction does: every resume from before now gets 410. */
  compact(): void {
    this.log.length = 0;
    this.compactedRevision = this.revision;
  }

  /** Calls `listener` synchronously after every change, in order. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private commit(type: StoreEventType, plural: ResourcePlural, key: string, object: KubeObject, previous: KubeObject | undefined): KubeObject {
    this.revision += 1;
    const stored = deepFreeze({ ...object, metadata: { ...object.metadata, resourceVersion: String(this.revision) } });
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, stored);
    const event: StoreEvent = { type, plural, object: stored, previous, resourceVersion: this.revision };
    this.log.push(event);
    while (this.log.length > this.historyLimit) {
      const dropped = this.log.shift();
      if (dropped !== undefined) this.compactedRevision = dropped.resourceVersion;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    return stored;
  }
}

function keyOf(plural: ResourcePlural, namespace: string | undefined, name: string): string {
  return `${plural}\u0000${namespace ?? ''}\u0000${name}`;
}
