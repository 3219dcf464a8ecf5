import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { DuckDBInstance } from '@duckdb/node-api';
import { createMarketplaceCa } from '../../adapters/tls/index.js';
import { StreamFrame } from '../../proto/generated/dynamos/v1/microservice.js';
import type { DataPlaneTls } from '../../services/sidecar/data-plane-tls.js';
import type { IncomingStream } from '../../services/sidecar/fetch-streams.js';
import { fetchStreams } from '../../services/sidecar/fetch-streams.js';
import type { FrameSink } from '../../services/sidecar/output-server.js';
import { serveOutput } from '../../services/sidecar/output-server.js';
import { sendDataSet } from '../../services/sidecar/send-stream.js';
import { ratio, summarize } from './stats.js';

const request = { requestId: 'bench', requestType: 'sqlDataRequest', query: '', algorithm: 'none', options: {}, requester: 'bench' };
const mib = 2 ** 20;

/** One link: VU's sidecar serves what `send` writes, SURF fetches it and hands it to `receive`. */
async function link<T>(vu: DataPlaneTls, surf: DataPlaneTls, send: (sink: FrameSink) => Promise<T>, receive: (stream: IncomingStream) => Promise<void>): Promise<T> {
  const server = await serveOutput({ host: '127.0.0.1', tls: vu, requestId: 'bench', consumer: { kind: 'party', party: 'SURF' } });
  try {
    const [out] = await Promise.all([server.deliver(send), fetchStreams({ address: server.address, party: 'VU' }, { tls: surf, requestId: 'bench' }, 1, receive)]);
    return out;
  } finally {
    await server.close();
  }
}

/**
 * The data plane alone, on loopback: a table's columnar chunks streamed from one party's sidecar
 * to another's over gRPC with mutual TLS, beside the same bytes written to a raw TCP socket in the
 * same run; and what opening a link costs (a new mutually authenticated connection per stream).
 */
export async function benchStreams(repeats: number, rows = 1_000_000): Promise<Record<string, unknown>> {
  const ca = await createMarketplaceCa({ name: 'bench CA' });
  const tlsOf = async (party: string): Promise<DataPlaneTls> => ({ ca: ca.cert, ...(await ca.issue({ kind: 'party', party })) });
  const [vu, surf] = [await tlsOf('VU'), await tlsOf('SURF')];
  const engine = await DuckDBInstance.create(':memory:');
  const db = await engine.connect();
  await db.run(`CREATE TABLE t AS SELECT i AS id, i * 0.5 AS amount, 'name-' || (i % 1000) AS label, DATE '2020-01-01' + (i % 365)::INTEGER AS day FROM range(${rows}) r(i)`);
  await db.run('CREATE TABLE tiny AS SELECT 1 AS x');
  const grpcMiBps: number[] = [];
  const rawMiBps: number[] = [];
  const transportMiBps: number[] = [];
  const handshakeMs: number[] = [];
  const tlsHandshakeMs: number[] = [];
  let bytes = 0;
  try {
    for (let i = 0; i < repeats + 1; i++) {
      const chunks: Uint8Array[] = [];
      const started = performance.now();
      const sent = await link(
        vu,
        surf,
        (sink) => sendDataSet(db, { table: 't', providers: ['VU'], artifacts: [] }, sink, { request, sourceParty: 'VU' }),
        (stream) => stream.consume((chunk) => void (i === 0 ? chunks.push(StreamFrame.encode({ frame: { $case: 'chunk', value: chunk } }).finish()) : undefined)).then(() => undefined),
      );
      const seconds = (performance.now() - started) / 1000;
      if (i === 0) {
        bytes = sent.bytes;
        // The same encoded chunks through a plain socket, and through a gRPC stream alone: what
        // the transport costs over bytes alone, without DuckDB on either side.
        for (let r = 0; r < repeats; r++) {
          rawMiBps.push(await rawSocketMiBps(chunks));
          transportMiBps.push(await grpcTransportMiBps(chunks, vu, surf));
        }
        continue;
      }
      grpcMiBps.push(sent.bytes / mib / seconds);
    }
    for (let i = 0; i < repeats * 4 + 1; i++) {
      const started = performance.now();
      await link(vu, surf, (sink) => sendDataSet(db, { table: 'tiny', providers: [], artifacts: [] }, sink, { request, sourceParty: 'VU' }), (stream) => stream.consume(() => undefined).then(() => undefined));
      const took = performance.now() - started;
      if (i > 0) handshakeMs.push(took);
      if (i > 0) tlsHandshakeMs.push(await plainTlsHandshakeMs(vu, surf));
    }
  } finally {
    db.closeSync();
    engine.closeSync();
  }
  const transport = summarize(transportMiBps);
  const raw = summarize(rawMiBps);
  return {
    rows,
    wireMiB: Math.round((bytes / mib) * 10) / 10,
    tableToTableMiBps: summarize(grpcMiBps),
    grpcMutualTlsMiBps: transport,
    rawSocketMiBps: raw,
    ratioGrpcToRaw: ratio(transport.median, raw.median),
    note: 'one process, one thread: both ends share it. grpcMutualTls: the encoded chunks fetched over gRPC with mutual TLS; rawSocket: the same bytes through a plain loopback socket; tableToTable: a DuckDB table read, encoded, served and fetched (not written into a table); tinyDataSetNewLink: a one-row data set over a new link (server, handshake, fetch); tlsHandshakeOnly: a mutual TLS handshake with the same certificates',
    tinyDataSetNewLinkMs: summarize(handshakeMs),
    tlsHandshakeOnlyMs: summarize(tlsHandshakeMs),
  };
}

