import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DynamosError } from '../../knowledge/errors.js';
import type { GenerateOptions } from './generate-wage-gap.js';
import { generateWageGapData, wageGapFiles } from './generate-wage-gap.js';

/** What `generated.json` beside the tables says about how they were made. */
export interface Stamp {
  readonly rows: number;
  readonly seed: number;
  readonly stewards: readonly string[];
}

const stampName = 'generated.json';

/** What preparing the example's data did: made it, or kept what the directory held. */
export type ExampleDataOutcome =
  | { readonly kind: 'generated'; readonly rows: number; readonly replaced: boolean }
  /** `rows` is what the stamp says, undefined without one. */
  | { readonly kind: 'kept'; readonly rows: number | undefined };

export interface PrepareOptions {
  readonly rows: number;
  /** Whether the rows were asked for (a flag or a setting), not a default: then the data must have them. */
  readonly rowsGiven: boolean;
  /** Regenerate even over files already there. */
  readonly force: boolean;
  /** @default 1 */
  readonly seed?: number;
}

/**
 * Makes sure `dir` holds the example marketplace's tables, never replacing a user's data unasked:
 * a directory holding every table file is used as it is; one holding none gets generated data; one
 * holding only some, or data of another row count when `rows` was given, is refused. `force`
 * regenerates in every case.
 * @throws DynamosError CONFIG_INVALID when the directory's data cannot be used and `force` is off
 */
export async function prepareExampleData(dir: string, stewards: readonly string[], opts: PrepareOptions): Promise<ExampleDataOutcome> {
  const tables = wageGapFiles(dir, stewards);
  const present = await filesPresent(tables);
  const generate = async (replaced: boolean): Promise<ExampleDataOutcome> => {
    await writeExampleData(dir, stewards, { rows: opts.rows, seed: opts.seed ?? 1 });
    return { kind: 'generated', rows: opts.rows, replaced };
  };
  if (present.length === 0) return generate(false);
  if (opts.force) return generate(true);
  if (present.length < tables.length) {
    const missing = tables.filter((file) => !present.includes(file));
    throw refused(`${dir} holds only part of the example data (${missing.length} of ${tables.length} table files missing, the first ${missing[0]})`, 'to generate it all anew');
  }
  const stamp = await readStamp(dir);
  if (stamp === 'interrupted') throw refused(`${dir} holds example data whose generation was interrupted (${stampName} says so)`, 'to generate it anew');
  if (opts.rowsGiven && stamp?.rows !== opts.rows) {
    const holds = stamp === undefined ? `example data of unknown size (no ${stampName})` : `example data of ${stamp.rows} rows per steward`;
    throw refused(`${dir} holds ${holds}, not the ${opts.rows} rows asked for`, `to replace it with ${opts.rows} rows, or leave out --rows to use it`);
  }
  return { kind: 'kept', rows: stamp?.rows };
}

/**
 * Generates the tables into `dir` and stamps them; every file appears whole or not at all. It
 * overwrites: callers check first ({@link existingExampleFiles}).
 * @returns the table files written
 */
export async function writeExampleData(dir: string, stewards: readonly string[], opts: Required<GenerateOptions>): Promise<string[]> {
  const stamp: Stamp = { rows: opts.rows, seed: opts.seed, stewards: [...stewards] };
  // Marked as under way first: a run that dies half-way leaves a mix of old and new tables, and
  // the mark says so instead of the old stamp vouching for them.
  await writeStamp(dir, { generating: stamp });
  const files = await generateWageGapData(dir, stewards, opts);
  await writeStamp(dir, stamp);
  return files;
}

async function writeStamp(dir: string, value: Stamp | { generating: Stamp }): Promise<void> {
  const file = path.join(dir, stampName);
  await mkdir(dir, { recursive: true });
  await writeFile(`${file}.partial`, JSON.stringify(value));
  await rename(`${file}.partial`, file);
}

/** Which of the files {@link writeExampleData} would write exist already, tables first. */
export async function existingExampleFiles(dir: string, stewards: readonly string[]): Promise<string[]> {
  return filesPresent([...wageGapFiles(dir, stewards), path.join(dir, stampName)]);
}

async function filesPresent(files: readonly string[]): Promise<string[]> {
  const found = await Promise.all(files.map((file) => access(file).then(() => true, () => false)));
  return files.filter((_, i) => found[i]);
}

async function readStamp(dir: string): Promise<Stamp | 'interrupted' | undefined> {
  try {
    const value = JSON.parse(await readFile(path.join(dir, stampName), 'utf8')) as (Partial<Stamp> & { generating?: unknown }) | null;
    if (value?.generating !== undefined) return 'interrupted';
    return typeof value?.rows === 'number' ? (value as Stamp) : undefined;
  } catch {
    return undefined; // no stamp, or not ours: the size is unknown
  }
}

function refused(what: string, force: string): DynamosError {
  return new DynamosError('CONFIG_INVALID', `${what}: pass --force ${force}`, { retryable: false, details: { reason: 'example data would be overwritten' } });
}
