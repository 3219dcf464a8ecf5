import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CommandOutput } from './check-config.js';
import { processOutput } from './check-config.js';
import { printReply } from './print-reply.js';

/**
 * Sends a requestApproval body to a daemon and prints the answer.
 * @returns the exit status: 0 for an answer with results, 1 otherwise
 */
export async function sendRequest(file: string, opts: { url: string; json?: boolean }, output: CommandOutput): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    output.err(`cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  let response: Response;
  try {
    response = await fetch(new URL('/api/v1/requestApproval', opts.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
    });
  } catch (error) {
    output.err(`no daemon answers at ${opts.url} (${(error as Error).cause ?? (error as Error).message}); start one with: npm start`);
    return 1;
  }
  const body = (await response.json()) as Record<string, unknown>;
  if (opts.json) output.out(JSON.stringify(body, null, 2));
  else printReply(response.status, body, output);
  return response.status === 200 ? 0 : 1;
}

export function registerRequest(program: Command): void {
  program
    .command('request')
    .description('send a requestApproval body (the original DYNAMOS format) to a daemon and print the answer')
    .argument('<file>', 'JSON body, e.g. experiments/requests/wage-gap.json')
    .option('--url <url>', 'the daemon', 'http://127.0.0.1:8080')
    .option('--json', 'print the raw JSON answer')
    .action(async (file: string, opts: { url: string; json?: boolean }) => {
      process.exitCode = await sendRequest(file, opts, processOutput);
    });
}
