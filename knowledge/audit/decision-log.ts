import { createReadStream } from 'node:fs';
import { digestOf } from '../canonical-json.js';
import type { DecisionRecord } from './decision-record.js';

/** The `prevHash` of a log's first record. */
export const genesisHash = '0'.repeat(64);

/** A record before the log numbers and chains it. */
export type UnsealedRecord = Omit<DecisionRecord, 'seq' | 'prevHash' | 'hash'>;

/** Numbers a record and chains it to the one before: its hash covers every field but itself. */
export function sealRecord(unsealed: UnsealedRecord, seq: number, prevHash: string): DecisionRecord {
  const body = { ...unsealed, seq, prevHash };
  return { ...body, hash: digestOf(body) };
}

/** Whether a record's hash still matches its content: false once any field was edited. */
export function recordHashMatches(record: DecisionRecord): boolean {
  const { hash, ...body } = record;
  return digestOf(body) === hash;
}

/**
 * A text file's lines, read a megabyte at a time (readline took twice as long over a one-hour
 * trace). The stream decodes UTF-8 across chunk edges; a line's CRLF ending loses its `\r` too.
 * `range` limits the reading to the bytes from `start` up to, not including, `end`.
 */
export async function* linesOf(file: string, range: { readonly start?: number; readonly end?: number } = {}): AsyncGenerator<string> {
  const start = range.start ?? 0;
  if (range.end !== undefined && range.end <= start) return;
  let rest = '';
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20, start, ...(range.end === undefined ? {} : { end: range.end - 1 }) });
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() as string;
    for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
