import type { AlgorithmName } from './catalog.js';

/**
 * One data request, as the daemon understands it after parsing: the original's body
 * (`POST /api/v1/requestApproval`) plus what the daemon derived (id, queried tables).
 */
export interface DataRequest {
  /** The job id the requester gets back; every job and stream of the request derives from it. */
  readonly id: string;
  /** The requester's user name: relations in agreements are keyed by it. */
  readonly requester: string;
  readonly requesterId: string;
  readonly type: string;
  /** Data stewards asked, in the order the requester gave. */
  readonly providers: readonly string[];
  readonly query: string;
  /** Base tables the query reads, as DuckDB's parser found them. */
  readonly tables: readonly string[];
  readonly algorithm: AlgorithmName;
  readonly options: Readonly<Record<string, boolean>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}
