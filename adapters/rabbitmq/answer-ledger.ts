import type { QueueVerdict } from '../../knowledge/ports/request-queue.js';

/** Remembers the most recently added keys, forgetting the oldest beyond `capacity`. */
export class BoundedMemory<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Sets `key` and makes it the most recent. */
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** One message id being handled: its handler's verdict, once known, and the answer's publication. */
interface Handling<R> {
  readonly request: R;
  readonly verdict: Promise<QueueVerdict>;
  settled: QueueVerdict | undefined;
  publishing: Promise<boolean> | undefined;
}

/** A delivery's part in the handling of its id, started by it or joined. */
export interface JoinedHandling<R> {
  readonly verdict: Promise<QueueVerdict>;
  /** Whether this delivery started the handler run. */
  readonly started: boolean;
  /**
   * Publishes this handling's verdict once (see {@link AnswerLedger.publishOnce}). Bound to the
   * handling rather than the id: a delivery that joined a retry still learns that the retry was
   * put back after the id was forgotten.
   */
  publishOnce(publish: (request: R, verdict: QueueVerdict) => Promise<void>): Promise<boolean>;
}

/**
 * What the queue knows per message id, so a request is run and answered once however often the
 * broker delivers it: the handlings under way (a redelivery joins the running one), the verdicts
 * not yet published (kept across a lost connection and published after reconnecting), the ids
 * answered (bounded: least recently answered forgotten first) and how often each id's handler
 * threw. `R` is what publishing needs of the request. A `retryLater` verdict is not an answer:
 * once its copy is in the delay queue (or its publish failed) the id's handling is forgotten, not
 * recorded as answered, so the request is handled afresh when it returns.
 */
export class AnswerLedger<R> {
  private readonly answered: BoundedMemory<true>;
  private readonly failures: BoundedMemory<number>;
  private readonly handlings = new Map<string, Handling<R>>();

  constructor(memorySize: number) {
    this.answered = new BoundedMemory(memorySize);
    this.failures = new BoundedMemory(memorySize);
  }

  /** Whether `id`'s answer was confirmed by the broker (or the id dead-lettered). */
  isAnswered(id: string): boolean {
    return this.answered.has(id);
  }

  /**
   * The verdict for `id`: the handling under way or kept, or a new one from `run`. `started` says
   * whether this call started it. A run that throws is forgotten (the next delivery runs again)
   * and counted in {@link failuresOf}.
   */
  handle(id: string, request: R, run: () => Promise<QueueVerdict>): JoinedHandling<R> {
    const current = this.handlings.get(id);
    if (current !== undefined) return this.joined(id, current, false);
    const handling: Handling<R> = {
      request,
      settled: undefined,
      publishing: undefined,
      verdict: Promise.resolve()
        .then(run)
        .then(
          (verdict) => {
            handling.settled = verdict;
            return verdict;
          },
          (error: unknown) => {
            this.handlings.delete(id);
            this.failures.set(id, (this.failures.get(id) ?? 0) + 1);
            throw error;
          },
        ),
    };
    this.handlings.set(id, handling);
    return this.joined(id, handling, true);
  }

  /** How often `id`'s handler has thrown. */
  failuresOf(id: string): number {
    return this.failures.get(id) ?? 0;
  }

  /**
   * Publishes `id`'s settled verdict once: callers at the same time share one attempt. Resolves
   * true when the answer is confirmed (now or earlier), false when the attempt failed (the verdict
   * stays kept for a later attempt) or there is no settled verdict.
   */
  async publishOnce(id: string, publish: (request: R, verdict: QueueVerdict) => Promise<void>): Promise<boolean> {
    if (this.answered.has(id)) return true;
    const handling = this.handlings.get(id);
    return handling === undefined ? false : this.publishHandling(id, handling, publish);
  }

  /** Records `id` as answered without a handler (dead-lettered before it ran). */
  markAnswered(id: string): void {
    this.answered.set(id, true);
    this.handlings.delete(id);
    this.failures.delete(id);
  }

  /** Ids whose answer (not a `retryLater`) is known but not yet published, and no attempt is under way. */
  keptAnswers(): string[] {
    return [...this.handlings].filter(([, h]) => h.settled !== undefined && h.settled.kind !== 'retryLater' && h.publishing === undefined).map(([id]) => id);
  }

  private joined(id: string, handling: Handling<R>, started: boolean): JoinedHandling<R> {
    return { verdict: handling.verdict, started, publishOnce: (publish) => this.publishHandling(id, handling, publish) };
  }

  private publishHandling(id: string, handling: Handling<R>, publish: (request: R, verdict: QueueVerdict) => Promise<void>): Promise<boolean> {
    if (this.answered.has(id)) return Promise.resolve(true);
    const verdict = handling.settled;
    if (verdict === undefined) return Promise.resolve(false);
    const deferred = verdict.kind === 'retryLater';
    handling.publishing ??= publish(handling.request, verdict).then(
      () => {
        if (deferred) this.forget(id, handling);
        else this.markAnswered(id);
        return true;
      },
      () => {
        // A retry not put back is dropped rather than kept: the broker redelivers the request.
        if (deferred) this.forget(id, handling);
        else handling.publishing = undefined;
        return false;
      },
    );
    return handling.publishing;
  }

  private forget(id: string, handling: Handling<R>): void {
    if (this.handlings.get(id) === handling) this.handlings.delete(id);
  }

  /** Handlings whose verdict is not yet published, running or not. */
  get unanswered(): number {
    return this.handlings.size;
  }
}
