import net from 'node:net';
import { DynamosError, isErrorCode } from '../../knowledge/errors.js';
import type { DataChunk, StreamEnd, StreamFrame, StreamHeader } from '../../proto/generated/dynamos/v1/microservice.js';
import { readFrames } from './frame-codec.js';

/** A header names a request, a party, its columns and a token: a few KiB. A stranger may not make the sidecar buffer more. */
const maxHeaderBytes = 1024 * 1024;

/** A stream the sidecar expects: `count` streams from `party`, each carrying `token`. */
export interface ExpectedStreams {
  readonly token: string;
  readonly party: string;
  readonly count: number;
}

export interface IncomingStream {
  readonly header: StreamHeader;
  /**
   * Hands every data chunk to `onChunk`, the next only after the previous was handled, and
   * resolves with the end frame. Rejects with the sender's error when it sent one.
   */
  consume(onChunk: (chunk: DataChunk) => void | Promise<void>): Promise<StreamEnd>;
}

export interface SidecarServer {
  readonly host: string;
  readonly port: number;
  /** Resolves when every expected stream was handled; rejects on the first failure. */
  readonly completion: Promise<void>;
  close(): Promise<void>;
}

/**
 * The receiving side of a sidecar: a loopback listener that accepts exactly the expected streams
 * (anything without a known token is dropped) and hands each to `handle`.
 */
export async function listenForStreams(
  expected: readonly ExpectedStreams[],
  handle: (stream: IncomingStream) => Promise<void>,
): Promise<SidecarServer> {
  const remaining = new Map(expected.map((e) => [e.token, { ...e }]));
  let open = expected.reduce((n, e) => n + e.count, 0);
  const sockets = new Set<net.Socket>();
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const completion = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  completion.catch(() => undefined);
  if (open === 0) settle.resolve();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket).catch((error: unknown) => {
      socket.destroy();
      settle.reject(error);
    });
  });

  async function serve(socket: net.Socket): Promise<void> {
    const frames = readFrames(socket, { firstFrameMaxBytes: maxHeaderBytes });
    // Until a connection shows a token of this request, it is a stranger: whatever it sends or
    // fails to send drops that connection and touches nothing else.
    const header = await frames.next().then(
      (first) => (first.done ? undefined : headerOf(first.value)),
      () => undefined,
    );
    const slot = header === undefined ? undefined : remaining.get(header.streamToken);
    if (header === undefined || slot === undefined || slot.count === 0 || header.sourceParty !== slot.party) {
      socket.destroy();
      return;
    }
    slot.count--;
    await handle({ header, consume: (onChunk) => consumeFrames(frames, header, onChunk) });
    socket.end();
    if (--open === 0) settle.resolve();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    completion,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function consumeFrames(
  frames: AsyncGenerator<StreamFrame>,
  header: StreamHeader,
  onChunk: (chunk: DataChunk) => void | Promise<void>,
): Promise<StreamEnd> {
  for await (const { frame } of frames) {
    switch (frame?.$case) {
      case 'chunk':
        await onChunk(frame.value);
        break;
      case 'end':
        return frame.value;
      case 'error': {
        const code = isErrorCode(frame.value.code) ? frame.value.code : 'JOB_FAILED';
        throw new DynamosError(code, `${header.sourceParty}: ${frame.value.message}`, { retryable: false, details: { party: header.sourceParty } });
      }
      default:
        throw new DynamosError('STREAM_INVALID', `${header.sourceParty} sent an unexpected ${frame?.$case ?? 'empty'} frame`, { retryable: false });
    }
  }
  throw new DynamosError('STREAM_INVALID', `${header.sourceParty}'s stream ended without an end frame`, { retryable: true });
}

function headerOf(frame: StreamFrame): StreamHeader | undefined {
  return frame.frame?.$case === 'header' ? frame.frame.value : undefined;
}
