import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateWageGapData } from './generate-wage-gap.js';

interface Stamp {
  readonly rows: number;
  readonly seed: number;
  readonly stewards: readonly string[];
}

/**
 * Makes sure `dir` holds the example marketplace's tables with `rows` rows per steward,
 * generating them only when absent or made with other settings.
 * @returns whether data was generated
 */
export async function ensureExampleData(dir: string, stewards: readonly string[], rows: number, seed = 1): Promise<boolean> {
  const stampFile = path.join(dir, 'generated.json');
  const wanted: Stamp = { rows, seed, stewards: [...stewards] };
  const existing = await readFile(stampFile, 'utf8').then(
    (text) => text,
    () => undefined,
  );
  if (existing === JSON.stringify(wanted)) return false;
  await generateWageGapData(dir, stewards, { rows, seed });
  await writeFile(stampFile, JSON.stringify(wanted));
  return true;
}
