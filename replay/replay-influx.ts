import { InfluxDB } from 'influx';
import type { IPoint } from 'influx';
import { DynamosError } from '../knowledge/errors.js';
import type { StrategySummary } from './replay-stats.js';
import type { RequestRecord } from './strategy-run.js';

export const replayRequestMeasurement = 'replay_request';
export const replaySummaryMeasurement = 'replay_summary';

const batchSize = 5_000;

/**
 * Writes a replay's results to InfluxDB 1.x for the experiments dashboard (grafana/, docs/replay.md#influxdb):
 * one `replay_request` point per request and one `replay_summary` point per strategy. Simulated
 * time is anchored so the run ends now, which puts it in Grafana's default time range; points
 * carry microseconds so two requests in one millisecond stay two points.
 */
export class ReplayInfluxWriter {
  private readonly client: InfluxDB;
  private readonly database: string;
  private batch: IPoint[] = [];
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private seq = 0;

  private constructor(url: URL, private readonly trace: string, private readonly anchorMs: number) {
    this.database = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, '')) || 'dynamos';
    this.client = new InfluxDB({ host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)), protocol: url.protocol === 'https:' ? 'https' : 'http', database: this.database });
  }

  /**
   * Connects and creates the database when missing.
   * @throws DynamosError ADAPTER_UNAVAILABLE when InfluxDB does not answer
   */
  static async open(url: string, trace: string, durationMs: number, now = Date.now()): Promise<ReplayInfluxWriter> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DynamosError('REQUEST_INVALID', `--influx: not a URL: ${url}`, { retryable: false });
    }
    const writer = new ReplayInfluxWriter(parsed, trace, now - durationMs);
    try {
      await writer.client.createDatabase(writer.database);
    } catch (error) {
      throw new DynamosError('ADAPTER_UNAVAILABLE', `InfluxDB at ${url} did not answer: ${(error as Error).message}`, { retryable: true });
    }
    return writer;
  }

  request(strategy: string, r: RequestRecord): void {
    const archetype = r.choice === null ? 'none' : (r.choice.split('@')[0] as string);
    this.batch.push({
      measurement: replayRequestMeasurement,
      tags: { trace: this.trace, strategy, archetype, result: r.result },
      fields: { latency_ms: r.latencyMs, energy_j: r.energyJoules, utility: r.utility, switched: r.switched ? 1 : 0 },
      timestamp: this.micros(r.at),
    });
    if (this.batch.length >= batchSize) this.flush();
  }

  /** Writes the summaries and whatever is left, and waits for every write. @throws the first write's error */
  async close(summaries: readonly StrategySummary[], durationMs: number): Promise<void> {
    for (const s of summaries) {
      const { strategy, results: _results, ...numbers } = s;
      const fields = Object.fromEntries(Object.entries(numbers).map(([k, v]) => [snake(k), v]));
      this.batch.push({ measurement: replaySummaryMeasurement, tags: { trace: this.trace, strategy }, fields, timestamp: this.micros(durationMs) });
    }
    this.flush();
    await this.writing;
    if (this.failure !== undefined) throw new DynamosError('ADAPTER_UNAVAILABLE', `writing to InfluxDB failed: ${this.failure.message}`, { retryable: true });
  }

  private micros(atMs: number): string {
    return String((Math.round(this.anchorMs + atMs) * 1000 + (this.seq++ % 1000)));
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const points = this.batch;
    this.batch = [];
    this.writing = this.writing.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await this.client.writePoints(points, { precision: 'u', database: this.database });
      } catch (error) {
        this.failure = error as Error;
      }
    });
  }
}

/** `latencyP50Ms` → `latency_p50_ms`. */
function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}
