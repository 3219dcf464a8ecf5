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
import type { Fetcher, IncomingStream } from '../../../services/sidecar/fetch-streams.js';
import { fetchStreams } from '../../../services/sidecar/fetch-streams.js';
import type { OutputServer } from '../../../services/sidecar/output-server.js';
import { serveOutput } from '../../../services/sidecar/output-server.js';
import type { SendOptions } from '../../../services/sidecar/send-stream.js';
import { sendDataSet } from '../../../services/sidecar/send-stream.js';
import { TableWriter } from '../../../services/sidecar/table-writer.js';

const request = { requestId: 'r1', requestType: 'sqlDataRequest', query: '', algorithm: 'none', options: {}, requester: 'a@b' };
const origin = { request, sourceParty: 'VU' };

let ca: MarketplaceCa;
const issued = new Map<string, DataPlaneTls>();

/** The credentials of `party` under `authority` (the marketplace's CA unless another is given). */
async function tlsOf(party: string, authority: MarketplaceCa = ca): Promise<DataPlaneTls> {
  const key = `${authority.fingerprint}/${party}`;
  if (!issued.has(key)) issued.set(key, { ca: authority.cert, ...(await authority.issue({ kind: 'party', party })) });
  return issued.get(key) as DataPlaneTls;
}

/** VU's outgoing sidecar (or `party`'s), whose plan sends the data to SURF. */
async function serveAtVu(party = 'VU'): Promise<OutputServer> {
  return serveOutput({ host: '127.0.0.1', tls: await tlsOf(party), requestId: 'r1', consumer: { kind: 'party', party: 'SURF' } });
}

/** SURF (or `as`) fetching one data set from VU's sidecar. */
async function fetchFromVu(server: OutputServer, handle: (stream: IncomingStream) => Promise<void>, as: Partial<Fetcher> & { party?: string } = {}): Promise<void> {
  const { party = 'SURF', ...rest } = as;
  return fetchStreams({ address: server.address, party: 'VU' }, { tls: await tlsOf(party), requestId: 'r1', ...rest }, 1, handle);
}

const drain = async (stream: IncomingStream) => void (await stream.consume(() => undefined));

function failsWith(code: string, message?: RegExp) {
  return (e: unknown) => e instanceof DynamosError && e.code === code && (message === undefined || message.test(e.message));
}

before(async () => {
  ca = await createMarketplaceCa({ name: 'stream test CA' });
});

