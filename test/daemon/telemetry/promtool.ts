import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's prometheus package installs it; scripts/with-test-servers.ts installs that package when missing. */
export const promtoolPath = process.env['PROMTOOL'] ?? '/usr/bin/promtool';

/**
 * prom-client's default metrics that `promtool check metrics` flags: gauges named `…_total`. These
 * are the names every Node.js dashboard queries (Active Handles, Active Requests), so /metrics
 * keeps them; docs/telemetry.md says why.
 */
export const standardNamesPromtoolFlags: readonly string[] = [
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
];

/** What `promtool check metrics` says of an exposition: one line per problem, none when clean. */
export function promtoolProblems(exposition: string): string[] {
  const run = spawnSync(promtoolPath, ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 });
  if (run.error !== undefined) throw run.error;
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
  // 0: clean; 3: lint problems, one per line; anything else (1: it could not parse) is a problem too.
  if (run.status !== 0 && run.status !== 3) return [`promtool exited ${run.status}: ${lines.join(' | ')}`];
  return lines.sort();
}

/** For a suite's `before`: skips it, saying why, when promtool is not installed. */
export function requirePromtool(ctx: Mocha.Context): void {
  if (existsSync(promtoolPath)) return;
  console.log(`      (skipped: ${promtoolPath} is missing; install Debian's prometheus package or set PROMTOOL)`);
  ctx.skip();
}
