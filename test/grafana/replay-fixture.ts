import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { replayToFiles } from '../../replay/replay-outputs.js';
import { referenceMarketplace } from '../../replay/traces/golden-traces.js';
import { generateTrace } from '../../replay/traces/scenarios.js';
import { writeTraceFile } from '../../replay/traces/trace-file.js';

export const fixtureStrategies = ['dynamos', 'threshold', 'utility'] as const;

/** What a replay wrote: the trace name its points are tagged with, and the strategies. */
export interface FixtureReplay {
  readonly trace: string;
  readonly strategies: readonly string[];
  /** Requests in the trace (each strategy wrote one point for each). */
  readonly requests: number;
}

/**
 * Runs the real replay on a generated ten-minute TTP-overload trace and lets it write to the
 * real InfluxDB, into `database`.
 */
export async function runReplayToInflux(influxUrl: string, database: string): Promise<FixtureReplay> {
  const dir = mkdtempSync(path.join(tmpdir(), 'grafana-replay-'));
  try {
    const file = path.join(dir, 'ttp-overload.jsonl');
    writeTraceFile(file, generateTrace('ttp-overload', referenceMarketplace(), { seed: 1, durationMs: 600_000 }));
    const result = await replayToFiles(file, { strategies: fixtureStrategies.map((name) => ({ name })), seed: 1, influxUrl: `${influxUrl}/${database}` });
    return { trace: 'ttp-overload', strategies: [...fixtureStrategies], requests: result.requests };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
