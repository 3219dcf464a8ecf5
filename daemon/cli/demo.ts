import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../package-root.js';
import { startDaemon } from '../start-daemon.js';
import { processOutput } from './check-config.js';
import { integer } from './options.js';
import { printReply } from './print-reply.js';

const demoRequests = [
  ['the original request: average salary scale per gender at each university', 'wage-gap.json'],
  ['the same analysis with the data combined at the trusted third party, with a chart', 'wage-gap-through-ttp.json'],
] as const;

/** Starts the example marketplace, sends the demo requests, prints the answers and stops. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start the example marketplace, send the original DYNAMOS requests, print the answers, stop')
    .option('--rows <n>', 'rows per steward of the generated example data (default 10000); data already in ./data/example must have them', integer(1))
    .option('--force', 'regenerate the example data even over the files already in ./data/example')
    .action(async (opts: { rows?: number; force?: boolean }) => {
      // Its own decision log (and audit key), so the demo never takes the log of a daemon running beside it.
      const scratch = await mkdtemp(path.join(os.tmpdir(), 'dynamos-demo-'));
      const example = { ...(opts.rows === undefined ? {} : { exampleRows: opts.rows }), regenerateExampleData: opts.force === true };
      const daemon = await startDaemon({ port: 0, ...example, logLevel: 'warn', decisionLogFile: path.join(scratch, 'decisions.jsonl') }).catch(async (error: unknown) => {
        await rm(scratch, { recursive: true, force: true });
        throw error;
      });
      let failed = false;
      try {
        for (const [title, file] of demoRequests) {
          const body = await readFile(path.join(packageRoot(), 'experiments', 'requests', file), 'utf8');
          processOutput.out(`\n=== ${title} (experiments/requests/${file})`);
          // The demo's requester signs in with the daemon's own issuer, as `dynamos request` does.
          const token = await daemon.mintToken((JSON.parse(body) as { user: { userName: string } }).user.userName);
          const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
          printReply(response.status, (await response.json()) as Record<string, unknown>, processOutput);
          failed ||= response.status !== 200;
        }
      } finally {
        await daemon.close();
        await rm(scratch, { recursive: true, force: true });
      }
      process.exitCode = failed ? 1 : 0;
    });
}
