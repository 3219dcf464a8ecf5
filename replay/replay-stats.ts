import type { RequestRecord, RequestResult } from './strategy-run.js';
import { requestResults } from './strategy-run.js';

/** One strategy's results over a whole replay (docs/replay.md#the-report). */
export interface StrategySummary {
  readonly strategy: string;
  readonly requests: number;
  /** Deployed: policy allowed them and a way to run them was chosen. */
  readonly authorised: number;
  readonly denied: number;
  readonly results: Readonly<Record<RequestResult, number>>;
  /** Over the requests that were answered (completed or incomplete), ms. */
  readonly latencyP50Ms: number;
  readonly latencyP95Ms: number;
  readonly latencyP99Ms: number;
  readonly energyTotalJ: number;
  /** Total energy ÷ requests. */
  readonly energyPerRequestJ: number;
  /** Mean realised utility over every request (0 for those not answered as asked). */
  readonly utilityMean: number;
  readonly switches: number;
  /** The most switches of one requester and provider set inside any hold-down window. */
  readonly maxSwitchesPerHoldDown: number;
  readonly policyViolations: number;
}

/** One time bucket of one strategy, for the figures. */
export interface TimelineBucket {
  readonly strategy: string;
  /** Bucket start, minutes since the trace began. */
  readonly minute: number;
  readonly requests: number;
  readonly meanLatencyMs: number | null;
  readonly energyPerRequestJ: number | null;
  /** Requests per choice (`denied` for none). */
  readonly choices: Readonly<Record<string, number>>;
}

const round = (x: number, digits = 3) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * Folds request records, in arrival order, into a summary and a timeline in memory bounded by the number of
 * buckets and choice keys, except the answered latencies kept for exact percentiles (8 bytes a
 * request).
 */
export class StrategyStats {
  private requests = 0;
  private readonly results = Object.fromEntries(requestResults.map((r) => [r, 0])) as Record<RequestResult, number>;
  private latencies = new Float64Array(1024);
  private answered = 0;
  private energy = 0;
  private utility = 0;
  private switches = 0;
  private violations = 0;
  private maxInWindow = 0;
  private readonly recentSwitches = new Map<string, number[]>();
  private readonly buckets = new Map<number, { requests: number; latency: number; answered: number; energy: number; choices: Map<string, number> }>();

  constructor(
    readonly strategy: string,
    private readonly bucketMs: number,
    private readonly holdDownMs: number,
  ) {}

  add(r: RequestRecord): void {
    this.requests++;
    this.results[r.result]++;
    this.energy += r.energyJoules;
    this.utility += r.utility;
    if (r.violation !== undefined) this.violations++;
    const answered = r.result === 'completed' || r.result === 'incomplete';
    if (answered) this.keepLatency(r.latencyMs);
    if (r.switched) this.countSwitch(r.key, r.at);
    const start = Math.floor(r.at / this.bucketMs) * this.bucketMs;
    let bucket = this.buckets.get(start);
    if (bucket === undefined) {
      bucket = { requests: 0, latency: 0, answered: 0, energy: 0, choices: new Map() };
      this.buckets.set(start, bucket);
    }
    bucket.requests++;
    bucket.energy += r.energyJoules;
    if (answered) {
      bucket.answered++;
      bucket.latency += r.latencyMs;
    }
    const choice = r.choice ?? 'denied';
    bucket.choices.set(choice, (bucket.choices.get(choice) ?? 0) + 1);
  }

  summary(): StrategySummary {
    const sorted = this.latencies.slice(0, this.answered).sort();
    const q = (p: number) => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number));
    const denied = this.results.denied;
    return {
      strategy: this.strategy,
      requests: this.requests,
      authorised: this.requests - denied,
      denied,
      results: { ...this.results },
      latencyP50Ms: q(0.5),
      latencyP95Ms: q(0.95),
      latencyP99Ms: q(0.99),
      energyTotalJ: round(this.energy),
      energyPerRequestJ: this.requests === 0 ? 0 : round(this.energy / this.requests),
      utilityMean: this.requests === 0 ? 0 : round(this.utility / this.requests, 4),
      switches: this.switches,
      maxSwitchesPerHoldDown: this.maxInWindow,
      policyViolations: this.violations,
    };
  }

  timeline(): TimelineBucket[] {
    return [...this.buckets.entries()]
      .sort(([x], [y]) => x - y)
      .map(([start, b]) => ({
        strategy: this.strategy,
        minute: round(start / 60_000, 4),
        requests: b.requests,
        meanLatencyMs: b.answered === 0 ? null : round(b.latency / b.answered),
        energyPerRequestJ: b.requests === 0 ? null : round(b.energy / b.requests),
        choices: Object.fromEntries([...b.choices.entries()].sort(([x], [y]) => x.localeCompare(y))),
      }));
  }

  private keepLatency(ms: number): void {
    if (this.answered === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.answered++] = ms;
  }

  /** Switches of one key inside the last hold-down window, kept as their times. */
  private countSwitch(key: string, at: number): void {
    this.switches++;
    const recent = (this.recentSwitches.get(key) ?? []).filter((t) => at - t < this.holdDownMs);
    recent.push(at);
    this.recentSwitches.set(key, recent);
    this.maxInWindow = Math.max(this.maxInWindow, recent.length);
  }
}
