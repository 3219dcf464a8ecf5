import type { KeyObject } from 'node:crypto';
import type { Checkpoint, CheckpointReason } from './checkpoint.js';
import { checkpointSignatureValid, keyIdOf, parseLogLine } from './checkpoint.js';
import { genesisHash, recordHashMatches } from './decision-log.js';
import type { DecisionRecord } from './decision-record.js';

/**
 * What is wrong with a log, one kind per way of tampering (docs/designs/008-signed-audit-log.md):
 * - `edited`, `broken-link`, `missing-records`, `out-of-order`: a record changed, removed or moved
 *   without the chain being re-hashed;
 * - `rewritten`: the chain no longer leads to the head a checkpoint signed (re-hashed after an edit);
 * - `forged-checkpoint`, `unknown-key`: a checkpoint whose signature fails, or by another key;
 * - `checkpoint-missing`, `checkpoint-out-of-order`, `no-checkpoint`: checkpoints removed or moved;
 * - `forged-append`: records after the daemon's shutdown checkpoint, which no daemon writes;
 * - `unsigned-tail`, `open-end`: the end is vouched for by no signature (and no published head);
 * - `tail-cut`: the log does not reach the published head; `empty`: no line at all;
 * - `malformed`: a line that is neither a record nor a checkpoint.
 */
export type LogProblemKind =
  | 'malformed'
  | 'edited'
  | 'broken-link'
  | 'missing-records'
  | 'out-of-order'
  | 'rewritten'
  | 'forged-checkpoint'
  | 'unknown-key'
  | 'checkpoint-missing'
  | 'checkpoint-out-of-order'
  | 'no-checkpoint'
  | 'forged-append'
  | 'unsigned-tail'
  | 'open-end'
  | 'tail-cut'
  | 'empty';

export interface LogProblem {
  /** 1-based line of the log file. */
  readonly line: number;
  readonly kind: LogProblemKind;
  readonly message: string;
}

/** Something an auditor should know that is not tampering, e.g. a recovery after an unclean stop. */
export interface LogNote {
  readonly line: number;
  readonly message: string;
}

export interface LogVerdict {
  readonly ok: boolean;
  readonly records: number;
  /** Checkpoints whose signature verified. */
  readonly checkpoints: number;
  /** The newest record: its `seq` and hash. */
  readonly head: { readonly seq: number; readonly hash: string };
  /** The last checkpoint whose signature verified. */
  readonly lastCheckpoint?: { readonly line: number; readonly reason: CheckpointReason };
  /** The line of the record with the published head's hash, when `head` was given and found (0 for the genesis hash). */
  readonly headLine?: number;
  readonly problems: readonly LogProblem[];
  readonly notes: readonly LogNote[];
}

export interface VerifyOptions {
  /** The daemon's public keys (Ed25519): checkpoints signed by any of them count. */
  readonly keys: readonly KeyObject[];
  /** A head hash the auditor got from `GET /api/v1/audit/head`: records up to it are vouched for. */
  readonly head?: string;
}

/**
 * Checks a decision log in one streaming pass. Each record's hash matches its content and links to
 * the one before; each checkpoint's signature verifies and it signs the chain as it stands at its
 * line; checkpoints are numbered without gaps; and the end of the log is vouched for by a
 * checkpoint (the shutdown checkpoint, without `head`) or by the published head. Every problem is
 * reported with its line and kind.
 */
export async function verifyDecisionLog(lines: AsyncIterable<string> | Iterable<string>, opts: VerifyOptions): Promise<LogVerdict> {
  const walk = new LogWalk(opts);
  for await (const text of lines) walk.take(text);
  return walk.finish();
}

interface SignedPoint {
  readonly n: number;
  readonly line: number;
  readonly reason: CheckpointReason;
  readonly every: number;
}

class LogWalk {
  private readonly keys: Map<string, KeyObject>;
  private readonly problems: LogProblem[] = [];
  private readonly notes: LogNote[] = [];
  private line = 0;
  private lastLine = 0;
  private records = 0;
  private lastSeq = 0;
  private chainHead = genesisHash;
  private checkpoints = 0;
  private checkpointLines = 0;
  private nextN = 1;
  private last: SignedPoint | undefined;
  /** Records after the last signed checkpoint (or since the start), and the line of the first. */
  private unsigned = 0;
  private firstUnsigned = 0;
  /** Whether a checkpoint already found the chain re-hashed: the later ones follow from it. */
  private diverged = false;
  private appendAfterCloseReported = false;
  /** The line of a checkpoint after the last signed one whose signature failed or whose key is not given. */
  private failedCheckpointLine: number | undefined;
  private headLine: number | undefined;
  /** Records after the one with the published head's hash, and the line of the first. */
  private afterHead = 0;
  private firstAfterHead = 0;

