import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { JobProcessOptions } from './job-process.js';
import { JobProcess } from './job-process.js';

const maxBackoffMs = 30_000;

/**
 * Keeps `size` fresh job processes started and waiting, so a job starts without paying for
 * process start-up. A process is handed out once and never comes back: the pool holds only
 * processes that have run nothing. Start-up failures back off exponentially instead of looping.
 */
export class WarmPool {
  private readonly idle: JobProcess[] = [];
  private failures = 0;
  private refillTimer: unknown;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly processOptions: JobProcessOptions,
    private readonly deps: { logger: Logger; clock: Clock },
  ) {
    this.refill();
  }

  /**
   * A fresh process, from the pool when one is waiting, else started now. The pool does not refill
   * itself here: starting processes while a request runs would take CPU from it. Call `refill`
   * once the request is done.
   */
  take(): JobProcess {
    return this.idle.shift() ?? this.spawn();
  }

  /** Resolves when every waiting process is ready (or has died trying). */
  async whenWarm(): Promise<void> {
    await Promise.all(this.idle.map((p) => p.ready.catch(() => undefined)));
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Kills every waiting process; safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.refillTimer !== undefined) this.deps.clock.clearTimeout(this.refillTimer);
    const waiting = this.idle.splice(0);
    for (const p of waiting) p.kill();
    await Promise.all(waiting.map((p) => p.exited));
  }

  private spawn(): JobProcess {
    return new JobProcess(this.processOptions);
  }

  /** Starts processes until `size` wait (unless closed or backing off after failures). */
  refill(): void {
    if (this.closed || this.refillTimer !== undefined) return;
    while (this.idle.length < this.size) {
      const p = this.spawn();
      this.idle.push(p);
      p.ready.then(
        () => (this.failures = 0),
        (error: unknown) => this.onStartFailure(p, error),
      );
      void p.exited.then(() => this.drop(p));
    }
  }

  private drop(p: JobProcess): void {
    const at = this.idle.indexOf(p);
    if (at >= 0) this.idle.splice(at, 1);
  }

  private onStartFailure(p: JobProcess, error: unknown): void {
    this.drop(p);
    if (this.closed) return;
    this.failures++;
    const delay = Math.min(maxBackoffMs, 100 * 2 ** this.failures);
    this.deps.logger.error('a warm job process died before it was ready; starting another after a pause', {
      error: (error as Error).message,
      retryInMs: delay,
    });
    this.refillTimer ??= this.deps.clock.setTimeout(() => {
      this.refillTimer = undefined;
      this.refill();
    }, delay);
  }
}
