import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LRUCache } from 'lru-cache';
import { entryBytes } from '../../knowledge/cache-bytes.js';
import type { SerializedQuery } from '../../knowledge/query-tables.js';
import { interpretSerializedQuery } from '../../knowledge/query-tables.js';
import type { QueryInspector } from '../../knowledge/ports/query-inspector.js';

/**
 * QueryInspector on DuckDB's own parser (`json_serialize_sql`), so the daemon reads a query exactly
 * as the sql-query service will. The engine holds no data and can reach no file.
 */
export class DuckDBQueryInspector implements QueryInspector {
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * What recent query texts parsed to. Parsing is a pure function of the text, and a marketplace
   * sees the same analyses again and again; a hit skips DuckDB (about 0.5 ms). Bounded by the bytes
   * of text and answer it keeps, least recently used first out.
   */
  private readonly parsed: LRUCache<string, SerializedQuery>;
  /** @default 16 MiB: some thousands of analyses of a few KiB. */
  static readonly defaultRememberBytes = 16 * 1024 * 1024;

  private constructor(
    private readonly engine: DuckDBInstance,
    private readonly db: DuckDBConnection,
    rememberBytes: number,
  ) {
    this.parsed = new LRUCache({ maxSize: rememberBytes, sizeCalculation: (query, sql) => entryBytes(sql, JSON.stringify(query)) });
  }

  /** The bytes its memory of parsed queries holds now (never more than `rememberBytes`). */
  get rememberedBytes(): number {
    return this.parsed.calculatedSize;
  }

  static async create(opts: { readonly rememberBytes?: number } = {}): Promise<DuckDBQueryInspector> {
    const engine = await DuckDBInstance.create(':memory:', {
      enable_external_access: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      threads: '1',
    });
    const db = await engine.connect();
    await db.run('SET lock_configuration = true');
    return new DuckDBQueryInspector(engine, db, opts.rememberBytes ?? DuckDBQueryInspector.defaultRememberBytes);
  }

  /** Calls take turns: one connection runs one statement at a time. */
  inspect(sql: string): Promise<SerializedQuery> {
    const known = this.parsed.get(sql);
    if (known !== undefined) return Promise.resolve(known);
    const next = this.queue.then(async () => {
      const reader = await this.db.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
      const query = interpretSerializedQuery(String(reader.getRowsJS()[0]?.[0]));
      // An answer bigger than the whole memory is not kept (lru-cache's maxEntrySize is maxSize).
      this.parsed.set(sql, query);
      return query;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.db.closeSync();
    this.engine.closeSync();
  }
}
