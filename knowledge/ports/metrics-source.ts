/**
 * Where the Monitor phase reads the parties' state: CPU and memory load, RabbitMQ queue depth,
 * power draw and liveness. Adapters: Prometheus (clusters), the local machine (embedded default),
 * a fake world (tests and replay).
 */
export const signals = ['cpu', 'memory', 'queueDepth', 'powerWatts', 'up'] as const;
export type Signal = (typeof signals)[number];

/**
 * One reading of one signal of one party.
 * - `cpu`, `memory`: fraction of the party's capacity in use, 0..1;
 * - `queueDepth`: messages waiting in the party's queues;
 * - `powerWatts`: power the party's workloads draw (from Kepler's joule counters, or estimated);
 * - `up`: 1 when the party answers, 0 when it does not.
 */
export interface MetricSample {
  readonly party: string;
  readonly signal: Signal;
  readonly value: number;
  /** When the value was observed (ms since the epoch), which may be before it was read. */
  readonly at: number;
}

export interface MetricsReading {
  /** When the read finished (ms since the epoch). */
  readonly at: number;
  readonly samples: readonly MetricSample[];
  /** Signals that could not be read this time, and why: a partial answer is still an answer. */
  readonly failures: readonly { readonly signal: Signal; readonly reason: string }[];
}

export interface MetricsSource {
  readonly name: string;
  /**
   * The latest value of every signal it can read for these parties. Rejects only when nothing at
   * all could be read (the source is down); a signal that failed is listed in `failures`.
   */
  read(parties: readonly string[], signal?: AbortSignal): Promise<MetricsReading>;
  /** Idempotent. */
  close(): Promise<void>;
}
