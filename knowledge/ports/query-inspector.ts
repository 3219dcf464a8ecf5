import type { SerializedQuery } from '../query-tables.js';

/**
 * Reads a requester's SQL without running it: whether it is one SELECT and which tables it reads.
 * The daemon needs the tables to decide which datasets, hence which agreements, a request touches.
 */
export interface QueryInspector {
  inspect(sql: string): Promise<SerializedQuery>;
  close(): Promise<void>;
}
