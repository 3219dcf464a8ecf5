import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DynamosError } from '../../knowledge/errors.js';
import { daemonConfigSchema, keysDirOf } from '../config.js';
import { defaultTokenTtlMs, LocalIssuer } from '../local-issuer.js';
import type { CommandOutput } from './check-config.js';
import { exitBadConfig, processOutput } from './check-config.js';
import { duration } from './generate-trace.js';

/** Where a tool finds the daemon's keys: `--keys-dir`, else `keys/` beside `--decision-log` (or its default). */
export function keysDirFrom(opts: { keysDir?: string | undefined; decisionLog?: string | undefined }): string {
  return keysDirOf({ keysDir: opts.keysDir, decisionLogFile: opts.decisionLog ?? daemonConfigSchema.shape.decisionLogFile.parse(undefined) });
}

export interface TokenOptions {
  readonly user: string;
  readonly role: readonly string[];
  readonly ttl: number;
  readonly keysDir?: string;
  readonly decisionLog?: string;
}

/**
 * Prints a token from the local issuer's key on stdout (and what it is on stderr).
 * @returns the exit status: 0, or 2 when there is no key to sign with
 */
export async function printToken(opts: TokenOptions, output: CommandOutput, now = Date.now()): Promise<number> {
  let issuer: LocalIssuer;
  try {
    issuer = await LocalIssuer.read(keysDirFrom(opts));
  } catch (error) {
    if (!(error instanceof DynamosError)) throw error;
    output.err(error.message);
    return exitBadConfig;
  }
  const token = await issuer.mint({ user: opts.user, roles: opts.role, ttlMs: opts.ttl, now });
  const roles = opts.role.length === 0 ? 'no roles' : `roles ${opts.role.join(', ')}`;
  output.err(`token for ${opts.user} (${roles}) from ${issuer.privateFile}, valid until ${new Date(now + opts.ttl).toISOString()}`);
  output.out(token);
  return 0;
}

/** `admin` or `steward:<Name>`: the roles the daemon knows. */
function role(value: string, previous: string[]): string[] {
  if (!/^(admin|steward:\S+)$/.test(value)) throw new InvalidArgumentError('expected admin or steward:<Name>, e.g. steward:UVA');
  return [...previous, value];
}

function user(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a user name');
  return value;
}

function ttl(value: string): number {
  const ms = duration(value);
  if (ms > 24 * 3_600_000) throw new InvalidArgumentError('at most 24h: tokens are meant to be short-lived');
  return ms;
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description("mint a short-lived bearer token with the local issuer's key (the daemon creates it on first start)")
    .requiredOption('--user <name>', 'the user the token names, e.g. analyst@uva.example', user)
    .option('--role <role>', 'a role to grant: admin or steward:<Name>; repeat for several', role, [])
    .option('--ttl <d>', 'lifetime: 90s, 15m, 1h, … (at most 24h)', ttl, defaultTokenTtlMs)
    .option('--keys-dir <dir>', "the daemon's keys directory (default: keys/ beside the decision log)")
    .option('--decision-log <file>', "the daemon's decision log, to find its keys beside it (default data/decisions.jsonl)")
    .action(async (opts: TokenOptions) => {
      process.exitCode = await printToken(opts, processOutput);
    });
}
