import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';

/**
 * The same analysis run straight in DuckDB on the same files, as a person with the DuckDB CLI
 * would: a fresh engine each run, the requester's join per steward, the average over all of them.
 * The yardstick for what the middleware adds.
 */
export async function benchDirectDuckDB(dataDir: string, stewards: readonly string[], repeats: number): Promise<Summary & { rows: unknown[] }> {
  const csv = (steward: string, table: string) => `read_csv('${path.join(dataDir, steward, `${table}.csv`)}', delim = ';', header = true)`;
  const joined = stewards.map((s) => `SELECT * FROM ${csv(s, 'Personen')} p JOIN ${csv(s, 'Aanstellingen')} s ON p.Unieknr = s.Unieknr`);
  const sql = `SELECT Geslacht, avg(Salschal) AS average_salary_scale, count(*) AS employees FROM (${joined.join(' UNION ALL ')}) GROUP BY Geslacht ORDER BY Geslacht`;
  const samples: number[] = [];
  let rows: unknown[] = [];
  for (let i = 0; i < repeats + 1; i++) {
    const t = performance.now();
    const engine = await DuckDBInstance.create(':memory:');
    const db = await engine.connect();
    rows = (await db.runAndReadAll(sql)).getRowsJson();
    db.closeSync();
    engine.closeSync();
    if (i > 0) samples.push(performance.now() - t);
  }
  return { ...summarize(samples), rows };
}
