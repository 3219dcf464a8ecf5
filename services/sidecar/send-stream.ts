import type { DuckDBConnection } from '@duckdb/node-api';
import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { ColumnSchema, RequestEnvelope, StreamFrame } from '../../proto/generated/dynamos/v1/microservice.js';
import type { Artifact, DataSet } from '../microservice.js';
import { sqlIdentifier } from '../workspace/sql-text.js';
import { asQueryFailure } from '../workspace/table-columns.js';
import { ChunkAssembler } from './chunk-assembler.js';
import { wireTypeOf } from './column-types.js';
import type { DataPlaneTls } from './data-plane-tls.js';
import { checkResultLimit } from './result-limit.js';
import { withStream } from './sidecar-client.js';

/** Where a stream goes: a sidecar's `host:port`, and whose sidecar must answer there. */
export interface StreamTarget {
  readonly address: string;
  readonly identity: DataPlaneIdentity;
}

/** Who sends: the request, the party, its credentials and the request's deadline. */
export interface StreamOrigin {
  readonly request: RequestEnvelope;
  readonly sourceParty: string;
  readonly tls: DataPlaneTls;
  /** Epoch ms after which the receiving sidecar gives up on the stream. */
  readonly deadlineAt?: number;
}

export interface SendOptions {
  /** Send only these columns (matched case-insensitively); all when undefined. */
  readonly columns?: readonly string[];
  /** A wire chunk is sent once it holds this many bytes. @default 1 MiB */
  readonly chunkBytes?: number;
  /** Stop with RESULT_TOO_LARGE before sending more than this (counted with `sent`, what went before). */
  readonly limit?: ResultLimit;
  readonly sent?: SendStats;
}

export interface SendStats {
  readonly rows: number;
  readonly bytes: number;
}

/** Streams one data set to a sidecar: header, columnar chunks, then the end with its artifacts. */
export async function sendDataSet(
  db: DuckDBConnection,
  data: DataSet,
  target: StreamTarget,
  origin: StreamOrigin,
  opts: SendOptions = {},
): Promise<SendStats> {
  const { columns, select } = await wireColumns(db, data.table, opts.columns);
  return withStream(target, origin, async (writer) => {
    await writer.write(header(origin, columns, data.providers));
    const assembler = new ChunkAssembler(columns.map((c) => c.type));
    const limit = opts.chunkBytes ?? 1024 * 1024;
    let rows = 0;
    let bytes = 0;
    const flush = async () => {
      const chunk = assembler.take();
      rows += chunk.rowCount;
      bytes += chunk.columns.reduce((s, c) => s + c.values.length + c.offsets.length + c.validity.length, 0);
      if (opts.limit !== undefined) checkResultLimit(opts.limit, { rows: rows + (opts.sent?.rows ?? 0), bytes: bytes + (opts.sent?.bytes ?? 0) });
      await writer.write({ frame: { $case: 'chunk', value: chunk } });
    };
    const result = await db.stream(select).catch((e: unknown) => Promise.reject(asQueryFailure(e)));
    for (;;) {
      const chunk = await result.fetchChunk().catch((e: unknown) => Promise.reject(asQueryFailure(e)));
      if (chunk === null || chunk.rowCount === 0) break;
      assembler.append(chunk);
      if (assembler.byteSize >= limit || assembler.rowCount % 8 !== 0) await flush();
    }
    if (assembler.rowCount > 0) await flush();
    await writer.write({ frame: { $case: 'end', value: { rowCount: rows, artifacts: data.artifacts.map(toWireArtifact) } } });
    return { rows, bytes };
  });
}

/** Tells the receiving sidecar that this party failed, so it fails fast instead of waiting. */
export async function sendFailure(target: StreamTarget, origin: StreamOrigin, error: { readonly code: string; readonly message: string }): Promise<void> {
  await withStream(target, origin, async (writer) => {
    await writer.write(header(origin, [], []));
    await writer.write({ frame: { $case: 'error', value: { code: error.code, message: error.message } } });
  }).catch((answer: unknown) => {
    // A receiver that took the failure ends the call with it: that answer is the acknowledgement.
    if (!(answer instanceof DynamosError && answer.code === error.code)) throw answer;
  });
}

function header(origin: StreamOrigin, columns: readonly ColumnSchema[], providers: readonly string[]): StreamFrame {
  return { frame: { $case: 'header', value: { request: origin.request, sourceParty: origin.sourceParty, columns: [...columns], providers: [...providers] } } };
}

/** The columns to send with their wire types, and the SELECT that casts them. */
async function wireColumns(db: DuckDBConnection, table: string, wanted: readonly string[] | undefined) {
  const probe = await db.runAndReadAll(`SELECT * FROM ${sqlIdentifier(table)} LIMIT 0`);
  const names = probe.columnNames();
  const types = probe.columnTypes();
  let picked = names.map((_, i) => i);
  if (wanted !== undefined) {
    const missing: string[] = [];
    picked = wanted.map((w) => {
      const i = names.findIndex((n) => n.toLowerCase() === w.toLowerCase());
      if (i < 0) missing.push(w);
      return i;
    });
    if (missing.length > 0) {
      throw new DynamosError('ALGORITHM_INPUT_INVALID', `the data lacks column(s) ${missing.join(', ')} the analysis needs; it has ${names.join(', ')}`, {
        retryable: false,
      });
    }
  }
  const columns: ColumnSchema[] = [];
  const exprs: string[] = [];
  for (const i of picked) {
    const name = names[i] as string;
    const wire = wireTypeOf(types[i] as (typeof types)[number]);
    columns.push({ name, type: wire.type });
    exprs.push(wire.cast === undefined ? sqlIdentifier(name) : `CAST(${sqlIdentifier(name)} AS ${wire.cast}) AS ${sqlIdentifier(name)}`);
  }
  return { columns, select: `SELECT ${exprs.join(', ')} FROM ${sqlIdentifier(table)}` };
}

function toWireArtifact(a: Artifact) {
  return { name: a.name, mediaType: a.mediaType, content: new TextEncoder().encode(a.content) };
}
