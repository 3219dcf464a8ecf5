import type { KnowledgeEvent } from './fold.js';
import { fold } from './fold.js';
import type { KnowledgeSnapshot } from './knowledge-snapshot.js';
import { snapshotWith } from './knowledge-snapshot.js';

/**
 * The knowledge base: the current snapshot and the one way to change it (an event through
 * `fold`). Listeners hear every change, e.g. the background loop reacting to a new policy.
 */
export class KnowledgeBase {
  private snapshot: KnowledgeSnapshot;
  private readonly listeners = new Set<(k: KnowledgeSnapshot, event: KnowledgeEvent) => void>();

  constructor(initial: KnowledgeSnapshot) {
    this.snapshot = initial;
  }

  current(): KnowledgeSnapshot {
    return this.snapshot;
  }

  /** The snapshot as of `at`: the current knowledge, with time moved on. */
  at(at: number): KnowledgeSnapshot {
    return at > this.snapshot.at ? snapshotWith(this.snapshot, { at }) : this.snapshot;
  }

  apply(event: KnowledgeEvent): KnowledgeSnapshot {
    this.snapshot = fold(this.snapshot, event);
    for (const listener of this.listeners) listener(this.snapshot, event);
    return this.snapshot;
  }

  onChange(listener: (k: KnowledgeSnapshot, event: KnowledgeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
