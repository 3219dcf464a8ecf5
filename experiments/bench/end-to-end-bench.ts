import type { RunningDaemon } from '../../daemon/start-daemon.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';

export interface JobFigures {
  readonly party: string;
  readonly durationMs: number;
  readonly startMs: number;
  readonly cpuSeconds: number;
  readonly maxRssBytes: number;
  readonly rowsOut: number;
  readonly bytesOut: number;
  readonly stages: readonly { stage: string; ms: number }[];
}

export interface EndToEnd {
  readonly latencyMs: Summary;
  readonly archetype: string;
  readonly rows: unknown;
  readonly jobsOfMedianRun: readonly JobFigures[];
}

/**
 * A request through HTTP, repeated: each run waits until the warm pool is full, as a daemon between
 * requests would be, then times the whole answer (token check, parse, decide, jobs, streams,
 * JSON). The requester's token is minted before the clock starts, as a client holds one already.
 */
export async function benchEndToEnd(daemon: RunningDaemon, body: unknown, repeats: number): Promise<EndToEnd> {
  const runs: { ms: number; json: Record<string, unknown> }[] = [];
  for (let i = 0; i < repeats + 1; i++) {
    await daemon.runner.whenWarm();
    const authorization = `Bearer ${await daemon.mintToken((body as { user: { userName: string } }).user.userName)}`;
    const t = performance.now();
    const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(body), headers: { authorization } });
    const json = (await response.json()) as Record<string, unknown>;
    const ms = performance.now() - t;
    if (response.status !== 200) throw new Error(`benchmark request failed with ${response.status}: ${JSON.stringify(json).slice(0, 500)}`);
    if (i > 0) runs.push({ ms, json });
  }
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const median = sorted[Math.floor(sorted.length / 2)] as (typeof runs)[number];
  const results = median.json['results'] as { rows: unknown }[];
  return {
    latencyMs: summarize(runs.map((r) => r.ms)),
    archetype: String(median.json['archetype']),
    rows: results.map((r) => r.rows),
    jobsOfMedianRun: (median.json['jobs'] as JobFigures[]).map(({ party, durationMs, startMs, cpuSeconds, maxRssBytes, rowsOut, bytesOut, stages }) => ({
      party,
      durationMs,
      startMs,
      cpuSeconds,
      maxRssBytes,
      rowsOut,
      bytesOut,
      stages,
    })),
  };
}
