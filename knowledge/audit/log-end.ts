import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { DynamosError } from '../errors.js';
import type { AuditSigner, Checkpoint } from './checkpoint.js';
import { checkpointSignatureValid, parseLogLine } from './checkpoint.js';
import { genesisHash, linesOf, recordHashMatches } from './decision-log.js';

/** Where a reopened log continues: its head, and how its last run ended. */
export interface LogContinuation {
  readonly seq: number;
  readonly head: string;
  /** The number the next checkpoint takes. */
  readonly nextCheckpoint: number;
  /** False when the last run did not end with its shutdown checkpoint (or the log has none). */
  readonly endedCleanly: boolean;
  /** Records after the last checkpoint: the next checkpoint signs them late. */
  readonly unsigned: number;
}

/** What opening found at the end of a log file. */
export interface LogEnd {
  /** Bytes up to and including the last newline. */
  readonly wholeBytes: number;
  /** Bytes after it: a line cut short when its writer stopped mid-write. */
  readonly tornBytes: number;
  /** Undefined for a log with no whole line (new, or holding only a torn line). */
  readonly continuation: LogContinuation | undefined;
}

/**
 * Reads how a log file ends, to continue it: the last checkpoint (found reading backwards) and the
 * records after it, each checked against its hash and chained from the checkpoint. The file is
 * only read. Lines after the last newline are reported as torn, for the caller to cut off.
 *
 * @throws DynamosError CONFIG_INVALID when continuing would hide or bless tampering: an existing
 *   file with no line, a last checkpoint that fails this daemon's key, records after a shutdown
 *   checkpoint, more unsigned records than the daemon ever leaves, or a line after the last
 *   checkpoint that is not a record chained to it.
 */
export async function readLogEnd(file: string, signer: AuditSigner): Promise<LogEnd | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let found: { checkpoint: Checkpoint; end: number } | undefined;
  let wholeBytes: number;
  let size: number;
  let anyLine = false;
  try {
    size = (await handle.stat()).size;
    wholeBytes = await endOfLastLine(handle, size);
    for await (const line of linesBackward(handle, wholeBytes)) {
      if (line.text.trim() === '') continue;
      anyLine = true;
      const parsed = parseLogLine(line.text);
      if (parsed.kind === 'checkpoint') {
        found = { checkpoint: parsed.checkpoint, end: line.end };
        break;
      }
    }
  } finally {
    await handle.close();
  }
  const tornBytes = size - wholeBytes;
  if (!anyLine) {
    if (tornBytes > 0) return { wholeBytes, tornBytes, continuation: undefined };
    throw refusal(file, 'it exists but holds no line, while a daemon writes a signed checkpoint as it creates its log: it was emptied or made by hand');
  }
  return { wholeBytes, tornBytes, continuation: await continuationOf(file, found, wholeBytes, signer) };
}

async function continuationOf(file: string, found: { checkpoint: Checkpoint; end: number } | undefined, wholeBytes: number, signer: AuditSigner): Promise<LogContinuation> {
  const c = found?.checkpoint.checkpoint;
  // A checkpoint under another key proves nothing to this daemon: whoever can append to the log
  // could sign one with a key of their own, and the daemon would countersign what they added.
  if (c !== undefined && c.keyId !== signer.keyId) {
    throw refusal(file, `its last checkpoint (${c.n}) is signed by key ${c.keyId}, not by this daemon's key ${signer.keyId}: a log is continued only under the key that signed it. If this daemon's key was replaced on purpose, start a new log and keep the old public key to verify this one`);
  }
  if (found !== undefined && c?.keyId === signer.keyId && !checkpointSignatureValid(found.checkpoint, signer.publicKey)) {
    throw refusal(file, `its last checkpoint (${c.n}) does not verify with this daemon's key ${signer.keyId}: it was forged or altered`);
  }
  let seq = c?.records ?? 0;
  let head = c?.head ?? genesisHash;
  let unsigned = 0;
  const after = c === undefined ? 'at its start' : `after its last checkpoint (${c.n}, record ${c.records})`;
  for await (const text of linesOf(file, { start: found?.end ?? 0, end: wholeBytes })) {
    if (text.trim() === '') continue;
    const parsed = parseLogLine(text);
    const where = `the line after record ${seq}`;
    if (parsed.kind !== 'record') {
      const why = parsed.kind === 'malformed' ? parsed.why : 'a checkpoint the daemon did not write in this form';
      throw refusal(file, `${where} is ${why}; a complete line that is not a record would silently restart the numbering`);
    }
    const r = parsed.record;
    if (!recordHashMatches(r)) throw refusal(file, `record ${r.seq} ${after} was changed after it was written (its hash does not match)`);
    if (r.seq !== seq + 1 || r.prevHash !== head) throw refusal(file, `${where} is record ${r.seq}, which does not follow record ${seq} (wrong number or previous hash)`);
    seq = r.seq;
    head = r.hash;
    unsigned++;
  }
  if (c?.reason === 'close' && unsigned > 0) {
    throw refusal(file, `${unsigned} record(s) follow the daemon's shutdown checkpoint (${c.n}), and a daemon writes none there before its start checkpoint: someone else appended them`);
  }
  if (c !== undefined && unsigned > c.every) {
    throw refusal(file, `${unsigned} records follow its last checkpoint (${c.n}), though the daemon signs one every ${c.every}: checkpoints were removed`);
  }
  return {
    seq,
    head,
    nextCheckpoint: (c?.n ?? 0) + 1,
    endedCleanly: c?.reason === 'close',
    unsigned,
  };
}

function refusal(file: string, why: string): DynamosError {
  return new DynamosError(
    'CONFIG_INVALID',
    `the decision log ${file} cannot be continued: ${why}. Keep the file as evidence and check it with \`dynamos audit verify ${file} --key <the daemon's public key>\`; to start a new log, move it aside or choose another (--decision-log FILE)`,
    { retryable: false, details: { log: file } },
  );
}

/** The size of the file up to and including its last newline. */
async function endOfLastLine(handle: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (newline !== -1) return start + newline + 1;
    end = start;
  }
  return 0;
}

/** The whole lines of the first `end` bytes (which end with a newline), last first, with where each ends. */
async function* linesBackward(handle: FileHandle, end: number, chunkBytes = 64 * 1024): AsyncGenerator<{ text: string; end: number }> {
  let pos = end;
  // Bytes [pos, pos + pending.length) read and not yet given out; they start mid-line unless pos is 0.
  let pending = Buffer.alloc(0);
  while (pos > 0) {
    const start = Math.max(0, pos - chunkBytes);
    const chunk = Buffer.alloc(pos - start);
    await handle.read(chunk, 0, chunk.length, start);
    pending = Buffer.concat([chunk, pending]);
    pos = start;
    let lineEnd = pending.length;
    for (;;) {
      // The newline ending the line before this one (this line's own newline is its last byte).
      const newline = lineEnd >= 2 ? pending.lastIndexOf(0x0a, lineEnd - 2) : -1;
      if (newline === -1) break;
      yield { text: lineText(pending.subarray(newline + 1, lineEnd)), end: pos + lineEnd };
      lineEnd = newline + 1;
    }
    pending = pending.subarray(0, lineEnd);
  }
  if (pending.length > 0) yield { text: lineText(pending), end: pending.length };
}

function lineText(bytes: Buffer): string {
  return bytes.toString('utf8').replace(/\r?\n$/, '');
}
