import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { StrategyConfigInput } from '../daemon/mape/strategies/index.js';
import { DynamosError } from '../knowledge/errors.js';
import { readTraceFile } from './traces/trace-file.js';
import type { ReplayResult } from './replay.js';
import { replayTrace } from './replay.js';
import { figureSpecs, renderFigures } from './replay-figures.js';
import { ReplayInfluxWriter } from './replay-influx.js';
import { reportCsv, reportJson } from './replay-report.js';
import type { RequestRecord } from './strategy-run.js';

export interface ReplayRunOptions {
  readonly strategies: readonly StrategyConfigInput[];
  readonly seed: number;
  /** Where report.json, report.csv, the decisions files and the figures go; nothing is written without it. */
  readonly outDir?: string;
  /** Also write the results to this InfluxDB 1.x (`http://host:8086[/database]`). */
  readonly influxUrl?: string;
  readonly onProgress?: (fraction: number) => void;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A decisions-file line: the record with its numbers rounded to the microsecond and millijoule. */
export function decisionLine(r: RequestRecord): string {
  return `${JSON.stringify({ ...r, at: round3(r.at), endAt: round3(r.endAt), latencyMs: round3(r.latencyMs), energyJoules: round3(r.energyJoules), utility: Math.round(r.utility * 1e6) / 1e6 })}\n`;
}

/** Buffered line writer: a replay emits a line per request, so lines go out in 64 KiB writes. */
class LineFile {
  private readonly fd: number;
  private buffer = '';

  constructor(file: string) {
    this.fd = openSync(file, 'w');
  }

  write(line: string): void {
    this.buffer += line;
    if (this.buffer.length >= 65_536) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }
}

export function traceNameOf(file: string): string {
  return path.basename(file).replace(/\.jsonl?$/, '');
}

/**
 * Replays a trace file and writes what it found (docs/replay.md#outputs): `report.json`,
 * `report.csv`, `decisions-<strategy>.jsonl` and three SVG figures in `outDir`, and the points of
 * the experiments dashboard to InfluxDB. Same trace, strategies and seed → the same bytes.
 * @throws DynamosError CONFIG_INVALID for a bad trace or strategy; ADAPTER_UNAVAILABLE when InfluxDB fails
 */
export async function replayToFiles(traceFile: string, opts: ReplayRunOptions): Promise<ReplayResult> {
  const trace = await readTraceFile(traceFile).catch((error: unknown) => {
    if (error instanceof DynamosError) throw error;
    throw new DynamosError('CONFIG_INVALID', `cannot read ${traceFile}: ${(error as Error).message}`, { retryable: false });
  });
  const name = traceNameOf(traceFile);
  const durationMs = trace.durationMs ?? 0;
  const influx = opts.influxUrl === undefined ? undefined : await ReplayInfluxWriter.open(opts.influxUrl, name, durationMs);
  if (opts.outDir !== undefined) mkdirSync(opts.outDir, { recursive: true });
  const files = new Map<string, LineFile>();
  const decisions = (strategy: string) => {
    let file = files.get(strategy);
    if (file === undefined && opts.outDir !== undefined) files.set(strategy, (file = new LineFile(path.join(opts.outDir, `decisions-${strategy}.jsonl`))));
    return file;
  };
  let result: ReplayResult;
  try {
    result = await replayTrace(trace, {
      strategies: opts.strategies,
      seed: opts.seed,
      ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
      onRecord: (strategy, record) => {
        decisions(strategy)?.write(decisionLine(record));
        influx?.request(strategy, record);
      },
    });
  } finally {
    for (const file of files.values()) file.close();
  }
  if (opts.outDir !== undefined) {
    writeFileSync(path.join(opts.outDir, 'report.json'), reportJson(result, name));
    writeFileSync(path.join(opts.outDir, 'report.csv'), reportCsv(result.summaries));
    const svgs = await renderFigures(figureSpecs(result.timeline, name));
    for (const [file, svg] of Object.entries(svgs)) writeFileSync(path.join(opts.outDir, file), svg);
  }
  await influx?.close(result.summaries, durationMs);
  return result;
}
