/**
 * Which tables a SELECT reads, from DuckDB's parse tree (`json_serialize_sql`). Policy needs it:
 * the datasets a request touches are the datasets holding these tables. Pure: it walks the JSON
 * DuckDB produced and reads nothing else.
 */

/** What `json_serialize_sql` said about a query text. */
export type SerializedQuery =
  | { readonly kind: 'select'; readonly statements: number; readonly tables: readonly string[] }
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
  return { kind: 'select', statements: statements.length, tables: tablesIn(statements) };
}

/**
 * Base tables named anywhere in the trees (joins, subqueries, set operations), minus the names
 * of common table expressions in scope, in first-seen order, each once (case-insensitively).
 */
export function tablesIn(trees: readonly unknown[]): string[] {
  const seen = new Map<string, string>();
  const visit = (node: unknown, ctes: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, ctes);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    const inScope = withCtes(record, ctes);
    if (record['type'] === 'BASE_TABLE' && typeof record['table_name'] === 'string') {
      const name = record['table_name'];
      const qualified = Boolean(record['schema_name']) || Boolean(record['catalog_name']);
      if (qualified || !inScope.has(name.toLowerCase())) seen.set(name.toLowerCase(), seen.get(name.toLowerCase()) ?? name);
    }
    for (const value of Object.values(record)) visit(value, inScope);
  };
  visit(trees, new Set());
  return [...seen.values()];
}

function withCtes(node: Record<string, unknown>, outer: ReadonlySet<string>): ReadonlySet<string> {
  const map = (node['cte_map'] as { map?: { key?: unknown }[] } | undefined)?.map;
  if (!Array.isArray(map) || map.length === 0) return outer;
  const names = new Set(outer);
  for (const entry of map) if (typeof entry.key === 'string') names.add(entry.key.toLowerCase());
  return names;
}
