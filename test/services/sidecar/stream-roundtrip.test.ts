import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DuckDBInstance as Instance } from '@duckdb/node-api';
import { DynamosError } from '../../../knowledge/errors.js';
import type { DataChunk, StreamEnd, StreamHeader } from '../../../proto/generated/dynamos/v1/microservice.js';
import { decodeRows } from '../../../services/sidecar/decode-rows.js';
import { sendDataSet, sendFailure } from '../../../services/sidecar/send-stream.js';
import { listenForStreams } from '../../../services/sidecar/sidecar-server.js';
import { TableWriter } from '../../../services/sidecar/table-writer.js';

const request = { requestId: 'r1', requestType: 'sqlDataRequest', query: '', algorithm: 'none', options: {}, requester: 'a@b' };
const origin = { request, sourceParty: 'VU' };

describe('sidecar stream (protobuf, columnar)', () => {
  let source: DuckDBInstance;
  let target: DuckDBInstance;
  let src: DuckDBConnection;
  let dst: DuckDBConnection;

  beforeEach(async () => {
    source = await Instance.create(':memory:');
    target = await Instance.create(':memory:');
    src = await source.connect();
    dst = await target.connect();
  });
  afterEach(() => {
    src.closeSync();
    dst.closeSync();
    source.closeSync();
    target.closeSync();
  });

  /** Sends `table` from the source database and writes what arrives into `copy` in the target. */
  async function transfer(table: string, opts: { columns?: string[]; chunkBytes?: number } = {}) {
    let header: StreamHeader | undefined;
    let end: StreamEnd | undefined;
    let chunks = 0;
    const server = await listenForStreams([{ token: 't', party: 'VU', count: 1 }], async (stream) => {
      header = stream.header;
      const writer = await TableWriter.create(dst, 'copy', stream.header.columns);
      end = await stream.consume((chunk) => {
        chunks++;
        writer.append(chunk);
      });
      writer.close();
    });
    try {
      const set = { table, providers: ['VU'], artifacts: [{ name: 'a.svg', mediaType: 'image/svg+xml', content: '<svg/>' }] };
      const stats = await sendDataSet(src, set, { host: server.host, port: server.port, token: 't' }, origin, opts);
      await server.completion;
      return { header: header as StreamHeader, end: end as StreamEnd, chunks, stats };
    } finally {
      await server.close();
    }
  }

  async function rowsOf(db: DuckDBConnection, sql: string) {
    return (await db.runAndReadAll(sql)).getRowsJson();
  }

  it('carries every type, nulls and long strings unchanged across many chunks', async () => {
    await src.run(`CREATE TABLE t AS SELECT i::INTEGER AS i, i::BIGINT * 1000000000 AS big, i / 3 AS dbl, i % 2 = 0 AS flag,
      CASE WHEN i % 7 = 0 THEN NULL ELSE 'name-' || i || repeat('x', i % 20) END AS s, DATE '2020-01-01' + (i % 400)::INTEGER AS d,
      TIMESTAMP '2020-01-01 00:00:00' + to_seconds(i) AS ts, (i % 100)::TINYINT AS tiny, (i * 1.5)::DECIMAL(10,2) AS dec,
      [i, i + 1] AS list, CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS ni FROM range(20000) r(i)`);
    const { stats, chunks, end } = await transfer('t', { chunkBytes: 64 * 1024 });
    assert.equal(stats.rows, 20000);
    assert.ok(chunks > 5, `expected several chunks, got ${chunks}`);
    assert.equal(end.rowCount, 20000);
    assert.equal(new TextDecoder().decode(end.artifacts[0]?.content), '<svg/>');
    const expected = await rowsOf(src, `SELECT i, big, dbl, flag, s, d, ts, tiny::INTEGER, dec::DOUBLE, list::VARCHAR, ni FROM t ORDER BY i`);
    assert.deepEqual(await rowsOf(dst, 'SELECT * FROM copy ORDER BY i'), expected);
  });

  it('sends only the requested columns, matched case-insensitively', async () => {
    await src.run(`CREATE TABLE t AS SELECT 'M' AS Geslacht, 10 AS Salschal, 'secret' AS Nationaliteit`);
    const { header } = await transfer('t', { columns: ['geslacht', 'SALSCHAL'] });
    assert.deepEqual(header.columns.map((c) => c.name), ['Geslacht', 'Salschal']);
    assert.deepEqual(await rowsOf(dst, 'SELECT * FROM copy'), [['M', 10]]);
  });

  it('refuses a projection that names a missing column', async () => {
    await src.run(`CREATE TABLE t AS SELECT 'M' AS Geslacht`);
    await assert.rejects(transfer('t', { columns: ['Salschal'] }), (e: unknown) => e instanceof DynamosError && e.code === 'ALGORITHM_INPUT_INVALID');
  });

  it('passes a sender failure to the receiver as a typed error', async () => {
    const server = await listenForStreams([{ token: 't', party: 'VU', count: 1 }], async (stream) => {
      await stream.consume(() => undefined);
    });
    await sendFailure({ host: server.host, port: server.port, token: 't' }, origin, new DynamosError('QUERY_FAILED', 'no such table', { retryable: false }));
    await assert.rejects(server.completion, (e: unknown) => e instanceof DynamosError && e.code === 'QUERY_FAILED' && /VU: no such table/.test(e.message));
    await server.close();
  });

  it('drops a connection without the expected token and keeps waiting for the real one', async () => {
    await src.run(`CREATE TABLE t AS SELECT 1 AS x`);
    const server = await listenForStreams([{ token: 'right', party: 'VU', count: 1 }], async (stream) => {
      await stream.consume(() => undefined);
    });
    const stranger = sendDataSet(src, { table: 't', providers: [], artifacts: [] }, { host: server.host, port: server.port, token: 'wrong' }, origin);
    await stranger.catch(() => undefined);
    let done = false;
    void server.completion.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    await sendDataSet(src, { table: 't', providers: [], artifacts: [] }, { host: server.host, port: server.port, token: 'right' }, origin);
    await server.completion;
    await server.close();
  });

  it('a stranger sending garbage, an oversized header or another party\'s token harms nothing', async () => {
    await src.run(`CREATE TABLE t AS SELECT 1 AS x`);
    const server = await listenForStreams([{ token: 'right', party: 'VU', count: 1 }], async (stream) => {
      await stream.consume(() => undefined);
    });
    let failed: unknown;
    server.completion.catch((e: unknown) => (failed = e));
    const strangers = [
      Buffer.from([1, 2, 3, 4, 5]),
      Buffer.from([0xff, 0xff, 0xff, 0x7f]), // a 256 MiB frame is claimed before any token shows
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), // not a varint
    ];
    for (const bytes of strangers) await sendRaw(server.port, bytes);
    // The right token under another party's name is a stranger too.
    await sendDataSet(src, { table: 't', providers: [], artifacts: [] }, { host: server.host, port: server.port, token: 'right' }, { ...origin, sourceParty: 'UVA' }).catch(() => undefined);
    await sendDataSet(src, { table: 't', providers: [], artifacts: [] }, { host: server.host, port: server.port, token: 'right' }, origin);
    await server.completion;
    assert.equal(failed, undefined);
    await server.close();
  });

  it('decodes a chunk into JSON-safe rows', async () => {
    await src.run(`CREATE TABLE t AS SELECT * FROM (VALUES (1, 9007199254740993::BIGINT, 'a', DATE '2024-02-29', NULL::DOUBLE, 'inf'::DOUBLE)) v(a, b, c, d, e, f)`);
    let rows: unknown[][] = [];
    const server = await listenForStreams([{ token: 't', party: 'VU', count: 1 }], async (stream) => {
      await stream.consume((chunk: DataChunk) => void (rows = decodeRows(stream.header.columns, chunk)));
    });
    await sendDataSet(src, { table: 't', providers: [], artifacts: [] }, { host: server.host, port: server.port, token: 't' }, origin);
    await server.completion;
    await server.close();
    assert.deepEqual(rows, [[1, '9007199254740993', 'a', '2024-02-29', null, 'Infinity']]);
  });
});

/** Sends `bytes` to a loopback port and waits until the connection is gone. */
async function sendRaw(port: number, bytes: Uint8Array): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.write(bytes);
  socket.end();
  socket.on('error', () => undefined);
  await once(socket, 'close');
}
