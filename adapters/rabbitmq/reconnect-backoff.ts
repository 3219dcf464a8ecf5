/**
 * The wait before reconnect attempt `attempt` (1, 2, …): exponential from `minMs`, capped at
 * `maxMs`, with "equal jitter" (a random point in the upper half) so many consumers that lost the
 * same broker do not come back in lockstep, and never less than half of `minMs`, so a broker that
 * refuses at once cannot cause a hot loop.
 */
export function reconnectDelayMs(attempt: number, bounds: { readonly minMs: number; readonly maxMs: number }, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(bounds.maxMs, bounds.minMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
