import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { linesOf } from '../../knowledge/audit/decision-log.js';
import type { LogVerdict } from '../../knowledge/audit/verify-log.js';
import { verifyDecisionLog } from '../../knowledge/audit/verify-log.js';
import type { CommandOutput } from './check-config.js';
import { processOutput } from './check-config.js';

export interface AuditVerifyOptions {
  /** PEM files of the daemon's public keys; at least one. */
  readonly keys: readonly string[];
  /** A head hash published by the daemon (`GET /api/v1/audit/head`). */
  readonly head?: string;
}

/**
 * Verifies a decision log: its hash chain, its signed checkpoints, and that its end is vouched
 * for (docs/designs/008-signed-audit-log.md).
 * @returns the exit status: 0 intact, 1 with every problem printed with its line and kind, 2 when
 *   the log or a key cannot be read or the usage is wrong
 */
export async function auditVerify(file: string, opts: AuditVerifyOptions, output: CommandOutput): Promise<number> {
  if (opts.keys.length === 0) {
    output.err(
      'audit verify needs the daemon\'s public key: --key FILE (PEM). The daemon prints it when it starts, serves it at GET /api/v1/audit/key and keeps it as audit.pub.pem in its keys directory (data/keys/ for the default log). Use a copy you got from the daemon, not one beside the log: whoever can edit the log may have replaced that one',
    );
    return 2;
  }
  if (opts.head !== undefined && !/^[0-9a-f]{64}$/.test(opts.head)) {
    output.err(`--head ${opts.head}: expected the 64 hex digits of a head hash, as GET /api/v1/audit/head gives it`);
    return 2;
  }
  const keys: KeyObject[] = [];
  for (const keyFile of opts.keys) {
    try {
      const key = createPublicKey(readFileSync(keyFile, 'utf8'));
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${String(key.asymmetricKeyType)} key, not an Ed25519 one`);
      keys.push(key);
    } catch (error) {
      output.err(`cannot read the key ${keyFile}: ${(error as Error).message}`);
      return 2;
    }
  }
  let verdict: LogVerdict;
  try {
    verdict = await verifyDecisionLog(linesOf(file), { keys, ...(opts.head === undefined ? {} : { head: opts.head }) });
  } catch (error) {
    output.err(`cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  for (const note of verdict.notes) output.out(`${file}:${note.line}: note: ${note.message}`);
  if (verdict.ok) {
    output.out(`${file}: ${verdict.records} records, ${verdict.checkpoints} signed checkpoints, intact; ${endOf(verdict)}; head: record ${verdict.head.seq}, hash ${verdict.head.hash}`);
    return 0;
  }
  for (const p of verdict.problems) output.err(`${file}:${p.line}: ${p.kind}: ${p.message}`);
  output.err(`${file}: ${verdict.problems.length} problem(s) in ${verdict.records} records and ${verdict.checkpoints} signed checkpoints`);
  return 1;
}

function endOf(verdict: LogVerdict): string {
  const last = verdict.lastCheckpoint;
  const signed = last === undefined ? '' : last.reason === 'close' ? `ends with the daemon's shutdown checkpoint (line ${last.line})` : `signed up to line ${last.line}`;
  if (verdict.headLine === undefined) return signed;
  const head = verdict.headLine === 0 ? 'the published head is that of an empty log' : `the published head is at line ${verdict.headLine}`;
  return `${signed}${signed === '' ? '' : ', '}${head}`;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('check the decision log that data stewards audit');
  audit
    .command('verify')
    .description('verify a decision log: its hash chain, its signed checkpoints and its end; exit 1 naming every edited, dropped, rewritten, forged or unsigned part')
    .argument('<file>', 'the decision log (JSON Lines), e.g. data/decisions.jsonl')
    .option('--key <file>', "the daemon's public key (PEM, from GET /api/v1/audit/key or its start-up output); repeat for a log signed by several keys", (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--head <hash>', 'a head hash the daemon published (GET /api/v1/audit/head): the log must reach it, and records after it need a signature')
    .action(async (file: string, o: { key?: string[]; head?: string }) => {
      process.exitCode = await auditVerify(file, { keys: o.key ?? [], ...(o.head === undefined ? {} : { head: o.head }) }, processOutput);
    });
}
