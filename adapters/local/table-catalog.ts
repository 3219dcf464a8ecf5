import { stat } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { TableSource } from '../../knowledge/ports/job-runner.js';
import { sniffedReadCsv } from '../../services/workspace/load-csv-table.js';
import { createEngine } from '../../services/workspace/workspace.js';

/**
 * The dialect and column types of every steward table file, sniffed once per version of the
 * file (path, size, modification time) instead of by every job: sniffing costs about 50 ms a file
 * and a steward's schema rarely changes. Jobs still read the file themselves.
 */
export class TableCatalog {
  private readonly known = new Map<string, Promise<string>>();
  private engine: Promise<{ engine: DuckDBInstance; db: DuckDBConnection }> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /** Table name → `read_csv(...)` for each table; a table that cannot be sniffed is left out. */
  async readsFor(tables: readonly TableSource[]): Promise<Record<string, string>> {
    const entries = await Promise.all(
      tables.map(async (t) => [t.name, await this.readFor(t).catch(() => undefined)] as const),
    );
    return Object.fromEntries(entries.filter((e): e is readonly [string, string] => e[1] !== undefined));
  }

  async close(): Promise<void> {
    const opened = await this.engine;
    opened?.db.closeSync();
    opened?.engine.closeSync();
    this.engine = undefined;
  }

  private async readFor(table: TableSource): Promise<string> {
    const info = await stat(table.file);
    const key = JSON.stringify([table.file, table.delimiter, info.size, info.mtimeMs]);
    let read = this.known.get(key);
    if (read === undefined) {
      read = this.sniff(table);
      read.catch(() => this.known.delete(key));
      this.known.set(key, read);
    }
    return read;
  }

  /** One sniff at a time on one connection. */
  private sniff(table: TableSource): Promise<string> {
    const next = this.queue.then(async () => {
      this.engine ??= createEngine({ threads: 1 }).then(async (engine) => ({ engine, db: await engine.connect() }));
      const { db } = await this.engine;
      return sniffedReadCsv(db, table);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
