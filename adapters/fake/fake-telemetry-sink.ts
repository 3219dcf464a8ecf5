import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import type { MetricSample } from '../../knowledge/ports/metrics-source.js';
import type { TelemetrySink } from '../../knowledge/ports/telemetry-sink.js';

/** What a fake sink has done so far; the same shape as the InfluxDB sink's stats. */
export interface FakeTelemetrySinkStats {
  readonly written: number;
  readonly dropped: number;
  readonly buffered: number;
  readonly lastError: string | undefined;
}

export interface FakeTelemetrySinkOptions {
  /** Records kept while the world is down; beyond it the oldest are dropped. @default 10000 */
  readonly bufferSize?: number;
}

type Entry = { readonly kind: 'decision'; readonly record: DecisionRecord } | { readonly kind: 'sample'; readonly sample: MetricSample };

/**
 * An in-memory telemetry store for tests and replay: what sinks wrote is in `decisions` and
 * `samples`. `down()` makes the store unreachable until `up()`.
 *
 * Simpler than InfluxDB, on purpose: while the world is up a record is stored at once (no flush
 * interval, no batches); while it is down records wait in each sink's bounded buffer (oldest
 * dropped beyond `bufferSize`, counted), and `up()` delivers every waiting record at once, as a
 * retry that succeeds would. A decision and a sample each count as one buffered record.
 */
export class FakeTelemetryWorld {
  readonly decisions: DecisionRecord[] = [];
  readonly samples: MetricSample[] = [];
  private isUp = true;
  private readonly sinks = new Set<FakeTelemetrySink>();

  get online(): boolean {
    return this.isUp;
  }

  down(): void {
    this.isUp = false;
  }

  up(): void {
    this.isUp = true;
    for (const sink of this.sinks) sink.deliver();
  }

  sink(options: FakeTelemetrySinkOptions = {}): FakeTelemetrySink {
    const sink = new FakeTelemetrySink(this, options.bufferSize ?? 10_000, (s) => this.sinks.delete(s));
    this.sinks.add(sink);
    return sink;
  }

  /** @internal what a sink's write does: true when the store took the record. */
  store(entry: Entry): boolean {
    if (!this.isUp) return false;
    if (entry.kind === 'decision') this.decisions.push(entry.record);
    else this.samples.push(entry.sample);
    return true;
  }
}

export class FakeTelemetrySink implements TelemetrySink {
  readonly name = 'fake';
  private buffer: Entry[] = [];
  private written = 0;
  private droppedRecords = 0;
  private lastError: string | undefined;
  private closed = false;

  constructor(
    private readonly world: FakeTelemetryWorld,
    private readonly bufferSize: number,
    private readonly detach: (sink: FakeTelemetrySink) => void,
  ) {}

  recordDecision(record: DecisionRecord): void {
    this.record([{ kind: 'decision', record }]);
  }

  recordSamples(samples: readonly MetricSample[]): void {
    this.record(samples.map((sample) => ({ kind: 'sample', sample })));
  }

  flush(): Promise<void> {
    this.deliver();
    return Promise.resolve();
  }

  /** Delivers what is buffered, then stops; what the world did not take is dropped. Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.deliver();
    this.closed = true;
    this.droppedRecords += this.buffer.length;
    this.buffer = [];
    this.detach(this);
    return Promise.resolve();
  }

  /** Nothing runs in the background here: always settled. */
  idle(): Promise<void> {
    return Promise.resolve();
  }

  get dropped(): number {
    return this.droppedRecords;
  }

  stats(): FakeTelemetrySinkStats {
    return { written: this.written, dropped: this.droppedRecords, buffered: this.buffer.length, lastError: this.lastError };
  }

  /** @internal called by the world when it comes back up. */
  deliver(): void {
    while (this.buffer.length > 0) {
      const next = this.buffer[0] as Entry;
      if (!this.world.store(next)) {
        this.lastError = 'the fake telemetry store is down';
        return;
      }
      this.buffer.shift();
      this.written += 1;
    }
  }

  private record(entries: readonly Entry[]): void {
    if (this.closed) {
      this.droppedRecords += entries.length;
      return;
    }
    for (const entry of entries) this.buffer.push(entry);
    const excess = this.buffer.length - this.bufferSize;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.droppedRecords += excess;
    }
    this.deliver();
  }
}
