import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateWageGapData } from '../../daemon/example-data/generate-wage-gap.js';

/** Generated example tables in a temp directory, removed by `remove`. */
export interface ExampleData {
  readonly dir: string;
  remove(): void;
}

export async function exampleData(rows: number, stewards: readonly string[] = ['UVA', 'VU', 'RUG']): Promise<ExampleData> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-test-data-'));
  await generateWageGapData(dir, stewards, { rows, seed: 7 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The wage-gap answer computed independently of DuckDB, straight from the generated CSV text:
 * per gender, the mean salary scale and the count, over the stewards given.
 */
export function expectedAverages(dir: string, stewards: readonly string[]): [string, number, number][] {
  const sums = new Map<string, { total: number; n: number }>();
  for (const steward of stewards) {
    const gender = new Map<string, string>();
    for (const line of readFileSync(path.join(dir, steward, 'Personen.csv'), 'utf8').trim().split('\n').slice(1)) {
      const [, id, g] = line.split(';');
      gender.set(id as string, g as string);
    }
    for (const line of readFileSync(path.join(dir, steward, 'Aanstellingen.csv'), 'utf8').trim().split('\n').slice(1)) {
      const cells = line.split(';');
      const g = gender.get(cells[1] as string);
      if (g === undefined) continue;
      const s = sums.get(g) ?? { total: 0, n: 0 };
      s.total += Number(cells[9]);
      s.n += 1;
      sums.set(g, s);
    }
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, s]) => [g, s.total / s.n, s.n]);
}
