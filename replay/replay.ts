import type { StrategyConfigInput } from '../daemon/mape/strategies/index.js';
import { createStrategy, strategyConfigSchema } from '../daemon/mape/strategies/index.js';
import type { DataRequest } from '../knowledge/data-request.js';
import { DynamosError } from '../knowledge/errors.js';
import { validateMarketplace } from '../knowledge/marketplace/load-marketplace.js';
import type { MetricSample } from '../knowledge/ports/metrics-source.js';
import { signals } from '../knowledge/ports/metrics-source.js';
import type { TraceHeader } from './traces/trace-format.js';
import type { TraceReader } from './traces/trace-file.js';
import type { StrategySummary, TimelineBucket } from './replay-stats.js';
import { StrategyStats } from './replay-stats.js';
import { ReplayWorld } from './replay-world.js';
import type { RequestRecord } from './strategy-run.js';
import { StrategyRun } from './strategy-run.js';

export interface ReplayOptions {
  /** Strategies to compare, each as the daemon's settings name it (`{ name: 'utility', options: … }`). */
  readonly strategies: readonly StrategyConfigInput[];
  /** Seed of the job model's noise. */
  readonly seed: number;
  /** The hold-down window switches are counted in. @default 60000, the utility strategy's default */
  readonly holdDownMs?: number;
  /** Called as simulated time passes, with the fraction of the trace done. */
  readonly onProgress?: (fraction: number) => void;
  /** Every request's record, per strategy, in arrival order. */
  readonly onRecord?: (strategy: string, record: RequestRecord) => void;
}

export interface ReplayResult {
  readonly header: TraceHeader;
  readonly seed: number;
  readonly summaries: readonly StrategySummary[];
  readonly timeline: readonly TimelineBucket[];
  /** Requests in the trace. */
  readonly requests: number;
  readonly bucketMs: number;
}

/**
 * Replays a trace once for every strategy, reading it once: each strategy gets its own knowledge
 * base and the same events, and decides each request with the daemon's own Analyze, Plan and
 * strategy code on the trace's clock. Deterministic: the same trace, strategies and seed give the
 * same records. Memory stays flat in the trace's length (docs/replay.md).
 * @throws DynamosError CONFIG_INVALID when the trace's marketplace or a strategy is invalid
 */
export async function replayTrace(trace: TraceReader, opts: ReplayOptions): Promise<ReplayResult> {
  const { header } = trace;
  const checked = validateMarketplace(header.marketplace, '/replay');
  if (!checked.ok) {
    throw new DynamosError('CONFIG_INVALID', `the trace's marketplace is invalid: ${checked.problems.map((p) => `marketplace.${p.path}: ${p.message}`).join('; ')}`, { retryable: false });
  }
  const world = new ReplayWorld(header.marketplace);
  // readTraceFile knows a recording's length from its last event; lines alone may not: then 0.
  const durationMs = trace.durationMs ?? 0;
  const bucketMs = Math.max(1_000, Math.ceil(durationMs / 120 / 1_000) * 1_000);
  const runs = opts.strategies.map((input) => {
    const parsed = strategyConfigSchema.safeParse(input);
    if (!parsed.success) throw new DynamosError('CONFIG_INVALID', `strategy ${JSON.stringify(input)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`, { retryable: false });
    const strategy = createStrategy(parsed.data);
    const stats = new StrategyStats(strategy.name, bucketMs, opts.holdDownMs ?? 60_000);
    const run = new StrategyRun(strategy, checked.marketplace, header.dataBytes, world, opts.seed, (record) => {
      stats.add(record);
      opts.onRecord?.(strategy.name, record);
    });
    return { run, stats };
  });
  const names = runs.map((r) => r.run.strategy.name);
  if (new Set(names).size !== names.length) throw new DynamosError('CONFIG_INVALID', `each strategy may be replayed once: ${names.join(', ')}`, { retryable: false });

  let samples: MetricSample[] = [];
  let samplesAt = 0;
  let wentDown: string[] = [];
  const flushSamples = () => {
    if (samples.length === 0) return;
    const reading = { at: samplesAt, samples, failures: [] };
    for (const { run } of runs) {
      run.metrics(reading);
      for (const party of wentDown) run.partyDown(party, samplesAt);
    }
    samples = [];
    wentDown = [];
  };

  let requests = 0;
  let nextProgress = 0;
  for await (const event of trace.events()) {
    if (event.kind !== 'metrics' || event.at !== samplesAt) flushSamples();
    for (const { run } of runs) run.advanceTo(event.at);
    if (opts.onProgress !== undefined && event.at >= nextProgress) {
      opts.onProgress(durationMs === 0 ? 0 : Math.min(1, event.at / durationMs));
      nextProgress = event.at + Math.max(1, durationMs / 200);
    }
    switch (event.kind) {
      case 'metrics': {
        samplesAt = event.at;
        for (const signal of signals) {
          const value = event[signal];
          if (value !== undefined) samples.push({ party: event.party, signal, value, at: event.at });
        }
        if (world.sample(event)) wentDown.push(event.party);
        break;
      }
      case 'request': {
        requests++;
        const request: DataRequest = {
          id: event.id,
          requester: event.requester,
          requesterId: event.requester,
          type: event.requestType,
          providers: event.providers,
          query: '',
          tables: event.tables,
          algorithm: event.algorithm,
          options: event.options,
          metadata: {},
        };
        for (const { run } of runs) run.request(request, event.at);
        break;
      }
      case 'agreement':
        world.agreement(event);
        for (const { run } of runs) run.agreement(event.steward, event.agreement, event.at);
        break;
      case 'party': {
        const down = world.mark(event.party, event.online);
        for (const { run } of runs) {
          run.party(event.party, event.online, event.at);
          if (down) run.partyDown(event.party, event.at);
        }
        break;
      }
      case 'outcome':
        // What happened in the recorded run; the replay decides and models its own outcomes.
        break;
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  }
  flushSamples();
  for (const { run } of runs) run.advanceTo(Number.POSITIVE_INFINITY);
  opts.onProgress?.(1);
  return {
    header,
    seed: opts.seed,
    summaries: runs.map(({ stats }) => stats.summary()),
    timeline: runs.flatMap(({ stats }) => stats.timeline()),
    requests,
    bucketMs,
  };
}
