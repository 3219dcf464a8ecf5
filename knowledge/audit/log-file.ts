import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { entryBytes } from '../cache-bytes.js';
import { DynamosError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { silentLogger } from '../ports/logger.js';
import type { AuditSigner, CheckpointReason, SignedHead } from './checkpoint.js';
import { signCheckpoint, signHead } from './checkpoint.js';
import type { UnsealedRecord } from './decision-log.js';
import { genesisHash, linesOf, sealRecord } from './decision-log.js';
import type { DecisionRecord } from './decision-record.js';
import type { LogContinuation } from './log-end.js';
import { readLogEnd } from './log-end.js';
import type { LogLock } from './log-lock.js';
import { appendWhole, PartLeft } from './append-whole.js';
import { lockLogFile } from './log-lock.js';

export interface DecisionLogOptions {
  /** Signs the checkpoints and the served head. */
  readonly signer: AuditSigner;
  /** A checkpoint after this many records. @default 100 */
  readonly checkpointEvery?: number;
  readonly clock?: Clock;
  /** Hears what opening found (a torn line cut off, a recovery). */
  readonly logger?: Logger;
  /** Records kept in memory for `find`. @default 10000 */
  readonly keepRecent?: number;
  /** Bytes those records may take in memory, whatever their number. @default 32 MiB */
  readonly keepRecentBytes?: number;
}

/** What opening a log found and did. */
export interface LogOpening {
  /** `recovered`: the last run did not end with its shutdown checkpoint; the recovery checkpoint signs what it left. */
  readonly kind: 'created' | 'continued' | 'recovered';
  /** Records the recovery checkpoint signed late (written after the last checkpoint). */
  readonly signedLate: number;
  /** A torn last line that was cut off, and the side file that keeps its bytes. */
  readonly torn?: { readonly bytes: number; readonly keptIn: string };
}

/**
 * The decision log as an append-only JSON Lines file of hash-chained records and signed
 * checkpoints (docs/designs/008-signed-audit-log.md). One writer per file: `open` takes the file's
 * lock and holds it until `close`. It signs a checkpoint when it opens, every `checkpointEvery`
 * records and when it closes; a reopened log continues from its last record.
 *
 * Each record is written synchronously before `append` resolves: the chain never forks, and a
 * request is answered only once its record is with the operating system. A write of a few
 * kilobytes to the page cache takes microseconds, less than a hop through the thread pool would.
 * Recent records are kept in memory for `GET /api/v1/decisions/{id}`; older ones are found by
 * reading the file.
 */
export class FileDecisionLog {
  /** Recent records as their JSON line: one flat string each is far cheaper for the GC to keep than the object tree. */
  private readonly recent: LRUCache<string, string>;
  private state: 'open' | 'closed' | 'lost' | 'broken' = 'open';
  private closing: Promise<void> | undefined;
  private sinceCheckpoint = 0;

  private constructor(
    readonly file: string,
    readonly opening: LogOpening,
    private seq: number,
    private lastHash: string,
    private nextCheckpoint: number,
    private readonly fd: number,
    private readonly lock: LogLock,
    private readonly opts: Required<DecisionLogOptions>,
  ) {
    this.recent = new LRUCache({ max: opts.keepRecent, maxSize: opts.keepRecentBytes, sizeCalculation: (text, requestId) => entryBytes(requestId, text) });
  }

  /**
   * Opens a log for writing: takes its lock, cuts off a torn last line (keeping its bytes in
   * `<file>.torn-<time>`), and signs a checkpoint: `open` for a new log or one whose last run ended
   * cleanly, `recovery` for one that did not.
   *
   * @throws DynamosError CONFIG_INVALID when another writer holds the log, or when its end shows
   *   tampering that continuing would hide (see readLogEnd); the file is then left as it was.
   */
  static async open(file: string, options: DecisionLogOptions): Promise<FileDecisionLog> {
    const opts = { signer: options.signer, clock: options.clock ?? systemClock, logger: options.logger ?? silentLogger, keepRecent: options.keepRecent ?? 10_000, keepRecentBytes: options.keepRecentBytes ?? 32 * 1024 * 1024, checkpointEvery: options.checkpointEvery ?? 100 };
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    } catch (cause) {
      throw cannotOpen(file, cause);
    }
    let log: FileDecisionLog | undefined;
    const lock = await lockLogFile(file, (error) => log?.lockLost(error));
    try {
      const end = await readLogEnd(file, opts.signer);
      const torn = end !== undefined && end.tornBytes > 0 ? keepTornLine(file, end.wholeBytes, end.tornBytes, opts.clock.now()) : undefined;
      const c: LogContinuation = end?.continuation ?? { seq: 0, head: genesisHash, nextCheckpoint: 1, endedCleanly: true, unsigned: 0 };
      const kind = end?.continuation === undefined ? 'created' : c.endedCleanly ? 'continued' : 'recovered';
      const opening: LogOpening = { kind, signedLate: kind === 'recovered' ? c.unsigned : 0, ...(torn === undefined ? {} : { torn }) };
      const first = checkpointLine(opts, { n: c.nextCheckpoint, records: c.seq, head: c.head, reason: kind === 'recovered' ? 'recovery' : 'open' });
      if (end === undefined) createWithFirstLine(file, first);
      const fd = openSync(file, 'a');
      log = new FileDecisionLog(file, opening, c.seq, c.head, c.nextCheckpoint + 1, fd, lock, opts);
      try {
        if (end !== undefined) log.write(first);
      } catch (error) {
        closeSync(fd);
        throw error;
      }
      report(opts.logger, file, opening, c);
      return log;
    } catch (error) {
      await lock.release();
      throw error instanceof DynamosError ? error : cannotOpen(file, error);
    }
  }

  append(unsealed: UnsealedRecord): Promise<DecisionRecord> {
    try {
      this.mustBeOpen();
      const record = sealRecord(unsealed, this.seq + 1, this.lastHash);
      const text = JSON.stringify(record);
      this.write(`${text}\n`);
      this.seq = record.seq;
      this.lastHash = record.hash;
      this.remember(record.requestId, text);
      if (++this.sinceCheckpoint >= this.opts.checkpointEvery) this.checkpointAfter(record);
      return Promise.resolve(record);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async find(requestId: string): Promise<DecisionRecord | undefined> {
    const known = this.recent.get(requestId);
    if (known !== undefined) return JSON.parse(known) as DecisionRecord;
    let found: DecisionRecord | undefined;
    try {
      for await (const text of linesOf(this.file)) {
        if (text.includes(requestId)) {
          const record = JSON.parse(text) as DecisionRecord;
          if (record.requestId === requestId) found = record;
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return found;
  }

  /** The bytes the recent records kept for `find` hold now (never more than `keepRecentBytes`). */
  get recentBytes(): number {
    return this.recent.calculatedSize;
  }

  /** The newest record's number and hash. */
  head(): { readonly seq: number; readonly hash: string } {
    return { seq: this.seq, hash: this.lastHash };
  }

  /** The head with a fresh signature: what an auditor notes down, to verify the log against later (`--head`). */
  signedHead(): SignedHead {
    return signHead(this.head(), this.opts.clock.now(), this.opts.signer);
  }

  /** The public key (SPKI PEM) that verifies this log's checkpoints and heads. */
  get publicKeyPem(): string {
    return this.opts.signer.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Signs the shutdown checkpoint, closes the file and releases its lock; idempotent. A later append is refused. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    const held = this.state === 'open';
    try {
      if (held) this.checkpoint('close');
    } finally {
      this.state = 'closed';
      closeSync(this.fd);
      if (held) await this.lock.release();
    }
  }

  private checkpoint(reason: CheckpointReason): void {
    this.write(checkpointLine(this.opts, { n: this.nextCheckpoint, records: this.seq, head: this.lastHash, reason }));
    this.nextCheckpoint++;
    this.sinceCheckpoint = 0;
  }

  /** The record is written whatever happens here; a checkpoint that fails is tried again after the next record. */
  private checkpointAfter(record: DecisionRecord): void {
    try {
      this.checkpoint('every');
    } catch (error) {
      this.opts.logger.error('signing a checkpoint of the decision log failed; it is tried again after the next record', { file: this.file, seq: record.seq, error: (error as Error).message });
    }
  }

  private write(text: string): void {
    try {
      appendWhole(this.fd, Buffer.from(text));
    } catch (error) {
      if (error instanceof PartLeft) this.state = 'broken';
      throw error;
    }
  }

  private mustBeOpen(): void {
    if (this.state === 'open') return;
    const why =
      this.state === 'closed' ? 'it is closed'
      : this.state === 'broken' ? 'a write failed half-way and its half line could not be removed; restart the daemon, which cuts it off'
      : 'its lock was lost, so another process may be writing it; restart the daemon';
    throw new DynamosError('INTERNAL', `the decision log ${this.file} takes no more records: ${why}`, { retryable: false });
  }

  private lockLost(error: Error): void {
    if (this.state !== 'open') return;
    this.state = 'lost';
    this.opts.logger.error('the lock of the decision log was lost: this daemon writes no more decisions to it; restart it', { file: this.file, error: error.message });
  }

  private remember(requestId: string, text: string): void {
    this.recent.set(requestId, text);
  }
}

function cannotOpen(file: string, cause: unknown): DynamosError {
  return new DynamosError('CONFIG_INVALID', `cannot open the decision log ${file}: ${(cause as Error).message}`, { retryable: false, cause });
}

function checkpointLine(opts: { signer: AuditSigner; clock: Clock; checkpointEvery: number }, body: { n: number; records: number; head: string; reason: CheckpointReason }): string {
  return `${JSON.stringify(signCheckpoint({ ...body, at: opts.clock.now(), every: opts.checkpointEvery }, opts.signer))}\n`;
}

/** A new log appears whole, with its first checkpoint: the daemon never leaves an empty log behind. */
function createWithFirstLine(file: string, line: string): void {
  const temp = `${file}.${process.pid}.new`;
  writeFileSync(temp, line, { flag: 'w' });
  try {
    linkSync(temp, file);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Moves the bytes after the last newline to a new side file (never overwriting one), then cuts them off. */
function keepTornLine(file: string, wholeBytes: number, tornBytes: number, now: number): { bytes: number; keptIn: string } {
  const fd = openSync(file, 'r');
  const bytes = Buffer.alloc(tornBytes);
  try {
    for (let read = 0, n = -1; read < tornBytes && n !== 0; read += n) n = readSync(fd, bytes, read, tornBytes - read, wholeBytes + read);
  } finally {
    closeSync(fd);
  }
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  for (let attempt = 1; ; attempt++) {
    const keptIn = `${file}.torn-${stamp}${attempt === 1 ? '' : `-${attempt}`}`;
    let side: number;
    try {
      side = openSync(keptIn, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    try {
      writeSync(side, bytes);
      fsyncSync(side);
    } finally {
      closeSync(side);
    }
    truncateSync(file, wholeBytes);
    return { bytes: tornBytes, keptIn };
  }
}

function report(logger: Logger, file: string, opening: LogOpening, c: LogContinuation): void {
  if (opening.torn !== undefined) {
    logger.warn('the decision log ended with a line cut short (its writer stopped mid-write): the line was cut off, its bytes kept aside; numbering continues from the last whole record', { file, bytes: opening.torn.bytes, keptIn: opening.torn.keptIn, lastRecord: c.seq });
  }
  if (opening.kind === 'recovered') {
    logger.warn('the decision log did not end with a shutdown checkpoint (the daemon was killed or crashed): a recovery checkpoint now signs its last records', { file, lastRecord: c.seq, signedLate: opening.signedLate });
  }
}
