import type { DuckDBConnection } from '@duckdb/node-api';
import type { BuiltInService } from '../knowledge/catalog.js';
import type { JobSpec } from '../knowledge/ports/job-runner.js';

/** A non-tabular product of a service, such as sql-graph's SVG chart. */
export interface Artifact {
  readonly name: string;
  readonly mediaType: string;
  readonly content: string;
}

/**
 * Data passed between the services of one job: a table in the job's private DuckDB database.
 * Between jobs the same data travels as the protobuf stream of proto/dynamos/v1.
 */
export interface DataSet {
  /** A table (or view) of the job's database. */
  readonly table: string;
  /** Whose data it holds: one steward, or every steward a TTP combined. */
  readonly providers: readonly string[];
  readonly artifacts: readonly Artifact[];
}

export interface ServiceContext {
  readonly job: JobSpec;
  readonly db: DuckDBConnection;
  /** Whether the workspace built the steward's tables from `job.anonymization` (sql-anonymize checks it). */
  readonly anonymizedAtSource: boolean;
  /** A table name not used before in this job. */
  newTableName(prefix: string): string;
}

/**
 * One atomic microservice. Services that combine (sql-aggregate) turn many data sets into one;
 * the others transform each data set on its own.
 */
export interface Microservice {
  readonly name: BuiltInService;
  run(ctx: ServiceContext, inputs: readonly DataSet[]): Promise<DataSet[]>;
}