/** The chunks as one fetch over gRPC with mutual TLS, received and dropped. */
async function grpcTransportMiBps(frames: readonly Uint8Array[], vu: DataPlaneTls, surf: DataPlaneTls): Promise<number> {
  const total = frames.reduce((s, f) => s + f.length, 0);
  const decoded = frames.map((f) => StreamFrame.decode(f));
  const started = performance.now();
  await link(
    vu,
    surf,
    async (sink) => {
      await sink.write({ frame: { $case: 'header', value: { request, sourceParty: 'VU', columns: [], providers: [] } } });
      for (const frame of decoded) await sink.write(frame);
      await sink.write({ frame: { $case: 'end', value: { rowCount: 0, artifacts: [] } } });
    },
    (stream) => stream.consume(() => undefined).then(() => undefined),
  );
  return total / mib / ((performance.now() - started) / 1000);
}

async function rawSocketMiBps(frames: readonly Uint8Array[]): Promise<number> {
  const total = frames.reduce((s, f) => s + f.length, 0);
  let got = 0;
  let allReceived!: () => void;
  const received = new Promise<void>((resolve) => (allReceived = resolve));
  const server = net.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= total) allReceived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const started = performance.now();
  const client = net.connect({ host: '127.0.0.1', port });
  await once(client, 'connect');
  for (const frame of frames) if (!client.write(frame)) await once(client, 'drain');
  await received;
  const seconds = (performance.now() - started) / 1000;
  client.destroy();
  server.close();
  return total / mib / seconds;
}

/** A mutually authenticated TLS handshake alone, with the same certificates. */
async function plainTlsHandshakeMs(client: DataPlaneTls, server: DataPlaneTls): Promise<number> {
  const listener = tls.createServer({ key: server.key, cert: server.cert, ca: server.ca, requestCert: true, rejectUnauthorized: true }, (s) => s.end());
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as net.AddressInfo;
  const started = performance.now();
  const socket = tls.connect({ host: '127.0.0.1', port, key: client.key, cert: client.cert, ca: client.ca, checkServerIdentity: () => undefined });
  await once(socket, 'secureConnect');
  const took = performance.now() - started;
  socket.destroy();
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return took;
}
