/** Summary statistics of repeated measurements, in the unit they were taken in. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { n: sorted.length, median: round(quantileMedian(sorted)), p90: round(at(0.9)), p99: round(at(0.99)), min: round(sorted[0] as number), max: round(sorted[sorted.length - 1] as number) };
}

function quantileMedian(sorted: readonly number[]): number {
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? (sorted[Math.floor(mid)] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}
