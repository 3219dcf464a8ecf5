import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
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
   * sees the same analyses again and again; a hit skips DuckDB (about 0.5 ms).
   */
  private readonly parsed = new Map<string, SerializedQuery>();
  static readonly rememberedQueries = 1_000;

  private constructor(
    private readonly engine: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {}

  static async create(): Promise<DuckDBQueryInspector> {
    const engine = await DuckDBInstance.create(':memory:', {
      enable_external_access: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      threads: '1',
    });
    const db = await engine.connect();
    await db.run('SET lock_configuration = true');
    return new DuckDBQueryInspector(engine, db);
  }

  /** Calls take turns: one connection runs one statement at a time. */
  inspect(sql: string): Promise<SerializedQuery> {
    const known = this.parsed.get(sql);
    if (known !== undefined) {
      this.parsed.delete(sql);
      this.parsed.set(sql, known);
      return Promise.resolve(known);
    }
    const next = this.queue.then(async () => {
      const reader = await this.db.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
      const query = interpretSerializedQuery(String(reader.getRowsJS()[0]?.[0]));
      this.parsed.set(sql, query);
      if (this.parsed.size > DuckDBQueryInspector.rememberedQueries) this.parsed.delete(this.parsed.keys().next().value as string);
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
