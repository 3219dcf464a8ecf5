import type { DecisionRecord } from '../audit/decision-record.js';
import type { MetricSample } from './metrics-source.js';

/**
 * Where decisions and metric samples go for researchers (InfluxDB for Grafana and experiments).
 * Writing never blocks a request: records are buffered and written in the background; when the
 * store is down the buffer is bounded and the oldest records are dropped (and counted).
 */
export interface TelemetrySink {
  readonly name: string;
  recordDecision(record: DecisionRecord): void;
  recordSamples(samples: readonly MetricSample[]): void;
  /** Tries to write everything buffered; resolves when written or given up for now. */
  flush(): Promise<void>;
  /** Flushes once more, then stops. Idempotent. */
  close(): Promise<void>;
}
