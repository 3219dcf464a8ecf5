import path from 'node:path';
import { csvHeader } from './csv-header.js';
import type { ColumnRule, MarketplaceInput } from './marketplace-schema.js';

/**
 * The original's sql-anonymize cut two columns to their year wherever a table had them: Gebdat
 * (birth date) and Ingdatdv (start of employment). Its `sensitive_columns` it never acted on.
 */
export const originalDateColumns: readonly string[] = ['Gebdat', 'Ingdatdv'];

/** A dataset as datasets.json gives it, after its empty column names were warned about. */
export interface OriginalDataset {
  readonly tables: readonly string[];
  readonly delimiter: string;
  /** Table → its named sensitive columns. */
  readonly sensitive: Readonly<Record<string, readonly string[]>>;
}

/** Each dataset's rules as the original behaved (import-anonymization.ts), read from a holder's table files. */
export async function addOriginalAnonymization(config: MarketplaceInput, sensitive: ReadonlyMap<string, Record<string, string[]>>, dataDir: string, warn: (message: string) => void): Promise<void> {
  for (const [name, dataset] of Object.entries(config.datasets ?? {})) {
    const files = (table: string) =>
      Object.values(config.dataStewards).flatMap((s) => {
        const file = s.datasets?.[name]?.tables[table];
        return file === undefined ? [] : [path.join(dataDir, file)];
      });
    const original = { tables: dataset.tables, delimiter: dataset.delimiter ?? ';', sensitive: sensitive.get(name) ?? {} };
    dataset.anonymization = await originalAnonymization(name, original, files, warn);
  }
}

/**
 * The anonymisation rules that keep the original's behaviour, per table of a dataset: its date
 * columns generalised to the year (found in the header of a steward's table file), and its
 * sensitive columns removed (at the source, as every rule applies now). A table whose file cannot
 * be read gets its sensitive columns only, with a warning saying what to add by hand.
 */
export async function originalAnonymization(
  dataset: string,
  original: OriginalDataset,
  files: (table: string) => readonly string[],
  warn: (message: string) => void,
): Promise<NonNullable<NonNullable<MarketplaceInput['datasets']>[string]['anonymization']>> {
  const rules: Record<string, Record<string, ColumnRule>> = {};
  for (const table of original.tables) {
    const columns = await firstHeader(files(table), original.delimiter);
    const byTable: Record<string, ColumnRule> = {};
    if (columns === undefined) {
      warn(`dataset ${dataset}, table ${table}: no table file could be read, so the original's date cut (${originalDateColumns.join(', ')} to the year) is not imported for it; add it under anonymization if the table has those columns`);
    } else {
      for (const column of originalDateColumns) {
        const found = columns.find((c) => c.toLowerCase() === column.toLowerCase());
        if (found !== undefined) byTable[found] = { generalize: 'year' };
      }
    }
    for (const column of original.sensitive[table] ?? []) byTable[column] = 'remove';
    if (Object.keys(byTable).length > 0) rules[table] = byTable;
  }
  return rules;
}

/** The column names of the first file that can be read, from its header; undefined if none can. */
async function firstHeader(files: readonly string[], delimiter: string): Promise<string[] | undefined> {
  for (const file of files) {
    const header = await csvHeader(file, delimiter).catch(() => undefined);
    if (header !== undefined) return header;
  }
  return undefined;
}
