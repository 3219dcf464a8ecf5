import { stat } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LRUCache } from 'lru-cache';
import { entryBytes } from '../../knowledge/cache-bytes.js';
import type { TableSource } from '../../knowledge/ports/job-runner.js';
import { sniffedReadCsv } from '../../services/workspace/load-csv-table.js';
import { createEngine } from '../../services/workspace/workspace.js';

/**
 * The dialect and column types of every steward table file, sniffed once per version of the
 * file (path, size, modification time) instead of by every job: sniffing costs about 50 ms a file
 * and a steward's schema rarely changes. Jobs still read the file themselves. Every change of a
 * file is a new version, so what it knows is bounded by bytes, least recently used first out.
 */
export class TableCatalog {
  private readonly known: LRUCache<string, string>;
  /** Sniffs under way, so concurrent jobs wait for one instead of starting their own. */
  private readonly sniffing = new Map<string, Promise<string>>();
  private engine: Promise<{ engine: DuckDBInstance; db: DuckDBConnection }> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** 4 MiB: a `read_csv(...)` is under a KiB for tens of columns, so thousands of file versions. */
  static readonly defaultRememberBytes = 4 * 1024 * 1024;

  constructor(opts: { readonly rememberBytes?: number } = {}) {
    this.known = new LRUCache({ maxSize: opts.rememberBytes ?? TableCatalog.defaultRememberBytes, sizeCalculation: (read, key) => entryBytes(key, read) });
  }

  /** The bytes of what it knows now (never more than `rememberBytes`). */
  get rememberedBytes(): number {
    return this.known.calculatedSize;
  }

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
    const known = this.known.get(key);
    if (known !== undefined) return known;
    let read = this.sniffing.get(key);
    if (read === undefined) {
      read = this.sniff(table)
        .then((text) => {
          this.known.set(key, text);
          return text;
        })
        .finally(() => this.sniffing.delete(key));
      this.sniffing.set(key, read);
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
