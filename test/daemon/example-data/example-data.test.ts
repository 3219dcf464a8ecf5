import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { existingExampleFiles, prepareExampleData, writeExampleData } from '../../../daemon/example-data/example-data.js';
import { generateWageGapData } from '../../../daemon/example-data/generate-wage-gap.js';
import { DynamosError } from '../../../knowledge/errors.js';

const stewards = ['UVA', 'VU'];
const rowsOf = (dir: string, steward = 'UVA') => readFileSync(path.join(dir, steward, 'Personen.csv'), 'utf8').trim().split('\n').length - 1;
const prepare = (dir: string, opts: { rows: number; rowsGiven?: boolean; force?: boolean }) => prepareExampleData(dir, stewards, { rowsGiven: false, force: false, ...opts });
const refusedSaying = (pattern: RegExp) => (error: unknown) => error instanceof DynamosError && error.code === 'CONFIG_INVALID' && pattern.test(error.message);

describe("the example's data: never a user's data replaced unasked", () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-example-data-'));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('generates into a directory that holds none of its files, and stamps the row count', async () => {
    const dir = path.join(fresh(), 'not-yet');
    assert.deepEqual(await prepare(dir, { rows: 20 }), { kind: 'generated', rows: 20, replaced: false });
    assert.equal(rowsOf(dir, 'VU'), 20);
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'generated.json'), 'utf8')), { rows: 20, seed: 1, stewards });
    assert.deepEqual(readdirSync(path.join(dir, 'UVA')).sort(), ['Aanstellingen.csv', 'Personen.csv'], 'no temp file is left beside the tables');
  });

  it('keeps a complete directory of another row count when no row count was asked for', async () => {
    const dir = fresh();
    await writeExampleData(dir, stewards, { rows: 50, seed: 1 });
    assert.deepEqual(await prepare(dir, { rows: 10_000 }), { kind: 'kept', rows: 50 });
    assert.equal(rowsOf(dir), 50);
  });

  it('keeps complete tables without a stamp, their size unknown', async () => {
    const dir = fresh();
    await generateWageGapData(dir, stewards, { rows: 7 });
    assert.deepEqual(await prepare(dir, { rows: 10_000 }), { kind: 'kept', rows: undefined });
    assert.equal(rowsOf(dir), 7);
  });

  it('refuses data of another row count when a row count was asked for, and --force replaces it', async () => {
    const dir = fresh();
    await writeExampleData(dir, stewards, { rows: 50, seed: 1 });
    await assert.rejects(prepare(dir, { rows: 30, rowsGiven: true }), refusedSaying(/holds example data of 50 rows per steward, not the 30 rows asked for: pass --force/));
    assert.equal(rowsOf(dir), 50);
    assert.deepEqual(await prepare(dir, { rows: 50, rowsGiven: true }), { kind: 'kept', rows: 50 });
    assert.deepEqual(await prepare(dir, { rows: 30, rowsGiven: true, force: true }), { kind: 'generated', rows: 30, replaced: true });
    assert.equal(rowsOf(dir), 30);
  });

  it('refuses a directory holding only part of the tables, naming the first one missing', async () => {
    const dir = fresh();
    await writeExampleData(dir, stewards, { rows: 5, seed: 1 });
    unlinkSync(path.join(dir, 'VU', 'Personen.csv'));
    await assert.rejects(prepare(dir, { rows: 5 }), refusedSaying(new RegExp(`only part of the example data \\(1 of 4 table files missing, the first ${path.join(dir, 'VU', 'Personen.csv')}\\): pass --force`)));
    assert.equal(existsSync(path.join(dir, 'VU', 'Personen.csv')), false, 'nothing was written');
  });

  it('refuses tables whose generation was interrupted, which may mix two row counts', async () => {
    const dir = fresh();
    await writeExampleData(dir, stewards, { rows: 5, seed: 1 });
    // What a run killed between its first and its last table leaves: the mark it wrote first.
    writeFileSync(path.join(dir, 'generated.json'), JSON.stringify({ generating: { rows: 9, seed: 1, stewards } }));
    await assert.rejects(prepare(dir, { rows: 5 }), refusedSaying(/whose generation was interrupted \(generated\.json says so\): pass --force/));
    assert.deepEqual(await prepare(dir, { rows: 9, force: true }), { kind: 'generated', rows: 9, replaced: true });
    assert.deepEqual(await prepare(dir, { rows: 9, rowsGiven: true }), { kind: 'kept', rows: 9 });
  });

  it('lists the files a generation would overwrite, tables first, then the stamp', async () => {
    const dir = fresh();
    assert.deepEqual(await existingExampleFiles(dir, stewards), []);
    await writeExampleData(dir, ['VU'], { rows: 3, seed: 1 });
    assert.deepEqual(await existingExampleFiles(dir, stewards), [path.join(dir, 'VU', 'Personen.csv'), path.join(dir, 'VU', 'Aanstellingen.csv'), path.join(dir, 'generated.json')]);
  });
});