  constructor(private readonly opts: VerifyOptions) {
    this.keys = new Map(opts.keys.map((key) => [keyIdOf(key), key]));
    // The head of a log with no record yet: it stands before line 1.
    if (opts.head === genesisHash) this.headLine = 0;
  }

  take(text: string): void {
    this.line++;
    if (text.trim() === '') return;
    this.lastLine = this.line;
    const parsed = parseLogLine(text);
    if (parsed.kind === 'malformed') this.problem('malformed', `line ${this.line} is ${parsed.why}`);
    else if (parsed.kind === 'record') this.onRecord(parsed.record);
    else this.onCheckpoint(parsed.checkpoint);
  }

  private onRecord(r: DecisionRecord): void {
    this.records++;
    if (!recordHashMatches(r)) this.problem('edited', `record ${r.seq} was changed after it was written (its hash does not match its content)`);
    if (r.prevHash !== this.chainHead) this.problem('broken-link', `record ${r.seq} does not follow the record before it (previous hash mismatch): a record was removed, edited or moved`);
    const expected = this.lastSeq + 1;
    if (r.seq > expected) this.problem('missing-records', `expected record ${expected}, found ${r.seq}: record(s) ${expected}–${r.seq - 1} are missing`);
    if (r.seq < expected) this.problem('out-of-order', `expected record ${expected}, found ${r.seq}: records are out of order`);
    this.lastSeq = r.seq;
    this.chainHead = r.hash;
    if (this.unsigned++ === 0) this.firstUnsigned = this.line;
    if (this.afterHead++ === 0) this.firstAfterHead = this.line;
    if (r.hash === this.opts.head) {
      this.headLine = this.line;
      this.afterHead = 0;
    }
    if (this.last?.reason === 'close' && !this.appendAfterCloseReported) {
      this.appendAfterCloseReported = true;
      const between = this.failedCheckpointLine === undefined ? 'with no start checkpoint between: no daemon wrote it' : `and the only checkpoint between (line ${this.failedCheckpointLine}) does not verify: no daemon wrote it, unless that checkpoint's key is missing from --key`;
      this.problem('forged-append', `record ${r.seq} follows the daemon's shutdown checkpoint (line ${this.last.line}) ${between} (a daemon signs a checkpoint before the first record of each run)`);
    }
  }

  private onCheckpoint(c: Checkpoint): void {
    this.checkpointLines++;
    const { n, records, head, keyId, reason, every } = c.checkpoint;
    const key = this.keys.get(keyId);
    if (key === undefined || !checkpointSignatureValid(c, key)) {
      if (key === undefined) this.problem('unknown-key', `checkpoint ${n} is signed by key ${keyId}, not by the key(s) given (${[...this.keys.keys()].join(', ')}): give the daemon's other key with another --key, or the checkpoint is forged`);
      else this.problem('forged-checkpoint', `checkpoint ${n}'s signature does not verify with key ${keyId}: the checkpoint was forged or altered after it was signed`);
      // It still takes its place in the numbering, so the next checkpoint is not reported missing too.
      this.nextN++;
      this.failedCheckpointLine = this.line;
      return;
    }
    this.checkpoints++;
    if (n > this.nextN) this.problem('checkpoint-missing', `expected checkpoint ${this.nextN}, found ${n}: checkpoint(s) ${this.nextN}–${n - 1} were removed`);
    if (n < this.nextN) this.problem('checkpoint-out-of-order', `expected checkpoint ${this.nextN}, found ${n} again or out of order: checkpoints were copied or moved`);
    this.nextN = Math.max(this.nextN, n + 1);
    const matches = records === this.lastSeq && head === this.chainHead;
    if (!matches && !this.diverged) this.problem('rewritten', this.rewrittenMessage(c));
    this.diverged = !matches;
    if (reason === 'recovery') {
      const late = this.unsigned > 0 ? `records ${this.lastSeq - this.unsigned + 1}–${this.lastSeq} (from line ${this.firstUnsigned}) were signed when the daemon started again, not as they were written` : 'no record was left unsigned';
      this.notes.push({ line: this.line, message: `recovery: the daemon did not stop cleanly before this start; ${late}` });
    }
    this.last = { n, line: this.line, reason, every };
    this.unsigned = 0;
    this.appendAfterCloseReported = false;
    this.failedCheckpointLine = undefined;
  }

