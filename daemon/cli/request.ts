import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { LocalIssuer } from '../local-issuer.js';
import type { CommandOutput } from './check-config.js';
import { processOutput } from './check-config.js';
import { printReply } from './print-reply.js';
import { keysDirFrom } from './token.js';

export interface RequestOptions {
  readonly url: string;
  readonly json?: boolean;
  /** A bearer token; else DYNAMOS_TOKEN, else one minted by the local issuer. */
  readonly token?: string;
  readonly keysDir?: string;
  readonly decisionLog?: string;
}

/**
 * Sends a requestApproval body to a daemon and prints the answer. The token is `--token`, else
 * the environment's DYNAMOS_TOKEN, else minted with the local issuer's key for the body's
 * `user.userName` when that key is readable (said on stderr), else none.
 * @returns the exit status: 0 for an answer with results, 1 otherwise, 2 when the file cannot be read
 */
export async function sendRequest(file: string, opts: RequestOptions, output: CommandOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    output.err(`cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  const token = opts.token ?? nonEmpty(env['DYNAMOS_TOKEN']) ?? (await localToken(text, opts, output));
  let response: Response;
  try {
    response = await fetch(new URL('/api/v1/requestApproval', opts.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
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

/** A token for the body's user from the local issuer, when this machine holds its key. */
async function localToken(text: string, opts: RequestOptions, output: CommandOutput): Promise<string | undefined> {
  const user = userNameOf(text);
  if (user === undefined) return undefined;
  let issuer: LocalIssuer;
  try {
    issuer = await LocalIssuer.read(keysDirFrom(opts));
  } catch {
    return undefined;
  }
  output.err(`signed in as ${user} with the local issuer's key (${issuer.privateFile})`);
  return issuer.mint({ user, now: Date.now() });
}

function userNameOf(text: string): string | undefined {
  try {
    const name = (JSON.parse(text) as { user?: { userName?: unknown } } | null)?.user?.userName;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function registerRequest(program: Command): void {
  program
    .command('request')
    .description('send a requestApproval body (the original DYNAMOS format) to a daemon and print the answer')
    .argument('<file>', 'JSON body, e.g. experiments/requests/wage-gap.json')
    .option('--url <url>', 'the daemon', 'http://127.0.0.1:8080')
    .option('--json', 'print the raw JSON answer')
    .option('--token <jwt>', 'bearer token (default: $DYNAMOS_TOKEN, else one minted with the local issuer key for the body\'s user)')
    .option('--keys-dir <dir>', "the daemon's keys directory, to mint with (default: keys/ beside the decision log)")
    .option('--decision-log <file>', "the daemon's decision log, to find its keys beside it (default data/decisions.jsonl)")
    .action(async (file: string, opts: RequestOptions) => {
      process.exitCode = await sendRequest(file, opts, processOutput);
    });
}
