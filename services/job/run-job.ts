import type { DuckDBInstance } from '@duckdb/node-api';
import { DynamosError, toDynamosError } from '../../knowledge/errors.js';
import type { JobSpec } from '../../knowledge/ports/job-runner.js';
import type { RequestEnvelope } from '../../proto/generated/dynamos/v1/microservice.js';
import type { DataSet, ServiceContext } from '../microservice.js';
import { serviceNamed } from '../registry.js';
import type { SendStats, StreamOrigin } from '../sidecar/send-stream.js';
import { sendDataSet, sendFailure } from '../sidecar/send-stream.js';
import { listenForStreams } from '../sidecar/sidecar-server.js';
import { TableWriter } from '../sidecar/table-writer.js';
import { asQueryFailure } from '../workspace/table-columns.js';
import { openWorkspace } from '../workspace/workspace.js';
import type { RunnerMessage, StageTiming } from './job-protocol.js';
import { publicMessage } from './public-message.js';

export interface JobOutcome {
  readonly rowsOut: number;
  readonly bytesOut: number;
  readonly streamsOut: number;
  /** Wall time of each step, in order: workspace, inputs, each service, output. */
  readonly stages: readonly StageTiming[];
}

/**
 * Runs one job: opens the locked workspace with the steward's tables, receives every input
 * stream, runs the chain and streams each resulting data set to the output sidecar. On failure
 * it tells the output sidecar why before rethrowing, so the consumer fails at once.
 */
export async function runJob(
  engine: DuckDBInstance,
  assignment: RunnerMessage,
  onAccepting: (address: string) => void,
): Promise<JobOutcome> {
  const { spec, output } = assignment;
  const origin: StreamOrigin = { request: envelopeOf(spec), sourceParty: spec.party, tls: assignment.tls, deadlineAt: assignment.deadlineAt };
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
      let data = await timed('inputs', () => receiveInputs(engine, assignment, onAccepting));
      let tables = 0;
      const ctx: ServiceContext = { job: spec, db: workspace.db, anonymizedAtSource: workspace.anonymizedAtSource, newTableName: (prefix) => `${prefix}_${++tables}` };
      for (const name of spec.services) data = await timed(name, () => serviceNamed(name).run(ctx, data));
      checkStreamCount(spec, data);
      const sent: SendStats[] = [];
      await timed('output', async () => {
        const limit = assignment.resultLimit;
        for (const set of data) {
          const soFar = { rows: sum(sent, 'rows'), bytes: sum(sent, 'bytes') };
          sent.push(await sendDataSet(workspace.db, set, output, origin, { ...(spec.outputColumns ? { columns: spec.outputColumns } : {}), ...(limit ? { limit, sent: soFar } : {}) }));
        }
      });
      return { rowsOut: sum(sent, 'rows'), bytesOut: sum(sent, 'bytes'), streamsOut: sent.length, stages };
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
    await sendFailure(output, origin, told).catch(() => undefined);
    throw told;
  }
}

/** Each input party's stream becomes a table of the workspace, in the order the spec names them. */
async function receiveInputs(
  engine: DuckDBInstance,
  { spec, tls, listenHost }: RunnerMessage,
  onAccepting: (address: string) => void,
): Promise<DataSet[]> {
  if (spec.inputs.length === 0) return [];
  const received = new Map<string, DataSet>();
  const server = await listenForStreams(
    { host: listenHost, tls, requestId: spec.requestId, expected: spec.inputs.map((party) => ({ party, count: 1 })) },
    async (stream) => {
      const party = stream.header.sourceParty;
      const table = `input_${spec.inputs.indexOf(party)}`;
      // A connection per stream: stewards send at the same time and each appender owns its connection.
      const db = await engine.connect();
      try {
        const writer = await TableWriter.create(db, table, stream.header.columns);
        const end = await stream.consume((chunk) => writer.append(chunk));
        writer.close();
        const artifacts = end.artifacts.map((a) => ({ name: a.name, mediaType: a.mediaType, content: new TextDecoder().decode(a.content) }));
        received.set(party, { table, providers: stream.header.providers, artifacts });
      } finally {
        db.closeSync();
      }
    },
  );
  try {
    onAccepting(server.address);
    await server.completion;
  } catch (error) {
    // The senders still streaming hear why this job stopped taking their data.
    await server.close(toDynamosError(error, 'JOB_FAILED'));
    throw error;
  }
  await server.close();
  return spec.inputs.map((party) => received.get(party) as DataSet);
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
