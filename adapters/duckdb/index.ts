export { DuckDBQueryInspector } from './duckdb-query-inspector.js';

import { DuckDBQueryInspector } from './duckdb-query-inspector.js';

export function createDuckDBQueryInspector(): Promise<DuckDBQueryInspector> {
  return DuckDBQueryInspector.create();
}
