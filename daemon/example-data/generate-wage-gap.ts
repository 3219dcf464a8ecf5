import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { seededRandom } from '../../knowledge/seeded-random.js';

/**
 * Synthetic university staff tables shaped like the original DYNAMOS sample data (Personen and
 * Aanstellingen, `;`-delimited, joined on Unieknr), one appointment per person so a steward's join
 * has exactly `rows` rows. Deterministic: the same seed, steward and row count give the same bytes.
 * Salary scales run a little higher for men, so the wage-gap analysis has a gap to find.
 */
export interface GenerateOptions {
  readonly rows: number;
  /** @default 1 */
  readonly seed?: number;
}

const personenHeader = 'Instcode;Unieknr;Geslacht;Gebdat;Nationaliteit;BKO;SKO;Peildat';
const aanstellingenHeader =
  'Instcode;Unieknr;Volgnrar;Aadnstvb;Ingdatdv;Eindatdv;HOOPgeb;Functcat;WelGeenHGL;Salschal;Taakomv;Aanst_22;Peildat';
const fields = ['ECON', 'G&M', 'TECH', 'GEDR', 'RECHT', 'NATU', 'TAAL'];
const linesPerWrite = 10_000;

/** The table files of `stewards` in `dir`, in the order they are written: each steward's Personen, then Aanstellingen. */
export function wageGapFiles(dir: string, stewards: readonly string[]): string[] {
  return stewards.flatMap((steward) => [path.join(dir, steward, 'Personen.csv'), path.join(dir, steward, 'Aanstellingen.csv')]);
}

/** Writes `<dir>/<steward>/Personen.csv` and `Aanstellingen.csv`, replacing any there; returns the files written. */
export async function generateWageGapData(dir: string, stewards: readonly string[], opts: GenerateOptions): Promise<string[]> {
  for (const [index, steward] of stewards.entries()) {
    const [personen, aanstellingen] = wageGapFiles(dir, [steward]) as [string, string];
    await mkdir(path.dirname(personen), { recursive: true });
    const random = seededRandom(((opts.seed ?? 1) * 7919 + index * 104_729) >>> 0);
    const instcode = steward.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 3).padEnd(3, 'X');
    await writeAtomically(personen, aanstellingen, instcode, opts.rows, random);
  }
  return wageGapFiles(dir, stewards);
}

/** Both files appear whole or not at all: a reader never sees a half-written table. */
async function writeAtomically(personenFile: string, aanstellingenFile: string, instcode: string, rows: number, random: () => number) {
  const personen = createWriteStream(`${personenFile}.partial`);
  const aanstellingen = createWriteStream(`${aanstellingenFile}.partial`);
  let p: string[] = [personenHeader];
  let a: string[] = [aanstellingenHeader];
  const flush = async () => {
    // Listen for both drains at once: awaiting one first could miss the other's event.
    const drains: Promise<unknown>[] = [];
    if (!personen.write(`${p.join('\n')}\n`)) drains.push(once(personen, 'drain'));
    if (!aanstellingen.write(`${a.join('\n')}\n`)) drains.push(once(aanstellingen, 'drain'));
    p = [];
    a = [];
    await Promise.all(drains);
  };
  for (let i = 1; i <= rows; i++) {
    const man = random() < 0.5;
    const peildat = random() < 0.5 ? 20191231 : 20201231;
    const born = 1950 + Math.floor(random() * 50);
    const nationality = random() < 0.85 ? '0001' : String(2 + Math.floor(random() * 399)).padStart(4, '0');
    p.push(`${instcode};${i};${man ? 'M' : 'V'};${born}0101;${nationality};${bit(random, 0.3)};${bit(random, 0.1)};${peildat}`);
    const started = Math.max(born + 22, 1990 + Math.floor(random() * 30));
    const permanent = random() < 0.6;
    const ends = permanent ? 99990101 : (started + 1 + Math.floor(random() * 5)) * 10000 + 101;
    const scale = Math.max(5, Math.min(18, Math.round(9 + random() * 6 + (man ? 0.8 : 0) + (peildat - 20191231 === 0 ? 0 : 0.2))));
    const fte = 2000 + Math.floor(random() * 9) * 1000;
    const field = fields[Math.floor(random() * fields.length)] as string;
    const category = 10000 + Math.floor(random() * 900);
    const kind = random() < 0.7 ? 'V' : random() < 0.5 ? 'K' : 'L';
    a.push(`${instcode};${i};1;${permanent ? 'V' : 'T'};${started}0101;${ends};${field};${category};${bit(random, 0.2)};${scale};${fte};${kind};${peildat}`);
    if (p.length >= linesPerWrite) await flush();
  }
  await flush();
  personen.end();
  aanstellingen.end();
  await Promise.all([once(personen, 'finish'), once(aanstellingen, 'finish')]);
  await rename(`${personenFile}.partial`, personenFile);
  await rename(`${aanstellingenFile}.partial`, aanstellingenFile);
}

function bit(random: () => number, p: number): number {
  return random() < p ? 1 : 0;
}
