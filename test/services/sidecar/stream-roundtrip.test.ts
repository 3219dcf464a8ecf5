import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DuckDBInstance as Instance } from '@duckdb/node-api';
import type { MarketplaceCa } from '../../../adapters/tls/index.js';
import { createMarketplaceCa } from '../../../adapters/tls/index.js';
import { DynamosError } from '../../../knowledge/errors.js';
import type { DataChunk, StreamEnd, StreamHeader } from '../../../proto/generated/dynamos/v1/microservice.js';
import type { DataPlaneTls } from '../../../services/sidecar/data-plane-tls.js';
import { decodeRows } from '../../../services/sidecar/decode-rows.js';
import type { StreamOrigin, StreamTarget } from '../../../services/sidecar/send-stream.js';
import { sendDataSet, sendFailure } from '../../../services/sidecar/send-stream.js';
import type { SidecarServer } from '../../../services/sidecar/sidecar-server.js';
import { listenForStreams } from '../../../services/sidecar/sidecar-server.js';
import { TableWriter } from '../../../services/sidecar/table-writer.js';

const request = { requestId: 'r1', requestType: 'sqlDataRequest', query: '', algorithm: 'none', options: {}, requester: 'a@b' };

let ca: MarketplaceCa;
const issued = new Map<string, DataPlaneTls>();

/** The credentials of `party` under `authority` (the marketplace's CA unless another is given). */
async function tlsOf(party: string, authority: MarketplaceCa = ca): Promise<DataPlaneTls> {
  const key = `${authority.fingerprint}/${party}`;
  if (!issued.has(key)) issued.set(key, { ca: authority.cert, ...(await authority.issue({ kind: 'party', party })) });
  return issued.get(key) as DataPlaneTls;
}

async function originOf(party: string, overrides: Partial<StreamOrigin> = {}): Promise<StreamOrigin> {
  return { request, sourceParty: party, tls: await tlsOf(party), ...overrides };
}

/** A sidecar of the TTP `SURF` expecting one stream from `VU`. */
async function listenAtSurf(handle: Parameters<typeof listenForStreams>[1], expected = [{ party: 'VU', count: 1 }]): Promise<SidecarServer> {
  return listenForStreams({ host: '127.0.0.1', tls: await tlsOf('SURF'), requestId: 'r1', expected }, handle);
}

function surf(server: SidecarServer): StreamTarget {
  return { address: server.address, identity: { kind: 'party', party: 'SURF' } };
}

const drain = async (stream: { consume: (f: () => void) => Promise<unknown> }) => void (await stream.consume(() => undefined));

function failsWith(code: string, message?: RegExp) {
  return (e: unknown) => e instanceof DynamosError && e.code === code && (message === undefined || message.test(e.message));
}

before(async () => {
  ca = await createMarketplaceCa({ name: 'stream test CA' });
});

