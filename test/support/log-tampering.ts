import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import type { AuditSigner } from '../../knowledge/audit/checkpoint.js';
import { sealRecord } from '../../knowledge/audit/decision-log.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { FileDecisionLog } from '../../knowledge/audit/log-file.js';
import { decision } from './audit-records.js';

/** The lines a log holds, closed (`closed`) or as a killed daemon leaves it (`killed`: no shutdown checkpoint). */
export interface WrittenLog {
  readonly closed: string[];
  readonly killed: string[];
  /** The hash of each record, by seq - 1. */
  readonly hashes: string[];
}

/**
 * Writes `records` decisions with a checkpoint every `every` records, on a simulated clock, and
 * gives back the log's lines before and after the shutdown checkpoint. With 7 records every 3:
 * `cp1 r1 r2 r3 cp2 r4 r5 r6 cp3 r7 cp4(close)`, lines 1–11.
 */
export async function writeLog(signer: AuditSigner, records = 7, every = 3): Promise<WrittenLog> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-written-log-'));
  try {
    const file = path.join(dir, 'decisions.jsonl');
    const clock = new SimulatedClock();
    clock.set(1_700_000_000_000);
    const log = await FileDecisionLog.open(file, { signer, checkpointEvery: every, clock });
    const hashes: string[] = [];
    for (let i = 1; i <= records; i++) hashes.push((await log.append(decision(`r${i}`))).hash);
    const killed = linesOf(readFileSync(file, 'utf8'));
    await log.close();
    return { closed: linesOf(readFileSync(file, 'utf8')), killed, hashes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const linesOf = (text: string) => text.split('\n').slice(0, -1);

export const isCheckpoint = (line: string): boolean => line.startsWith('{"checkpoint"');

/** The file's text for these lines. */
export const textOf = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

/**
 * A forger with write access but no key: edits the record with `seq`, then re-hashes it and every
 * record after it so that each hash and link checks out again. Checkpoints stay as signed.
 */
export function rewriteAndRehash(lines: readonly string[], seq: number, edit: (r: DecisionRecord) => DecisionRecord): string[] {
  let prevHash: string | undefined;
  return lines.map((line) => {
    if (isCheckpoint(line)) return line;
    const record = JSON.parse(line) as DecisionRecord;
    if (record.seq < seq) return line;
    const { seq: n, prevHash: oldPrev, hash: _hash, ...unsealed } = record.seq === seq ? edit(record) : record;
    const sealed = sealRecord(unsealed, n, prevHash ?? oldPrev);
    prevHash = sealed.hash;
    return JSON.stringify(sealed);
  });
}

/** A forged record, correctly numbered and chained after the last record of `lines`. */
export function appendForged(lines: readonly string[]): string[] {
  const last = JSON.parse([...lines].reverse().find((l) => !isCheckpoint(l)) as string) as DecisionRecord;
  return [...lines, JSON.stringify(sealRecord({ ...decision('forged'), reason: 'a decision that was never made' }, last.seq + 1, last.hash))];
}