  private rewrittenMessage(c: Checkpoint): string {
    const { n, records, head } = c.checkpoint;
    const since = this.last === undefined ? 'the start' : `checkpoint ${this.last.n} (line ${this.last.line})`;
    if (records === this.lastSeq) {
      return `checkpoint ${n} signed record ${records} with hash ${head.slice(0, 12)}…, but the chain here ends in ${this.chainHead.slice(0, 12)}…: a record after ${since} was rewritten and the records after it re-hashed`;
    }
    const how = records > this.lastSeq ? 'removed' : 'inserted';
    return `checkpoint ${n} signed ${records} records, but the log holds ${this.lastSeq} up to here: records after ${since} were ${how} and the chain re-hashed`;
  }

  finish(): LogVerdict {
    if (this.lastLine === 0) {
      this.problems.push({ line: 1, kind: 'empty', message: 'the log is empty: a daemon signs a checkpoint as it creates its log, so this one was emptied (or is not a decision log)' });
    } else {
      this.checkEnd();
    }
    return {
      ok: this.problems.length === 0,
      records: this.records,
      checkpoints: this.checkpoints,
      head: { seq: this.lastSeq, hash: this.chainHead },
      ...(this.last === undefined ? {} : { lastCheckpoint: { line: this.last.line, reason: this.last.reason } }),
      ...(this.headLine === undefined ? {} : { headLine: this.headLine }),
      problems: this.problems,
      notes: this.notes,
    };
  }

  /** Whether a signature or the published head vouches for the end of the log. */
  private checkEnd(): void {
    const { head } = this.opts;
    const last = this.last;
    if (head !== undefined && this.headLine === undefined) {
      const since = last === undefined ? '' : `, or rewritten after its last signed checkpoint (line ${last.line})`;
      this.problems.push({
        line: this.lastLine,
        kind: 'tail-cut',
        message: `the published head ${head.slice(0, 12)}… is not in the log, which ends at record ${this.lastSeq}: records were cut from its end${since} (or the head is another log's)`,
      });
      return;
    }
    if (last === undefined) {
      if (this.records > 0) {
        const why = this.checkpointLines === 0 ? 'the log has no checkpoint: it was written before the daemon signed its log, or its checkpoints were removed' : 'no checkpoint in it has a valid signature';
        this.problems.push({ line: this.firstUnsigned, kind: 'no-checkpoint', message: `none of the ${this.records} records is signed: ${why}` });
      }
      return;
    }
    const unvouched = this.headLine === undefined ? this.unsigned : Math.min(this.unsigned, this.afterHead);
    if (this.unsigned > last.every) {
      this.problems.push({
        line: this.firstUnsigned,
        kind: 'checkpoint-missing',
        message: `${this.unsigned} records after the last signed checkpoint (line ${last.line}) carry no signature, though the daemon signs one every ${last.every} records: checkpoints after line ${last.line} were removed`,
      });
    } else if (unvouched > 0 && last.reason !== 'close') {
      const message =
        this.headLine === undefined
          ? `${unvouched} record(s) after the last signed checkpoint (line ${last.line}) are not covered by a signature: appended after the daemon's last checkpoint, or the daemon is still running or did not stop cleanly; verify against a published head with --head`
          : `${unvouched} record(s) after the published head (${this.headLine === 0 ? 'an empty log\'s' : `line ${this.headLine}`}) and after the last signed checkpoint (line ${last.line}) are vouched for by neither: appended by someone else, or written since the head was published by a daemon that is still running or did not stop cleanly`;
      this.problems.push({ line: unvouched < this.unsigned ? this.firstAfterHead : this.firstUnsigned, kind: 'unsigned-tail', message });
    } else if (this.unsigned === 0 && head === undefined && last.reason !== 'close') {
      this.problems.push({
        line: last.line,
        kind: 'open-end',
        message: `the log ends at checkpoint ${last.n} (line ${last.line}), not with the daemon's shutdown checkpoint: the daemon is still running or did not stop cleanly, or what followed line ${last.line} was cut off; verify against a published head with --head`,
      });
    }
  }

  private problem(kind: LogProblemKind, message: string): void {
    this.problems.push({ line: this.line, kind, message });
  }
}
