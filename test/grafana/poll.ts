import { setTimeout as delay } from 'node:timers/promises';

/**
 * Asks `probe` until it returns a value, for at most `limitMs`: the servers work in real time, so
 * a test waits for what it needs instead of sleeping. A probe that throws counts as "not yet".
 * Resolves to undefined when the deadline passes, so the caller can report what was missing.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, limitMs = 30_000): Promise<T | undefined> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await delay(250);
  }
}