describe('sidecar stream (gRPC over mutual TLS, columnar)', () => {
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
    const server = await listenAtSurf(async (stream) => {
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
      const stats = await sendDataSet(src, set, surf(server), await originOf('VU'), opts);
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
    const server = await listenAtSurf(drain);
    await sendFailure(surf(server), await originOf('VU'), new DynamosError('QUERY_FAILED', 'no such table', { retryable: false }));
    await assert.rejects(server.completion, failsWith('QUERY_FAILED', /VU: no such table/));
    await server.close();
  });

  it('refuses a party the plan does not name for the link, by its certificate, and keeps waiting for the right one', async () => {
    await src.run(`CREATE TABLE t AS SELECT 1 AS x`);
    const server = await listenAtSurf(drain);
    let done = false;
    void server.completion.then(() => (done = true));
    // UVA's own certificate, claiming to be UVA: a real party, but not the one this link is for.
    await assert.rejects(sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('UVA')), failsWith('FORBIDDEN', /party UVA may not send here/));
    // UVA's certificate with VU's name in the header: the certificate decides.
    await assert.rejects(sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), { ...(await originOf('UVA')), sourceParty: 'VU' }), failsWith('FORBIDDEN'));
    // VU's certificate on a stream of another request.
    await assert.rejects(sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU', { request: { ...request, requestId: 'r2' } })), failsWith('FORBIDDEN'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    await sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU'));
    await server.completion;
    await server.close();
  });

  it('a stranger without the marketplace\'s certificate, or speaking garbage, never reaches the request', async () => {
    await src.run(`CREATE TABLE t AS SELECT 1 AS x`);
    const server = await listenAtSurf(drain);
    let failed: unknown;
    server.completion.catch((e: unknown) => (failed = e));
    const port = Number(server.address.split(':').pop());
    for (const bytes of [Buffer.from([1, 2, 3, 4, 5]), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')]) await sendRaw(port, bytes);
    // A certificate naming VU, from a CA the marketplace does not trust.
    const rogue = await createMarketplaceCa({ name: 'rogue CA' });
    const rogueVu = await tlsOf('VU', rogue);
    await assert.rejects(sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU', { tls: { ...rogueVu, ca: ca.cert } })));
    await sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU'));
    await server.completion;
    assert.equal(failed, undefined);
    await server.close();
  });

  it('sends nothing to a sidecar whose certificate names another party than the plan\'s', async () => {
    await src.run(`CREATE TABLE t AS SELECT 'secret' AS x`);
    let received = 0;
    // Something listening where SURF's sidecar should be, with UVA's certificate.
    const impostor = await listenForStreams({ host: '127.0.0.1', tls: await tlsOf('UVA'), requestId: 'r1', expected: [{ party: 'VU', count: 1 }] }, async (stream) => {
      received++;
      await drain(stream);
    });
    await assert.rejects(sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(impostor), await originOf('VU')), failsWith('JOB_FAILED', /names party UVA, not party SURF/));
    assert.equal(received, 0);
    await impostor.close();
  });

  it('tells the sender why the receiver stopped: its code and message travel back', async () => {
    await src.run(`CREATE TABLE t AS SELECT i FROM range(200000) r(i)`);
    const server = await listenAtSurf(async (stream) => {
      await stream.consume(() => {
        throw new DynamosError('RESULT_TOO_LARGE', 'the answer passed 10 rows', { retryable: false });
      });
    });
    await assert.rejects(sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU'), { chunkBytes: 1024 }), failsWith('RESULT_TOO_LARGE', /passed 10 rows/));
    await assert.rejects(server.completion, failsWith('RESULT_TOO_LARGE'));
    await server.close();
  });

  it('a receiver that closes ends the streams still open with its reason', async () => {
    await src.run(`CREATE TABLE t AS SELECT i FROM range(200000) r(i)`);
    let closing!: () => void;
    const started = new Promise<void>((resolve) => (closing = resolve));
    const server = await listenAtSurf(async (stream) => {
      await stream.consume(async () => {
        closing();
        await new Promise(() => undefined);
      });
    });
    const sending = sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU'), { chunkBytes: 1024 });
    await started;
    await server.close(new DynamosError('JOB_OUT_OF_MEMORY', 'SURF ran out of memory', { retryable: false }));
    await assert.rejects(sending, failsWith('JOB_OUT_OF_MEMORY', /SURF ran out of memory/));
  });

  it('a stream whose deadline passed is refused as a timeout', async () => {
    await src.run(`CREATE TABLE t AS SELECT 1 AS x`);
    const server = await listenAtSurf(drain);
    await assert.rejects(sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU', { deadlineAt: Date.now() - 1 })), failsWith('JOB_TIMEOUT'));
    await server.close();
  });

  it('decodes a chunk into JSON-safe rows', async () => {
    await src.run(`CREATE TABLE t AS SELECT * FROM (VALUES (1, 9007199254740993::BIGINT, 'a', DATE '2024-02-29', NULL::DOUBLE, 'inf'::DOUBLE)) v(a, b, c, d, e, f)`);
    let rows: unknown[][] = [];
    const server = await listenAtSurf(async (stream) => {
      await stream.consume((chunk: DataChunk) => void (rows = decodeRows(stream.header.columns, chunk)));
    });
    await sendDataSet(src, { table: 't', providers: [], artifacts: [] }, surf(server), await originOf('VU'));
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
