import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import type { Checkpoint } from '../../../knowledge/audit/checkpoint.js';
import { FileDecisionLog } from '../../../knowledge/audit/log-file.js';
import { verifyDecisionLog } from '../../../knowledge/audit/verify-log.js';
import { DynamosError } from '../../../knowledge/errors.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
import { decision, testSigner } from '../../support/audit-records.js';
import type { WrittenLog } from '../../support/log-tampering.js';
import { appendForged, isCheckpoint, textOf, writeLog } from '../../support/log-tampering.js';

/** A logger that keeps what it was told. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger & { warnings: string[] } = { warnings, debug: () => undefined, info: () => undefined, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m), child: () => logger };
  return logger;
}

describe('opening and writing a signed decision log', () => {
  const signer = testSigner();
  let written: WrittenLog;
  let dir: string;
  let file: string;
  let clock: SimulatedClock;
  before(async () => (written = await writeLog(signer)));
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-log-file-'));
    file = path.join(dir, 'decisions.jsonl');
    clock = new SimulatedClock();
    clock.set(1_800_000_000_000);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (opts: { logger?: Logger; every?: number } = {}) => FileDecisionLog.open(file, { signer, clock, checkpointEvery: opts.every ?? 3, ...(opts.logger === undefined ? {} : { logger: opts.logger }) });
  const checkpoints = () => lines().filter(isCheckpoint).map((l) => (JSON.parse(l) as Checkpoint).checkpoint);
  const lines = () => readFileSync(file, 'utf8').trim().split('\n');
  const verified = async () => verifyDecisionLog(lines(), { keys: [signer.publicKey] });

  it('creates a new log with its first checkpoint, signs every N records and at close', async () => {
    const log = await open();
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 2, 'a new log is never empty');
    for (let i = 1; i <= 4; i++) await log.append(decision(`r${i}`));
    await log.close();
    assert.deepEqual(checkpoints().map((c) => [c.n, c.reason, c.records, c.every]), [[1, 'open', 0, 3], [2, 'every', 3, 3], [3, 'close', 4, 3]]);
    assert.equal(checkpoints()[2]?.head, log.head().hash);
    assert.equal(checkpoints()[0]?.at, 1_800_000_000_000, 'on the clock given');
    assert.deepEqual((await verified()).problems, []);
  });

  it('refuses appends once closed, and closes once', async () => {
    const log = await open();
    await log.close();
    await log.close();
    await assert.rejects(log.append(decision('late')), (e: DynamosError) => e.code === 'INTERNAL' && /takes no more records: it is closed/.test(e.message));
    assert.equal(checkpoints().length, 2);
  });

  it('cuts off a torn last line, keeps its bytes aside, reports it, and continues the numbering', async () => {
    const torn = '{"at":1700000000000,"requestId":"half';
    writeFileSync(file, textOf(written.killed) + torn);
    const logger = recordingLogger();
    const log = await open({ logger });
    assert.deepEqual(log.opening.torn?.bytes, Buffer.byteLength(torn));
    assert.equal(readFileSync(log.opening.torn?.keptIn as string, 'utf8'), torn);
    assert.equal((await log.append(decision('r8'))).seq, 8);
    await log.close();
    assert.ok(!readFileSync(file, 'utf8').includes('"half'));
    assert.ok(logger.warnings.some((w) => /line cut short .* cut off, its bytes kept aside; numbering continues/.test(w)), logger.warnings.join('\n'));
    assert.deepEqual((await verified()).problems, []);
  });

  it('keeps every torn line it cuts, never overwriting an earlier one', async () => {
    for (const torn of ['first torn', 'second torn']) {
      writeFileSync(file, textOf(written.closed) + torn);
      await (await open()).close();
    }
    const kept = readdirSync(dir).filter((f) => f.includes('.torn-')).map((f) => readFileSync(path.join(dir, f), 'utf8'));
    assert.deepEqual(kept.sort(), ['first torn', 'second torn']);
  });

  it('signs a recovery checkpoint over what a killed daemon left, visible to the next verify', async () => {
    writeFileSync(file, textOf(written.killed));
    const logger = recordingLogger();
    const log = await open({ logger });
    await log.close();
    assert.deepEqual([log.opening.kind, log.opening.signedLate], ['recovered', 1]);
    assert.deepEqual(checkpoints().slice(-2).map((c) => [c.n, c.reason, c.records]), [[4, 'recovery', 7], [5, 'close', 7]]);
    const verdict = await verified();
    assert.deepEqual(verdict.problems, []);
    assert.match(verdict.notes[0]?.message ?? '', /recovery: .* records 7–7 \(from line 10\) were signed when the daemon started again/);
    assert.ok(logger.warnings.some((w) => /did not end with a shutdown checkpoint/.test(w)));
  });

  it('signs a log from before checkpoints existed as a recovery of all its records', async () => {
    writeFileSync(file, textOf(written.closed.filter((l) => !isCheckpoint(l))));
    const log = await open({ every: 100 });
    await log.close();
    assert.deepEqual([log.opening.kind, log.opening.signedLate, log.head().seq], ['recovered', 7, 7]);
    assert.match((await verified()).notes[0]?.message ?? '', /records 1–7 \(from line 1\) were signed when the daemon started again/);
  });

  it('refuses to continue a log last signed by another key, which it would otherwise countersign', async () => {
    writeFileSync(file, textOf(written.closed));
    const before = readFileSync(file, 'utf8');
    await assert.rejects(FileDecisionLog.open(file, { signer: testSigner(), clock, logger: recordingLogger() }), (e: DynamosError) => e.code === 'CONFIG_INVALID' && /is signed by key [0-9a-f]+, not by this daemon's key [0-9a-f]+: a log is continued only under the key that signed it/.test(e.message));
    assert.equal(readFileSync(file, 'utf8'), before, 'the log is left as it was');
  });

  it('refuses a log it cannot create, naming it', async () => {
    writeFileSync(path.join(dir, 'a-file'), '');
    const inside = path.join(dir, 'a-file', 'decisions.jsonl');
    await assert.rejects(FileDecisionLog.open(inside, { signer }), (e: DynamosError) => e.code === 'CONFIG_INVALID' && e.message.startsWith(`cannot open the decision log ${inside}: `));
  });

  const refusals: { rule: string; text: () => string; says: RegExp }[] = [
    { rule: 'a last line of {} (no silent renumbering)', text: () => `${textOf(written.closed)}{}\n`, says: /the line after record 7 is neither a decision record .* would silently restart the numbering/ },
    { rule: 'an emptied log', text: () => '', says: /holds no line, while a daemon writes a signed checkpoint as it creates its log: it was emptied/ },
    { rule: 'records appended after the shutdown checkpoint', text: () => textOf(appendForged(written.closed)), says: /1 record\(s\) follow the daemon's shutdown checkpoint \(4\).*someone else appended them/ },
    { rule: 'more unsigned records than the daemon leaves (checkpoints removed)', text: () => textOf(written.killed.filter((_, i) => i !== 8)), says: /4 records follow its last checkpoint \(2\), though the daemon signs one every 3: checkpoints were removed/ },
    { rule: 'a record after the last checkpoint edited', text: () => textOf(written.killed.map((l, i) => (i === 9 ? l.replace('"rule 2"', '"rule 1"') : l))), says: /record 7 after its last checkpoint \(3, record 6\) was changed/ },
    { rule: 'a last checkpoint forged under this key', text: () => textOf(written.closed.map((l, i) => (i === 10 ? forgeHead(l) : l))), says: /its last checkpoint \(4\) does not verify with this daemon's key/ },
  ];
  for (const r of refusals) {
    it(`refuses to continue ${r.rule}, naming the log, leaving it as it was and the lock free`, async () => {
      writeFileSync(file, r.text());
      const before = readFileSync(file);
      await assert.rejects(open(), (e: DynamosError) => e instanceof DynamosError && e.code === 'CONFIG_INVALID' && e.message.includes(file) && r.says.test(e.message));
      assert.deepEqual(readFileSync(file), before);
      assert.equal(existsSync(`${file}.lock`), false);
    });
  }
});

/** The checkpoint line with its signed head changed: its signature no longer holds. */
function forgeHead(line: string): string {
  const c = JSON.parse(line) as Checkpoint;
  return JSON.stringify({ ...c, checkpoint: { ...c.checkpoint, head: 'f'.repeat(64) } });
}
