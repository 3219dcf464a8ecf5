export { DuckDBQueryInspector } from './duckdb-query-inspector.js';

import { DuckDBQueryInspector } from './duckdb-query-inspector.js';

/** `rememberBytes` bounds the memory of parsed queries. @default 16 MiB */
export function createDuckDBQueryInspector(opts: { readonly rememberBytes?: number } = {}): Promise<DuckDBQueryInspector> {
  return DuckDBQueryInspector.create(opts);
}