describe('sidecar streams (gRPC over mutual TLS, columnar)', () => {
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

  /** VU serves `table` from the source database; SURF fetches it into `copy` in the target. */
  async function transfer(table: string, opts: SendOptions = {}) {
    let header: StreamHeader | undefined;
    let end: StreamEnd | undefined;
    let chunks = 0;
    const server = await serveAtVu();
    try {
      const set = { table, providers: ['VU'], artifacts: [{ name: 'a.svg', mediaType: 'image/svg+xml', content: '<svg/>' }] };
      const sending = server.deliver((sink) => sendDataSet(src, set, sink, origin, opts)).catch((error: unknown) => {
        server.fail(error as DynamosError);
        throw error;
      });
      const fetching = fetchFromVu(server, async (stream) => {
        header = stream.header;
        const writer = await TableWriter.create(dst, 'copy', stream.header.columns);
        end = await stream.consume((chunk) => {
          chunks++;
          writer.append(chunk);
        });
        writer.close();
      });
      const [stats] = await Promise.all([sending, fetching]);
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

  it('passes the producer\'s failure to its consumer with the producer\'s code, whether it fetched already or not', async () => {
    for (const fetchFirst of [true, false]) {
      const server = await serveAtVu();
      const failure = new DynamosError('QUERY_FAILED', 'no such table', { retryable: false });
      if (!fetchFirst) server.fail(failure);
      const fetching = fetchFromVu(server, drain);
      if (fetchFirst) server.fail(failure);
      await assert.rejects(fetching, failsWith('QUERY_FAILED', /VU: no such table/));
      await server.close();
    }
  });

  it('serves only the consumer the plan names, by its certificate, once, for this request', async () => {
    await src.run(`CREATE TABLE t AS SELECT 1 AS x`);
    const server = await serveAtVu();
    const delivered = server.deliver((sink) => sendDataSet(src, { table: 't', providers: [], artifacts: [] }, sink, origin));
    // UVA's own certificate: a real party, but not the one this link is for.
    await assert.rejects(fetchFromVu(server, drain, { party: 'UVA' }), failsWith('FORBIDDEN', /party UVA may not fetch/));
    // SURF's certificate, asking for another request.
    await assert.rejects(fetchFromVu(server, drain, { requestId: 'r2' }), failsWith('FORBIDDEN'));
    await fetchFromVu(server, drain);
    await delivered;
    // The data went once: a second fetch, even by SURF, is refused.
    await assert.rejects(fetchFromVu(server, drain), failsWith('FORBIDDEN'));
    await server.close();
  });

  it('a stranger without the marketplace\'s certificate, or speaking garbage, never reaches the data', async () => {
    await src.run(`CREATE TABLE t AS SELECT 1 AS x`);
    const server = await serveAtVu();
    let sent = 0;
    const delivered = server.deliver(async (sink) => {
      sent++;
      return sendDataSet(src, { table: 't', providers: [], artifacts: [] }, sink, origin);
    });
    const port = Number(server.address.split(':').pop());
    for (const bytes of [Buffer.from([1, 2, 3, 4, 5]), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')]) await sendRaw(port, bytes);
    // A certificate naming SURF from a CA the marketplace does not trust.
    const rogue = await createMarketplaceCa({ name: 'rogue CA' });
    await assert.rejects(fetchFromVu(server, drain, { tls: { ...(await tlsOf('SURF', rogue)), ca: ca.cert } }));
    assert.equal(sent, 0);
    await fetchFromVu(server, drain);
    await delivered;
    assert.equal(sent, 1);
    await server.close();
  });

  it('fetches nothing from a sidecar whose certificate names another party than the plan\'s', async () => {
    // Something listening where VU's sidecar should be, with UVA's certificate.
    const impostor = await serveAtVu('UVA');
    let asked = false;
    void impostor.deliver(async () => {
      asked = true;
    });
    let handled = false;
    await assert.rejects(fetchFromVu(impostor, async () => void (handled = true)), failsWith('JOB_FAILED', /party VU's sidecar/));
    assert.equal(handled, false);
    assert.equal(asked, false);
    await impostor.close();
  });

  it('a consumer that stops tells the producer, which stops too', async () => {
    await src.run(`CREATE TABLE t AS SELECT i FROM range(200000) r(i)`);
    const server = await serveAtVu();
    const delivered = server.deliver((sink) => sendDataSet(src, { table: 't', providers: [], artifacts: [] }, sink, origin, { chunkBytes: 1024 }));
    const fetching = fetchFromVu(server, async (stream) => {
      await stream.consume(() => {
        throw new DynamosError('RESULT_TOO_LARGE', 'the answer passed 10 rows', { retryable: false });
      });
    });
    await assert.rejects(fetching, failsWith('RESULT_TOO_LARGE', /passed 10 rows/));
    await assert.rejects(delivered, failsWith('JOB_CANCELLED', /party SURF stopped fetching/));
    await server.close();
  });

  it('a fetch whose deadline passed is a timeout', async () => {
    const server = await serveAtVu();
    await assert.rejects(fetchFromVu(server, drain, { deadlineAt: Date.now() - 1 }), failsWith('JOB_TIMEOUT'));
    await server.close();
  });

  it('decodes a chunk into JSON-safe rows', async () => {
    await src.run(`CREATE TABLE t AS SELECT * FROM (VALUES (1, 9007199254740993::BIGINT, 'a', DATE '2024-02-29', NULL::DOUBLE, 'inf'::DOUBLE)) v(a, b, c, d, e, f)`);
    let rows: unknown[][] = [];
    const server = await serveAtVu();
    const delivered = server.deliver((sink) => sendDataSet(src, { table: 't', providers: [], artifacts: [] }, sink, origin));
    await fetchFromVu(server, async (stream) => {
      await stream.consume((chunk: DataChunk) => void (rows = decodeRows(stream.header.columns, chunk)));
    });
    await delivered;
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
