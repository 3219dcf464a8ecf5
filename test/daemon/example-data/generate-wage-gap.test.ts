import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateWageGapData } from '../../../daemon/example-data/generate-wage-gap.js';

describe('generate-data: the example tables', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-gen-'));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('writes the same bytes for the same seed and other bytes for another', async () => {
    const [a, b, c] = [fresh(), fresh(), fresh()];
    await generateWageGapData(a, ['UVA'], { rows: 500, seed: 3 });
    await generateWageGapData(b, ['UVA'], { rows: 500, seed: 3 });
    await generateWageGapData(c, ['UVA'], { rows: 500, seed: 4 });
    const read = (dir: string) => readFileSync(path.join(dir, 'UVA', 'Aanstellingen.csv'), 'utf8');
    assert.equal(read(a), read(b));
    assert.notEqual(read(a), read(c));
  });

  it('shapes the tables like the original: its headers, one appointment per person, a wage gap', async () => {
    const dir = fresh();
    await generateWageGapData(dir, ['VU'], { rows: 2000 });
    const personen = readFileSync(path.join(dir, 'VU', 'Personen.csv'), 'utf8').trim().split('\n');
    const aanstellingen = readFileSync(path.join(dir, 'VU', 'Aanstellingen.csv'), 'utf8').trim().split('\n');
    assert.equal(personen[0], 'Instcode;Unieknr;Geslacht;Gebdat;Nationaliteit;BKO;SKO;Peildat');
    assert.equal(aanstellingen[0], 'Instcode;Unieknr;Volgnrar;Aadnstvb;Ingdatdv;Eindatdv;HOOPgeb;Functcat;WelGeenHGL;Salschal;Taakomv;Aanst_22;Peildat');
    assert.equal(personen.length, 2001);
    assert.equal(aanstellingen.length, 2001);
    const gender = new Map(personen.slice(1).map((l) => [l.split(';')[1], l.split(';')[2]]));
    const mean = (g: string) => {
      const scales = aanstellingen.slice(1).filter((l) => gender.get(l.split(';')[1]) === g).map((l) => Number(l.split(';')[9]));
      return scales.reduce((s, x) => s + x, 0) / scales.length;
    };
    assert.ok(mean('M') - mean('V') > 0.3, `expected men's mean scale above women's, got ${mean('M')} and ${mean('V')}`);
  });
});
