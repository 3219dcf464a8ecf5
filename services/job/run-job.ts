import type { DuckDBInstance } from '@duckdb/node-api';
import { DynamosError, toDynamosError } from '../../knowledge/errors.js';
import type { JobSpec } from '../../knowledge/ports/job-runner.js';
import type { RequestEnvelope } from '../../proto/generated/dynamos/v1/microservice.js';
import type { DataSet, ServiceContext } from '../microservice.js';
import { serviceNamed } from '../registry.js';
import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { fetchStreams } from '../sidecar/fetch-streams.js';
import { serveOutput } from '../sidecar/output-server.js';
import type { SendStats, StreamOrigin } from '../sidecar/send-stream.js';
import { sendDataSet } from '../sidecar/send-stream.js';
import { TableWriter } from '../sidecar/table-writer.js';
import { asQueryFailure } from '../workspace/table-columns.js';
import { openWorkspace } from '../workspace/workspace.js';
import type { RunnerMessage, StageTiming } from './job-protocol.js';
import { publicMessage } from './public-message.js';

export interface JobHooks {
  /** The job's sidecar listens for its consumer at `address`. */
  accepting(address: string): void;
  /** The consumer took all the job's data; closing the sidecar follows. */
  delivered(outcome: JobOutcome): Promise<void>;
}

export interface JobOutcome {
  readonly rowsOut: number;
  readonly bytesOut: number;
  readonly streamsOut: number;
  /** Wall time of each step, in order: workspace, inputs, each service, output. */
  readonly stages: readonly StageTiming[];
}

/**
 * Runs one job: listens for its consumer, opens the locked workspace with the steward's tables,
 * fetches every input, runs the chain and serves each resulting data set to the consumer. On
 * failure it ends the consumer's fetch with the failure before rethrowing, so the consumer fails
 * at once with the real cause.
 */
export async function runJob(
  engine: DuckDBInstance,
  assignment: RunnerMessage,
  hooks: JobHooks,
): Promise<JobOutcome> {
  const { spec } = assignment;
  const origin: StreamOrigin = { request: envelopeOf(spec), sourceParty: spec.party };
  const output = await serveOutput({ host: assignment.listenHost, ...(assignment.listenPort === undefined ? {} : { port: assignment.listenPort }), tls: assignment.tls, requestId: spec.requestId, consumer: consumerOf(spec) });
  hooks.accepting(output.address);
  const stages: StageTiming[] = [];
  const timed = async <T>(stage: string, step: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await step();
    } finally {
      stages.push({ stage, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  };
  try {
    const workspace = await timed('workspace', () =>
      openWorkspace(engine, spec.tables, {
        tempDir: assignment.tempDir,
        threads: assignment.threads,
        tableReads: assignment.tableReads,
        ...(spec.anonymization === undefined ? {} : { anonymization: spec.anonymization }),
      }),
    );
    try {
      let data = await timed('inputs', () => receiveInputs(engine, assignment));
      let tables = 0;
      const ctx: ServiceContext = { job: spec, db: workspace.db, anonymizedAtSource: workspace.anonymizedAtSource, newTableName: (prefix) => `${prefix}_${++tables}` };
      for (const name of spec.services) data = await timed(name, () => serviceNamed(name).run(ctx, data));
      checkStreamCount(spec, data);
      const sent: SendStats[] = [];
      await timed('output', () =>
        output.deliver(async (sink) => {
          const limit = assignment.resultLimit;
          for (const set of data) {
            const soFar = { rows: sum(sent, 'rows'), bytes: sum(sent, 'bytes') };
            sent.push(await sendDataSet(workspace.db, set, sink, origin, { ...(spec.outputColumns ? { columns: spec.outputColumns } : {}), ...(limit ? { limit, sent: soFar } : {}) }));
          }
        }),
      );
      const outcome = { rowsOut: sum(sent, 'rows'), bytesOut: sum(sent, 'bytes'), streamsOut: sent.length, stages };
      // The consumer has it all: the job's work is done, whatever closing its sidecar takes.
      await hooks.delivered(outcome);
      return outcome;
    } finally {
      workspace.close();
    }
  } catch (error) {
    const failure = toDynamosError(asQueryFailure(error), 'JOB_FAILED');
    const told = new DynamosError(failure.code, publicMessage(failure.message, { tables: spec.tables, tempDir: assignment.tempDir }), {
      retryable: failure.retryable,
      cause: failure,
      ...(failure.details === undefined ? {} : { details: failure.details }),
    });
    output.fail(told);
    throw told;
  } finally {
    await output.close();
  }
}

/** Each input party's data becomes a table of the workspace, in the order the spec names them; all are fetched at once. */
async function receiveInputs(engine: DuckDBInstance, { spec, tls, inputs, deadlineAt, waitForProducers }: RunnerMessage): Promise<DataSet[]> {
  const fetcher = { tls, requestId: spec.requestId, deadlineAt, ...(waitForProducers === true ? { waitForReady: true } : {}) };
  return Promise.all(
    inputs.map(async (source, i) => {
      const table = `input_${i}`;
      let received: DataSet | undefined;
      await fetchStreams(source, fetcher, 1, async (stream) => {
        // A connection per stream: stewards send at the same time and each appender owns its connection.
        const db = await engine.connect();
        try {
          const writer = await TableWriter.create(db, table, stream.header.columns);
          const end = await stream.consume((chunk) => writer.append(chunk));
          writer.close();
          const artifacts = end.artifacts.map((a) => ({ name: a.name, mediaType: a.mediaType, content: new TextDecoder().decode(a.content) }));
          received = { table, providers: stream.header.providers, artifacts };
        } finally {
          db.closeSync();
        }
      });
      return received as DataSet;
    }),
  );
}

/** Who may fetch this job's output: the party the plan sends it to, or the result collector. */
function consumerOf(spec: JobSpec): DataPlaneIdentity {
  return spec.output.to === 'requester' ? { kind: 'collector' } : { kind: 'party', party: spec.output.party };
}

function checkStreamCount(spec: JobSpec, data: readonly DataSet[]): void {
  const expected = spec.output.to === 'requester' ? spec.output.streams : 1;
  if (data.length !== expected) {
    throw new DynamosError('INTERNAL', `the chain ${spec.services.join(' → ')} produced ${data.length} data sets where ${expected} were planned`, {
      retryable: false,
    });
  }
}

function envelopeOf(spec: JobSpec): RequestEnvelope {
  const { type, query, algorithm, options, requester } = spec.request;
  return { requestId: spec.requestId, requestType: type, query, algorithm, options: { ...options }, requester };
}

function sum(stats: readonly SendStats[], key: keyof SendStats): number {
  return stats.reduce((s, x) => s + x[key], 0);
}
