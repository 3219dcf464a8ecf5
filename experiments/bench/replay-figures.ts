import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';
import { generateTrace } from '../../replay/traces/scenarios.js';
import { writeTraceFile } from '../../replay/traces/trace-file.js';
import { ratio, summarize } from './stats.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const hourMs = 3_600_000;

interface ChildRun {
  readonly wallMs: number;
  readonly requests: number;
  readonly maxRssMB: number;
}

async function replayInChild(trace: string, strategies: string): Promise<ChildRun> {
  const { stdout } = await run(process.execPath, [path.join(here, 'replay-child.js'), trace, strategies], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as ChildRun;
}

function writeTrace(file: string, hours: number): void {
  const marketplace = parse(readFileSync(path.join(here, '..', '..', '..', 'experiments', 'marketplaces', 'reference.yaml'), 'utf8')) as MarketplaceInput;
  const trace = generateTrace('ttp-overload', marketplace, { seed: 1, durationMs: hours * hourMs, parameters: { ratePerSecond: 10 } });
  writeTraceFile(file, trace);
}

/**
 * Issue 4's figures: replay speed on a one-hour trace at 10 requests/s (36,000 requests), each
 * strategy alone and all three in one pass, and peak RSS of a ten-hour trace against the one-hour
 * one. Every replay runs from the trace file in a fresh process.
 */
export async function replayFigures(scratch: string, repeats: number, log: (line: string) => void) {
  const hour = path.join(scratch, 'replay-1h.jsonl');
  const tenHours = path.join(scratch, 'replay-10h.jsonl');
  writeTrace(hour, 1);
  const speed: Record<string, unknown> = {};
  for (const strategies of ['dynamos', 'threshold', 'utility', 'dynamos,threshold,utility']) {
    const runs: ChildRun[] = [];
    for (let i = 0; i < repeats; i++) runs.push(await replayInChild(hour, strategies));
    const wall = summarize(runs.map((r) => r.wallMs));
    const requests = runs[0]?.requests ?? 0;
    const n = strategies.split(',').length;
    speed[strategies] = {
      requests,
      wallMs: wall,
      timesRealTime: Math.round(hourMs / wall.median),
      simulatedRequestsPerSecond: Math.round(requests / (wall.median / 1000)),
      decisionsPerSecond: Math.round((requests * n) / (wall.median / 1000)),
    };
    log(`replay 1 h × ${strategies}: median ${wall.median} ms, ${Math.round(hourMs / wall.median)}× real time`);
  }
  writeTrace(tenHours, 10);
  const one = await replayInChild(hour, 'dynamos,threshold,utility');
  const ten = await replayInChild(tenHours, 'dynamos,threshold,utility');
  log(`replay peak RSS: 1 h ${one.maxRssMB.toFixed(0)} MB, 10 h ${ten.maxRssMB.toFixed(0)} MB`);
  return {
    speed,
    targets: { timesRealTime: 2_000, simulatedRequestsPerSecond: 20_000, memoryRatio: 1.5 },
    memory: { oneHourPeakRssMB: Math.round(one.maxRssMB), tenHoursPeakRssMB: Math.round(ten.maxRssMB), tenHoursRequests: ten.requests, ratio: ratio(ten.maxRssMB, one.maxRssMB) },
  };
}
