import { open } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DynamosError } from '../../knowledge/errors.js';
import type { TableSource } from '../../knowledge/ports/job-runner.js';

const sampleBytes = 64 * 1024;

/**
 * How DuckDB should split a CSV's lines. Files in the wild end lines with `\n`, `\r\n`, a bare
 * `\r` or `\r\r\n` (the original's Personen files); DuckDB's sniffer handles the first two and
 * gives up on the others, which read correctly as `\r`-separated with the stray `\n` tolerated.
 */
export function csvLineOptions(sample: Uint8Array): string {
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] !== 0x0d) continue;
    if (sample[i + 1] === 0x0a) continue;
    if (i + 1 === sample.length) break;
    return `new_line = '\\r', strict_mode = false`;
  }
  return '';
}

/** Loads a steward's CSV file as a table of the job's database. */
export async function loadCsvTable(db: DuckDBConnection, table: TableSource): Promise<void> {
  let sample: Uint8Array;
  try {
    const handle = await open(table.file, 'r');
    try {
      const buffer = Buffer.alloc(sampleBytes);
      const { bytesRead } = await handle.read(buffer, 0, sampleBytes, 0);
      sample = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (cause) {
    throw new DynamosError('DATA_UNAVAILABLE', `table ${table.name}: cannot read ${table.file}: ${(cause as Error).message}`, {
      retryable: false,
      cause,
    });
  }
  const lineOptions = csvLineOptions(sample);
  const options = [`delim = ${sqlString(table.delimiter)}`, 'header = true', ...(lineOptions ? [lineOptions] : [])].join(', ');
  try {
    await db.run(`CREATE TABLE ${sqlIdentifier(table.name)} AS SELECT * FROM read_csv(${sqlString(table.file)}, ${options})`);
  } catch (cause) {
    const first = (cause as Error).message.split('\n')[0];
    throw new DynamosError('DATA_UNAVAILABLE', `table ${table.name}: ${table.file} does not load as CSV: ${first}`, {
      retryable: false,
      cause,
    });
  }
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
