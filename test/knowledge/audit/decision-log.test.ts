import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { genesisHash, linesOf, recordHashMatches, sealRecord } from '../../../knowledge/audit/decision-log.js';
import type { DecisionRecord } from '../../../knowledge/audit/decision-record.js';
import { FileDecisionLog } from '../../../knowledge/audit/log-file.js';
import { decision, testSigner } from '../../support/audit-records.js';

describe('decision log: append-only, hash-chained', () => {
  let dir: string;
  let file: string;
  const signer = testSigner();
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-audit-'));
    file = path.join(dir, 'decisions.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const recordsIn = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DecisionRecord & { checkpoint?: unknown })
      .filter((l) => l.checkpoint === undefined);

  it('numbers records 1, 2, 3 and chains each to the one before, even when appended at once', async () => {
    const log = await FileDecisionLog.open(file, { signer });
    await Promise.all(['r1', 'r2', 'r3'].map((id) => log.append(decision(id))));
    await log.close();
    const records = recordsIn(readFileSync(file, 'utf8'));
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3]);
    assert.equal(records[0]?.prevHash, genesisHash);
    assert.equal(records[1]?.prevHash, records[0]?.hash);
    assert.ok(records.every(recordHashMatches));
  });

  it('continues the numbering and the chain after reopening', async () => {
    const first = await FileDecisionLog.open(file, { signer });
    const r2 = (await first.append(decision('r1')), await first.append(decision('r2')));
    await first.close();
    const again = await FileDecisionLog.open(file, { signer });
    const r3 = await again.append(decision('r3'));
    await again.close();
    assert.deepEqual([r3.seq, r3.prevHash], [3, r2.hash]);
    assert.equal(again.opening.kind, 'continued');
  });

  it('finds a record by request id, from memory and from the file', async () => {
    const log = await FileDecisionLog.open(file, { signer, keepRecent: 1 });
    for (const id of ['r1', 'r2', 'r3']) await log.append(decision(id));
    assert.equal((await log.find('r3'))?.seq, 3, 'from memory');
    assert.equal((await log.find('r2'))?.seq, 2, 'from the file, past the checkpoint lines');
    assert.equal(await log.find('nope'), undefined);
    await log.close();
  });

  it('keeps recent records within a bound in bytes, however long they are, and finds the others in the file', async () => {
    const bound = 64 * 1024;
    const log = await FileDecisionLog.open(file, { signer, keepRecentBytes: bound });
    // Records with a reason of 8 KB each: a count of 10,000 would keep 80 MB of them.
    for (let i = 1; i <= 60; i++) {
      await log.append({ ...decision(`r${i}`), reason: `${i} `.padEnd(8_000, 'x') });
      assert.ok(log.recentBytes <= bound, `holds ${log.recentBytes} bytes`);
    }
    assert.ok(log.recentBytes > bound / 2, 'it does keep recent records, up to its bound');
    assert.equal((await log.find('r60'))?.seq, 60, 'from memory');
    assert.equal((await log.find('r1'))?.seq, 1, 'from the file');
    await log.close();
  });

  it('detects an edit by the hash alone', () => {
    const sealed = sealRecord(decision('r1'), 1, genesisHash);
    assert.equal(recordHashMatches(sealed), true);
    assert.equal(recordHashMatches({ ...sealed, reason: 'rule 1' }), false);
  });
});

describe('linesOf', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'lines-of-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const read = async (file: string, range?: { start?: number; end?: number }) => {
    const lines: string[] = [];
    for await (const line of linesOf(file, range)) lines.push(line);
    return lines;
  };

  it('gives each line as written: across megabyte chunks and a character split by them, without CRLF endings, with no last empty line', async () => {
    // The first line ends one byte into the second megabyte, inside the two bytes of an "é".
    const long = `${'x'.repeat((1 << 20) - 1)}é`;
    const lines = [long, 'crlf', '', 'last ✓'];
    const file = path.join(dir, 'lines.txt');
    writeFileSync(file, `${lines[0]}\n${lines[1]}\r\n${lines[2]}\n${lines[3]}\n`);
    assert.deepEqual(await read(file), lines);
  });

  it('reads only the byte range asked for', async () => {
    const file = path.join(dir, 'range.txt');
    writeFileSync(file, 'one\ntwo\nthree\ntorn');
    assert.deepEqual(await read(file, { start: 4, end: 14 }), ['two', 'three']);
    assert.deepEqual(await read(file, { start: 14, end: 14 }), []);
  });
});
