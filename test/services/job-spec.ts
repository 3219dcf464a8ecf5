import type { DuckDBConnection } from '@duckdb/node-api';
import type { JobRequest, JobSpec } from '../../knowledge/ports/job-runner.js';
import type { DataSet, ServiceContext } from '../../services/microservice.js';

export type JobSpecOverrides = Partial<Omit<JobSpec, 'request'>> & { readonly request?: Partial<JobRequest> };

/** A steward's job running the original request (query, average), changed by `overrides`. */
export function jobSpec(overrides: JobSpecOverrides = {}): JobSpec {
  const { request, ...rest } = overrides;
  return {
    name: 'job-analyst-0000abcd-uva',
    requestId: 'analyst-0000abcd',
    party: 'UVA',
    partyKind: 'dataSteward',
    services: ['sql-query', 'sql-algorithm'],
    tables: [],
    inputs: [],
    output: { to: 'requester', streams: 1 },
    ...rest,
    request: {
      type: 'sqlDataRequest',
      query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr',
      algorithm: 'average',
      options: {},
      requester: 'analyst@uva.example',
      ...request,
    },
  };
}

const tablesMade = new WeakMap<DuckDBConnection, number>();

/**
 * A service context over `db` that names new tables `<prefix>_<n>`, n counting up per database,
 * so contexts sharing a database never collide.
 */
export function serviceContext(db: DuckDBConnection, job: JobSpec = jobSpec(), anonymizedAtSource = job.anonymization !== undefined): ServiceContext {
  return {
    job,
    db,
    anonymizedAtSource,
    newTableName: (prefix) => {
      const n = (tablesMade.get(db) ?? 0) + 1;
      tablesMade.set(db, n);
      return `${prefix}_${n}`;
    },
  };
}

/** A data set of one steward's table. */
export function dataSet(table: string, provider = 'UVA'): DataSet {
  return { table, providers: [provider], artifacts: [] };
}
