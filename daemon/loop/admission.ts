import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';

export interface AdmissionLimits {
  /** Jobs running at once, over all parties. */
  readonly maxJobs: number;
  /** Jobs running at once at one party. */
  readonly maxJobsPerParty: number;
  /** Requests waiting for room; one more is refused with OVERLOADED. */
  readonly maxQueued: number;
  /** A request waits at most this long for room, then is refused with OVERLOADED. */
  readonly maxWaitMs: number;
}

interface Waiter {
  readonly parties: readonly string[];
  readonly grant: (release: () => void) => void;
  readonly refuse: (error: DynamosError) => void;
  timer?: unknown;
}

/**
 * Room for jobs: a request's jobs (one per party) start only when every one of them fits under the
 * global and the per-party limits, else the request waits in a bounded queue. A full queue, or a
 * wait past `maxWaitMs`, is refused with OVERLOADED and a `retryAfterSeconds` estimated from how
 * long recent requests held their room.
 *
 * Waiters are granted in arrival order. One whose party is full may be passed by a later one for
 * other parties, but nobody passes the head for global room, so a three-party request is not
 * starved by a stream of one-party ones.
 */
export class Admission {
  private running = 0;
  private readonly perParty = new Map<string, number>();
  private readonly queue: Waiter[] = [];
  /** Exponential average of how long a request holds its room, in ms. */
  private heldMs = 1_000;

  constructor(
    readonly limits: AdmissionLimits,
    private readonly clock: Clock,
  ) {}

  /**
   * Resolves with `release` once the jobs of `parties` may run; call it when they ended.
   * @throws DynamosError OVERLOADED when the queue is full or the wait passed its limit,
   *   JOB_CANCELLED when `signal` aborts while waiting
   */
  acquire(parties: readonly string[], signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (parties.length > this.limits.maxJobs) return Promise.reject(this.overloaded(`the request needs ${parties.length} jobs, more than the ${this.limits.maxJobs} this daemon runs at once`, false));
    if (this.fits(parties) && !this.queue.some((w) => this.needsGlobalRoom(w))) return Promise.resolve(this.take(parties));
    if (this.queue.length >= this.limits.maxQueued) {
      return Promise.reject(this.overloaded(`every job slot is taken and ${this.queue.length} requests are waiting (limits.jobs.maxQueued)`, true));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.leave(waiter);
        reject(cancelled());
      };
      const waiter: Waiter = {
        parties,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        refuse: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      waiter.timer = this.clock.setTimeout(() => {
        this.leave(waiter);
        waiter.refuse(this.overloaded(`no job slot came free within ${this.limits.maxWaitMs} ms (limits.jobs.maxWaitMs)`, true));
      }, this.limits.maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** What is running and waiting now, for /healthz and the daemon's metrics. */
  get state(): { readonly runningJobs: number; readonly queuedRequests: number } {
    return { runningJobs: this.running, queuedRequests: this.queue.length };
  }

  private fits(parties: readonly string[]): boolean {
    if (this.running + parties.length > this.limits.maxJobs) return false;
    return parties.every((p) => (this.perParty.get(p) ?? 0) + parties.filter((q) => q === p).length <= this.limits.maxJobsPerParty);
  }

  private needsGlobalRoom(waiter: Waiter): boolean {
    return this.running + waiter.parties.length > this.limits.maxJobs;
  }

  private take(parties: readonly string[]): () => void {
    this.running += parties.length;
    for (const p of parties) this.perParty.set(p, (this.perParty.get(p) ?? 0) + 1);
    const since = this.clock.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= parties.length;
      for (const p of parties) this.perParty.set(p, (this.perParty.get(p) ?? 1) - 1);
      this.heldMs = 0.8 * this.heldMs + 0.2 * Math.max(0, this.clock.now() - since);
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    for (let i = 0; i < this.queue.length; ) {
      const waiter = this.queue[i] as Waiter;
      if (this.fits(waiter.parties)) {
        this.leave(waiter);
        waiter.grant(this.take(waiter.parties));
        continue;
      }
      if (this.needsGlobalRoom(waiter)) return;
      i++;
    }
  }

  private leave(waiter: Waiter): void {
    const at = this.queue.indexOf(waiter);
    if (at >= 0) this.queue.splice(at, 1);
    if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
  }

  private overloaded(why: string, retryable: boolean): DynamosError {
    // The queue ahead drains at maxJobs requests per average hold; at least a second, at most a minute.
    const ahead = this.queue.length + 1;
    const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil((ahead * this.heldMs) / Math.max(1, this.limits.maxJobs) / 1000)));
    return new DynamosError('OVERLOADED', `the daemon is at capacity: ${why}; try again in ${retryAfterSeconds} s`, { retryable, details: { retryAfterSeconds } });
  }
}

function cancelled(): DynamosError {
  return new DynamosError('JOB_CANCELLED', 'the request was cancelled while it waited for a job slot', { retryable: false });
}
