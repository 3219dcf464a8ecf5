import type { DuckDBConnection } from '@duckdb/node-api';
import { DynamosError } from '../../knowledge/errors.js';
import type { ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { ColumnSchema, RequestEnvelope, StreamFrame } from '../../proto/generated/dynamos/v1/microservice.js';
import type { Artifact, DataSet } from '../microservice.js';
import { sqlIdentifier } from '../workspace/sql-text.js';
import { asQueryFailure } from '../workspace/table-columns.js';
import { ChunkAssembler } from './chunk-assembler.js';
import { wireTypeOf } from './column-types.js';
import type { FrameSink } from './output-server.js';
import { checkResultLimit } from './result-limit.js';

/** Who sends: the request and the party. */
export interface StreamOrigin {
  readonly request: RequestEnvelope;
  readonly sourceParty: string;
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

/** Writes one data set to a sidecar's sink: header, columnar chunks, then the end with its artifacts. */
export async function sendDataSet(
  db: DuckDBConnection,
  data: DataSet,
  writer: FrameSink,
  origin: StreamOrigin,
  opts: SendOptions = {},
): Promise<SendStats> {
  const { columns, select } = await wireColumns(db, data.table, opts.columns);
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
