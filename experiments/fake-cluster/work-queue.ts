/**
 * A controller's queue of keys, as client-go's workqueue: a key added many times before it is
 * handled is handled once, one key at a time, so a handler always reads the latest state
 * (level-triggered). `addAfter` is for what the world does not announce: a deadline, a backoff.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly handle: (key: string) => void | Promise<void>,
    private readonly onError: (key: string, error: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.closed) return;
    this.pending.add(key);
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Adds the key once `delayMs` have passed (at once when not positive). */
  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, delayMs);
    this.timers.add(timer);
  }

  /** Stops taking keys and timers; resolves once the key being handled is done. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
    await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.closed) {
      const [key] = this.pending;
      if (key === undefined) break;
      this.pending.delete(key);
      try {
        await this.handle(key);
      } catch (error) {
        this.onError(key, error);
      }
      // Let timers and sockets run between keys, whatever the handlers do.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.draining = undefined;
  }
}
