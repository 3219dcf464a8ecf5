import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditVerify } from '../../../daemon/cli/audit.js';
import type { UnsealedRecord } from '../../../knowledge/audit/decision-log.js';
import { FileDecisionLog, genesisHash, linesOf, verifyDecisionLog } from '../../../knowledge/audit/decision-log.js';
import { digestOf } from '../../../knowledge/canonical-json.js';

function decision(requestId: string, archetype = 'computeToData'): UnsealedRecord {
  return {
    at: 1_700_000_000_000,
    requestId,
    requester: 'analyst@uva.example',
    requestType: 'sqlDataRequest',
    providers: ['VU', 'UVA'],
    inputsDigest: 'a'.repeat(64),
    policyRevision: '0123456789ab',
    strategy: 'dynamos',
    candidates: [],
    choice: { archetype },
    reason: 'rule 2',
    chains: [],
    outcome: { kind: 'completed', latencyMs: 120, bytes: 46, cpuSeconds: 0.2, energyJoules: 2 },
  };
}

describe('decision log: append-only, hash-chained', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-audit-'));
    file = path.join(dir, 'decisions.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function writeThree(): Promise<string[]> {
    const log = await FileDecisionLog.open(file);
    await Promise.all(['r1', 'r2', 'r3'].map((id) => log.append(decision(id))));
    await log.close();
    return readFileSync(file, 'utf8').trim().split('\n');
  }
  const verify = (lines: string[]) => verifyDecisionLog(lines);

  it('numbers records 1, 2, 3 and chains each to the one before, even when appended at once', async () => {
    const records = (await writeThree()).map((l) => JSON.parse(l) as { seq: number; prevHash: string; hash: string });
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3]);
    assert.equal(records[0]?.prevHash, genesisHash);
    assert.equal(records[1]?.prevHash, records[0]?.hash);
    assert.deepEqual(await verify((await readFileSync(file, 'utf8')).trim().split('\n')), { ok: true, records: 3, lastHash: records[2]?.hash });
  });

  it('continues the chain after reopening', async () => {
    await writeThree();
    const log = await FileDecisionLog.open(file);
    assert.equal((await log.append(decision('r4'))).seq, 4);
    await log.close();
    assert.equal((await verifyDecisionLog(linesOf(file))).ok, true);
  });

  const tampering: [string, (lines: string[]) => string[], RegExp][] = [
    ['an edited field', (l) => l.map((x, i) => (i === 1 ? x.replace('"computeToData"', '"dataThroughTtp"') : x)), /record 2 was changed/],
    ['a dropped record', (l) => [l[0] as string, l[2] as string], /expected record 2, found 3: record\(s\) 2–2 are missing/],
    ['reordered records', (l) => [l[0] as string, l[2] as string, l[1] as string], /out of order|does not follow/],
    ['a forged record re-hashed on its own', (l) => l.map((x, i) => (i === 1 ? refake(x) : x)), /record 3 does not follow/],
  ];
  for (const [what, tamper, message] of tampering) {
    it(`detects ${what}`, async () => {
      const verdict = await verify(tamper(await writeThree()));
      assert.equal(verdict.ok, false);
      assert.ok(!verdict.ok && verdict.problems.some((p) => message.test(p.message)), JSON.stringify(verdict));
    });
  }

  it('finds a record by request id, from memory and from the file', async () => {
    await writeThree();
    const reopened = await FileDecisionLog.open(file);
    assert.equal((await reopened.find('r2'))?.seq, 2);
    assert.equal(await reopened.find('nope'), undefined);
  });

  it('`dynamos audit verify` exits 0 on an intact log and 1 naming the line of a tampered one', async () => {
    const lines = await writeThree();
    const out: string[] = [];
    const err: string[] = [];
    const output = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    assert.equal(await auditVerify(file, output), 0);
    assert.match(out[0] ?? '', /3 records, chain intact/);
    writeFileSync(file, `${lines.map((x, i) => (i === 1 ? x.replace('"rule 2"', '"rule 1"') : x)).join('\n')}\n`);
    assert.equal(await auditVerify(file, output), 1);
    assert.match(err[0] ?? '', /decisions\.jsonl:2: record 2 was changed/);
    assert.equal(await auditVerify(path.join(dir, 'missing.jsonl'), output), 2);
  });
});

/**
 * A forger who edits a record and recomputes its hash: the record checks out on its own, but the
 * next record's link no longer does. (Forging the last record this way needs the published head
 * hash to catch it: `audit verify` prints it for comparison.)
 */
function refake(line: string): string {
  const { hash: _old, ...body } = JSON.parse(line) as Record<string, unknown>;
  const forged = { ...body, reason: 'forged' };
  return JSON.stringify({ ...forged, hash: digestOf(forged) });
}

describe('linesOf', () => {
  it('gives each line as written: across megabyte chunks and a character split by them, without CRLF endings, with no last empty line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lines-of-'));
    try {
      // The first line ends one byte into the second megabyte, inside the two bytes of an "é".
      const long = `${'x'.repeat((1 << 20) - 1)}é`;
      const lines = [long, 'crlf', '', 'last ✓'];
      const file = path.join(dir, 'lines.txt');
      writeFileSync(file, `${lines[0]}\n${lines[1]}\r\n${lines[2]}\n${lines[3]}\n`);
      const read: string[] = [];
      for await (const line of linesOf(file)) read.push(line);
      assert.deepEqual(read, lines);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
