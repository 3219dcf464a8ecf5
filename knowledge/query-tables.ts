import type { SurfaceRefusal } from './sql-surface.js';
import { querySurface } from './sql-surface.js';

/**
 * What a requester's query is, from DuckDB's parse tree (`json_serialize_sql`): policy needs the
 * tables it reads (the datasets a request touches are the datasets holding them), and the closed
 * SQL surface needs everything it calls (knowledge/sql-surface.ts). Pure: it reads only the JSON
 * DuckDB produced.
 */

/** What `json_serialize_sql` said about a query text. */
export type SerializedQuery =
  | {
      readonly kind: 'select';
      readonly statements: number;
      /** Base tables read, outside the common table expressions in scope. */
      readonly tables: readonly string[];
      /** What the closed SQL surface refuses in it; empty when the query may run. */
      readonly refused: readonly SurfaceRefusal[];
    }
  | { readonly kind: 'notSelect'; readonly message: string }
  | { readonly kind: 'syntaxError'; readonly message: string };

/** Interprets the JSON text `json_serialize_sql` returned. */
export function interpretSerializedQuery(json: string): SerializedQuery {
  const tree = JSON.parse(json) as { error?: boolean; error_type?: string; error_message?: string; statements?: unknown[] };
  if (tree.error === true) {
    const message = tree.error_message ?? 'the query does not parse';
    return tree.error_type === 'parser' ? { kind: 'syntaxError', message } : { kind: 'notSelect', message };
  }
  const statements = tree.statements ?? [];
  const { tables, refused } = querySurface(statements);
  return { kind: 'select', statements: statements.length, tables, refused };
}
