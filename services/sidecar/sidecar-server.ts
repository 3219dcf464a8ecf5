import { Server, status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerReadableStream } from '@grpc/grpc-js';
import { describeIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError, isErrorCode, toDynamosError } from '../../knowledge/errors.js';
import type { DataChunk, StreamEnd, StreamFrame, StreamHeader, StreamReceipt } from '../../proto/generated/dynamos/v1/microservice.js';
import { SidecarService } from '../../proto/generated/dynamos/v1/microservice.js';
import type { DataPlaneTls } from './data-plane-tls.js';
import { callerOf, serverCredentials } from './data-plane-tls.js';
import { statusOfError } from './grpc-status.js';

/**
 * The largest message a sidecar takes: a chunk is about 1 MiB, plus at most one DuckDB vector of
 * wide rows. grpc-js buffers a message whole before it checks the limit, so the limit bounds memory.
 */
export const maxMessageBytes = 64 * 1024 * 1024;

/** Streams the sidecar expects: `count` from `party`. */
export interface ExpectedStreams {
  readonly party: string;
  readonly count: number;
}

export interface IncomingStream {
  readonly header: StreamHeader;
  /**
   * Hands every data chunk to `onChunk`, the next only after the previous was handled (so a slow
   * receiver slows the sender through HTTP/2 flow control), and resolves with the end frame.
   * Rejects with the sender's error when it sent one, or when the call broke off.
   */
  consume(onChunk: (chunk: DataChunk) => void | Promise<void>): Promise<StreamEnd>;
}

export interface SidecarServer {
  /** `host:port`, for the producers' targets. */
  readonly address: string;
  /** Resolves when every expected stream was handled; rejects on the first failure. */
  readonly completion: Promise<void>;
  /** Ends the calls still open with `reason`'s status (JOB_CANCELLED by default), then stops listening. */
  close(reason?: DynamosError): Promise<void>;
}

export interface SidecarOptions {
  /** The address to listen on: loopback, or the party's site address. */
  readonly host: string;
  readonly tls: DataPlaneTls;
  /** Streams of other requests are refused. */
  readonly requestId: string;
  readonly expected: readonly ExpectedStreams[];
}

type Call = ServerReadableStream<StreamFrame, StreamReceipt>;

/**
 * The receiving side of a sidecar: a gRPC server over mutual TLS that accepts exactly the expected
 * streams, each from the party its certificate names, and hands each to `handle`. A peer it does
 * not expect is answered PERMISSION_DENIED and touches nothing of the request.
 */
export async function listenForStreams(opts: SidecarOptions, handle: (stream: IncomingStream) => Promise<void>): Promise<SidecarServer> {
  const remaining = new Map(opts.expected.map((e) => [e.party, e.count]));
  let open = opts.expected.reduce((n, e) => n + e.count, 0);
  const answering = new Set<(error: DynamosError) => void>();
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const completion = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  completion.catch(() => undefined);
  if (open === 0) settle.resolve();

  async function serve(call: Call, answer: sendUnaryData<StreamReceipt>): Promise<void> {
    const caller = callerOf(call);
    const party = caller?.kind === 'party' ? caller.party : undefined;
    if (party === undefined || (remaining.get(party) ?? 0) === 0) {
      answer({ code: GrpcStatus.PERMISSION_DENIED, details: `${caller === undefined ? 'a peer without a data-plane identity' : describeIdentity(caller)} may not send here` });
      return;
    }
    const frames = framesOf(call);
    const header = await frames.next().then((first) => (first.done === true ? undefined : headerOf(first.value)), () => undefined);
    if (header === undefined || header.request?.requestId !== opts.requestId || header.sourceParty !== party) {
      answer({ code: GrpcStatus.PERMISSION_DENIED, details: 'the stream does not carry this request\'s header from its sender' });
      return;
    }
    remaining.set(party, (remaining.get(party) ?? 0) - 1);
    let answered = false;
    const once = (error: DynamosError | undefined, rowCount = 0) => {
      if (answered) return;
      answered = true;
      answering.delete(fail);
      if (error === undefined) answer(null, { rowCount });
      else answer(statusOfError(error));
    };
    const fail = (error: DynamosError) => once(error);
    answering.add(fail);
    let rows = 0;
    try {
      await handle({ header, consume: (onChunk) => consumeFrames(frames, header, async (chunk) => ((rows += chunk.rowCount), onChunk(chunk))) });
      once(undefined, rows);
      if (--open === 0) settle.resolve();
    } catch (error) {
      const failure = toDynamosError(error, 'JOB_FAILED');
      once(failure);
      settle.reject(failure);
    }
  }

  const server = new Server({ 'grpc.max_receive_message_length': maxMessageBytes });
  server.addService(SidecarService, { send: (call: Call, answer: sendUnaryData<StreamReceipt>) => void serve(call, answer) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:0`, serverCredentials(opts.tls), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  return {
    address: `${opts.host}:${port}`,
    completion,
    close: async (reason) => {
      const why = reason ?? new DynamosError('JOB_CANCELLED', 'the receiving job ended', { retryable: false });
      for (const fail of [...answering]) fail(why);
      await shutDown(server);
    },
  };
}

/** Lets answered calls finish sending their status; a peer that holds on is cut off. */
async function shutDown(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    const cutOff = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 250);
    server.tryShutdown(() => {
      clearTimeout(cutOff);
      resolve();
    });
  });
}

/**
 * The call's frames, one at a time. A call the peer cancels, or whose deadline passes, fails the
 * iteration with why instead of leaving it waiting.
 */
function framesOf(call: Call): AsyncGenerator<StreamFrame> {
  call.once('cancelled', () => {
    const deadline = call.getDeadline();
    const passed = deadline instanceof Date ? deadline.getTime() <= Date.now() : Number.isFinite(deadline) && deadline <= Date.now();
    call.destroy(passed
      ? new DynamosError('JOB_TIMEOUT', 'the stream\'s deadline passed', { retryable: false })
      : new DynamosError('JOB_CANCELLED', 'the sender cancelled the stream', { retryable: false }));
  });
  return (async function* () {
    for await (const frame of call) yield frame as StreamFrame;
  })();
}

async function consumeFrames(frames: AsyncGenerator<StreamFrame>, header: StreamHeader, onChunk: (chunk: DataChunk) => void | Promise<void>): Promise<StreamEnd> {
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
