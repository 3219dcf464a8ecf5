import assert from 'node:assert/strict';
import type { Checkpoint } from '../../../knowledge/audit/checkpoint.js';
import { parseLogLine, signCheckpoint } from '../../../knowledge/audit/checkpoint.js';
import { sealRecord } from '../../../knowledge/audit/decision-log.js';
import type { DecisionRecord } from '../../../knowledge/audit/decision-record.js';
import type { LogProblemKind, VerifyOptions } from '../../../knowledge/audit/verify-log.js';
import { verifyDecisionLog } from '../../../knowledge/audit/verify-log.js';
import { testSigner } from '../../support/audit-records.js';
import type { WrittenLog } from '../../support/log-tampering.js';
import { appendForged, isCheckpoint, rewriteAndRehash, writeLog } from '../../support/log-tampering.js';

/**
 * The verifier over logs the log class wrote, 7 records with a checkpoint every 3:
 * line 1 cp1(open) · 2–4 r1–r3 · 5 cp2 · 6–8 r4–r6 · 9 cp3 · 10 r7 · 11 cp4(close).
 */
describe('verifying a signed decision log', () => {
  const signer = testSigner();
  const otherSigner = testSigner();
  let log: WrittenLog;
  before(async () => (log = await writeLog(signer)));
  const keys = () => [signer.publicKey];
  const lastHash = () => log.hashes[6] as string;

  const verify = (lines: readonly string[], opts: Partial<VerifyOptions> = {}) => verifyDecisionLog(lines, { keys: keys(), ...opts });
  const withCheckpoint = (lines: readonly string[], index: number, change: (c: Checkpoint) => Checkpoint) =>
    lines.map((l, i) => (i === index ? JSON.stringify(change(JSON.parse(l) as Checkpoint)) : l));

  it('passes an untampered log that ends with the shutdown checkpoint, and says where it ends', async () => {
    const verdict = await verify(log.closed);
    assert.deepEqual(verdict.problems, []);
    assert.deepEqual([verdict.ok, verdict.records, verdict.checkpoints, verdict.head.seq, verdict.head.hash], [true, 7, 4, 7, lastHash()]);
    assert.deepEqual(verdict.lastCheckpoint, { line: 11, reason: 'close' });
  });

  const cases: { rule: string; lines: () => string[]; opts?: () => Partial<VerifyOptions>; kinds: LogProblemKind[]; line: number; says: RegExp }[] = [
    { rule: 'the last records dropped back to a checkpoint, without a head: the end is not the shutdown checkpoint', lines: () => log.closed.slice(0, 9), kinds: ['open-end'], line: 9, says: /ends at checkpoint 3 \(line 9\), not with the daemon's shutdown checkpoint.*cut off/ },
    { rule: 'the last records dropped mid-run, without a head: the records left at the end are unsigned', lines: () => log.closed.slice(0, 7), kinds: ['unsigned-tail'], line: 6, says: /2 record\(s\) after the last signed checkpoint \(line 5\) are not covered by a signature/ },
    { rule: 'the last records dropped, with the published head: the log does not reach it', lines: () => log.closed.slice(0, 7), opts: () => ({ head: lastHash() }), kinds: ['tail-cut'], line: 7, says: /published head .* is not in the log, which ends at record 5: records were cut from its end/ },
    { rule: 'the last records dropped at a checkpoint, with the published head', lines: () => log.closed.slice(0, 9), opts: () => ({ head: lastHash() }), kinds: ['tail-cut'], line: 9, says: /ends at record 6/ },
    { rule: 'one record rewritten and every record after it re-hashed', lines: () => rewriteAndRehash(log.closed, 2, (r) => ({ ...r, reason: 'forged' })), kinds: ['rewritten'], line: 5, says: /checkpoint 2 signed record 3 with hash .* a record after checkpoint 1 \(line 1\) was rewritten and the records after it re-hashed/ },
    { rule: 'the newest record rewritten and re-hashed', lines: () => rewriteAndRehash(log.closed, 7, (r) => ({ ...r, reason: 'forged' })), kinds: ['rewritten'], line: 11, says: /checkpoint 4 signed record 7/ },
    { rule: 'a record removed and the rest renumbered and re-hashed', lines: () => renumberedWithout(log.closed, 5), kinds: ['rewritten'], line: 8, says: /checkpoint 3 signed 6 records, but the log holds 5 up to here: records after checkpoint 2 \(line 5\) were removed/ },
    { rule: 'a forged record appended after the shutdown checkpoint, correctly chained', lines: () => appendForged(log.closed), kinds: ['forged-append'], line: 12, says: /record 8 follows the daemon's shutdown checkpoint \(line 11\).*no daemon wrote it/ },
    { rule: 'a forged record appended after the shutdown checkpoint, even with the head it leads from', lines: () => appendForged(log.closed), opts: () => ({ head: lastHash() }), kinds: ['forged-append'], line: 12, says: /no daemon wrote it/ },
    { rule: 'a forged record appended to a killed daemon\'s log, with the published head', lines: () => appendForged(log.killed), opts: () => ({ head: lastHash() }), kinds: ['unsigned-tail'], line: 11, says: /1 record\(s\) after the published head \(line 10\) and after the last signed checkpoint \(line 9\) are vouched for by neither: appended by someone else/ },
    { rule: 'an emptied file', lines: () => [], kinds: ['empty'], line: 1, says: /the log is empty: .* emptied/ },
    { rule: 'every checkpoint stripped', lines: () => log.closed.filter((l) => !isCheckpoint(l)), kinds: ['no-checkpoint'], line: 1, says: /none of the 7 records is signed: the log has no checkpoint/ },
    { rule: 'a checkpoint in the middle stripped', lines: () => log.closed.filter((_, i) => i !== 4), kinds: ['checkpoint-missing'], line: 8, says: /expected checkpoint 2, found 3: checkpoint\(s\) 2–2 were removed/ },
    { rule: 'the last checkpoints stripped, leaving more unsigned records than the daemon ever leaves', lines: () => log.closed.filter((_, i) => i !== 8 && i !== 10), kinds: ['checkpoint-missing'], line: 6, says: /4 records after the last signed checkpoint \(line 5\) carry no signature, though the daemon signs one every 3 records/ },
    { rule: 'a checkpoint copied to a later place', lines: () => [...log.closed.slice(0, 10), log.closed[4] as string, log.closed[10] as string], kinds: ['checkpoint-out-of-order', 'rewritten'], line: 11, says: /expected checkpoint 4, found 2 again or out of order/ },
    { rule: 'a checkpoint whose signed head was altered', lines: () => withCheckpoint(log.closed, 4, (c) => ({ ...c, checkpoint: { ...c.checkpoint, head: 'f'.repeat(64) } })), kinds: ['forged-checkpoint'], line: 5, says: /checkpoint 2's signature does not verify with key .*forged or altered/ },
    { rule: 'a checkpoint signed by a forger\'s key that claims the daemon\'s key id', lines: () => withCheckpoint(log.closed, 10, (c) => ({ ...signCheckpoint(c.checkpoint, otherSigner), checkpoint: c.checkpoint })), kinds: ['forged-checkpoint', 'unsigned-tail'], line: 11, says: /checkpoint 4's signature does not verify/ },
    { rule: 'a checkpoint signed by a key not given', lines: () => withCheckpoint(log.closed, 4, (c) => signCheckpoint(c.checkpoint, otherSigner)), kinds: ['unknown-key'], line: 5, says: new RegExp(`checkpoint 2 is signed by key ${otherSigner.keyId}, not by the key\\(s\\) given`) },
    { rule: 'an edited field without re-hashing', lines: () => log.closed.map((l, i) => (i === 2 ? l.replace('"rule 2"', '"rule 1"') : l)), kinds: ['edited'], line: 3, says: /record 2 was changed after it was written/ },
    { rule: 'a record dropped from the middle without re-hashing', lines: () => log.closed.filter((_, i) => i !== 6), kinds: ['broken-link', 'missing-records'], line: 7, says: /expected record 5, found 6: record\(s\) 5–5 are missing/ },
    { rule: 'a line that is no record', lines: () => [...log.closed.slice(0, 10), '{}', log.closed[10] as string], kinds: ['malformed'], line: 11, says: /line 11 is neither a decision record .* nor a checkpoint/ },
  ];
  for (const c of cases) {
    it(`detects ${c.rule}`, async () => {
      const verdict = await verify(c.lines(), c.opts?.() ?? {});
      assert.equal(verdict.ok, false);
      assert.deepEqual(verdict.problems.map((p) => p.kind), c.kinds, JSON.stringify(verdict.problems, null, 1));
      const first = verdict.problems[0];
      assert.equal(first?.line, c.line, first?.message);
      assert.ok(verdict.problems.some((p) => c.says.test(p.message)), `${String(c.says)} in ${JSON.stringify(verdict.problems, null, 1)}`);
    });
  }

  it("reports a killed daemon's log as unsigned at its end, and passes it against the head it published", async () => {
    const unsigned = await verify(log.killed);
    assert.deepEqual(unsigned.problems.map((p) => [p.kind, p.line]), [['unsigned-tail', 10]]);
    assert.match(unsigned.problems[0]?.message ?? '', /or the daemon is still running or did not stop cleanly; verify against a published head with --head/);
    const vouched = await verify(log.killed, { head: lastHash() });
    assert.deepEqual([vouched.ok, vouched.headLine], [true, 10]);
  });

  it("takes the genesis hash as the head of a log with no record yet", async () => {
    const genesis = '0'.repeat(64);
    const fresh = await verify(log.killed.slice(0, 1), { head: genesis });
    assert.deepEqual([fresh.ok, fresh.headLine], [true, 0]);
    const later = await verify(log.killed.slice(0, 3), { head: genesis });
    assert.deepEqual(later.problems.map((p) => [p.kind, p.line]), [['unsigned-tail', 2]]);
    assert.match(later.problems[0]?.message ?? '', /2 record\(s\) after the published head \(an empty log's\)/);
  });

  it('passes a log against an older published head when what follows it is signed', async () => {
    const verdict = await verify(log.closed, { head: log.hashes[1] as string });
    assert.deepEqual([verdict.ok, verdict.headLine], [true, 3]);
  });

  it('passes a log whose checkpoints are under two keys when both are given, and names the missing one otherwise', async () => {
    // The daemon continues a log only under its own key; a log with two keys is two keys' work put together.
    const lines = [...log.closed];
    const last = parseLogLine(lines.at(-1) as string);
    assert.equal(last.kind, 'checkpoint');
    if (last.kind === 'checkpoint') {
      const { keyId: _ours, ...body } = last.checkpoint.checkpoint;
      lines[lines.length - 1] = JSON.stringify(signCheckpoint(body, otherSigner));
    }
    assert.equal((await verify(lines, { keys: [signer.publicKey, otherSigner.publicKey] })).ok, true);
    const one = await verify(lines);
    assert.deepEqual(one.problems.map((p) => p.kind), ['unknown-key', 'unsigned-tail']);
  });
});

/** Removes record `seq`, then renumbers and re-hashes the records after it, as a careful forger would. */
function renumberedWithout(lines: readonly string[], seq: number): string[] {
  let n = 0;
  let prevHash = '';
  return lines.flatMap((line) => {
    if (isCheckpoint(line)) return [line];
    const record = JSON.parse(line) as DecisionRecord;
    if (record.seq === seq) return [];
    const { seq: old, prevHash: _prev, hash: _hash, ...unsealed } = record;
    const sealed = old < seq ? record : sealRecord(unsealed, n + 1, prevHash);
    n = sealed.seq;
    prevHash = sealed.hash;
    return [JSON.stringify(sealed)];
  });
}
