import { Metadata } from '@grpc/grpc-js';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { describeIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError, toDynamosError } from '../../knowledge/errors.js';
import type { DataChunk, StreamEnd, StreamFrame, StreamHeader } from '../../proto/generated/dynamos/v1/microservice.js';
import { SidecarClient } from '../../proto/generated/dynamos/v1/microservice.js';
import type { DataPlaneTls } from './data-plane-tls.js';
import { clientCredentials } from './data-plane-tls.js';
import { errorOfStatus } from './grpc-status.js';

/**
 * What one fetch may have in flight: HTTP/2's receive window. The sender stops when it is full,
 * so a slow consumer holds at most this much besides the message it handles; wide enough that a
 * sender does not wait for every window update.
 */
export const receiveWindowBytes = 4 * 1024 * 1024;
/**
 * The largest message a consumer takes: a chunk is about 1 MiB, plus at most one DuckDB vector of
 * wide rows. grpc-js buffers a message whole before it checks the limit, so the limit bounds memory.
 */
export const maxMessageBytes = 64 * 1024 * 1024;

/** A producer's sidecar: its address and the party whose certificate must answer there. */
export interface StreamSource {
  readonly address: string;
  readonly party: string;
}

/** Who fetches: its credentials, the request, and the request's deadline (epoch ms). */
export interface Fetcher {
  readonly tls: DataPlaneTls;
  readonly requestId: string;
  readonly deadlineAt?: number;
  /**
   * Wait for a producer that does not listen yet (a pod still starting) instead of failing at
   * once, until the deadline; it is dialled again every 100 ms to 1 s.
   */
  readonly waitForReady?: boolean;
  /** Cancels the fetch: a fetch still waiting for its producer would otherwise wait until the deadline. */
  readonly signal?: AbortSignal;
}

export interface IncomingStream {
  readonly header: StreamHeader;
  /**
   * Hands every data chunk to `onChunk`, the next only after the previous was handled (so a slow
   * receiver slows the sender through HTTP/2 flow control), and resolves with the end frame.
   */
  consume(onChunk: (chunk: DataChunk) => void | Promise<void>): Promise<StreamEnd>;
}

/**
 * Fetches `count` data sets from `source` over mutual TLS and hands each to `handle` in turn.
 * Rejects with the producer's own failure (its code and message) when it ended the call with one,
 * and cancels the call when `handle` fails, so the producer stops at once.
 */
export async function fetchStreams(source: StreamSource, me: Fetcher, count: number, handle: (stream: IncomingStream) => Promise<void>): Promise<void> {
  const client = new SidecarClient(source.address, clientCredentials(me.tls, { kind: 'party', party: source.party }), {
    // The certificate's identity is checked, not a host name; a name stands in for the IP
    // address, which TLS may not carry as a server name (RFC 6066).
    'grpc.ssl_target_name_override': 'sidecar.dynamos',
    'grpc-node.flow_control_window': receiveWindowBytes,
    'grpc.max_receive_message_length': maxMessageBytes,
    // Its own connection, closed with the client: in the shared pool the connection would outlive
    // the fetch, and the producer's sidecar would wait for it to go before its job can end.
    'grpc.use_local_subchannel_pool': 1,
    ...(me.waitForReady === true ? { 'grpc.initial_reconnect_backoff_ms': 25, 'grpc.max_reconnect_backoff_ms': 250 } : {}),
  });
  // grpc-js takes waitForReady as an option of the call's metadata, not of the call.
  const metadata = new Metadata(me.waitForReady === true ? { waitForReady: true } : {});
  const call = client.fetch({ requestId: me.requestId }, metadata, me.deadlineAt === undefined ? {} : { deadline: new Date(me.deadlineAt) });
  const frames = framesOf(call, source.party);
  const cancel = () => call.cancel();
  me.signal?.addEventListener('abort', cancel, { once: true });
  if (me.signal?.aborted === true) cancel();
  try {
    for (let i = 0; i < count; i++) {
      const first = await frames.next();
      const header = first.done === true ? undefined : headerOf(first.value);
      if (header === undefined) throw invalid(source, first.done === true ? `ended after ${i} of ${count} data sets` : 'sent data before a header');
      if (header.sourceParty !== source.party || header.request?.requestId !== me.requestId) throw invalid(source, 'sent a header of another party or request');
      await handle({ header, consume: (onChunk) => consumeChunks(frames, source, onChunk) });
    }
    const rest = await frames.next();
    if (rest.done !== true) throw invalid(source, `sent more than the ${count} data sets planned`);
  } catch (error) {
    call.cancel();
    throw toDynamosError(error, 'JOB_FAILED');
  } finally {
    me.signal?.removeEventListener('abort', cancel);
    client.close();
  }
}

/** The call's frames; a failed call throws the producer's cause. */
async function* framesOf(call: ClientReadableStream<StreamFrame>, party: string): AsyncGenerator<StreamFrame> {
  try {
    for await (const frame of call) yield frame as StreamFrame;
  } catch (error) {
    throw 'code' in (error as object) ? errorOfStatus(error as ServiceError, party) : error;
  }
}

async function consumeChunks(frames: AsyncGenerator<StreamFrame>, source: StreamSource, onChunk: (chunk: DataChunk) => void | Promise<void>): Promise<StreamEnd> {
  for (;;) {
    const next = await frames.next();
    if (next.done === true) throw invalid(source, 'ended a data set without its end frame');
    const { frame } = next.value;
    if (frame?.$case === 'chunk') await onChunk(frame.value);
    else if (frame?.$case === 'end') return frame.value;
    else throw invalid(source, `sent an unexpected ${frame?.$case ?? 'empty'} frame`);
  }
}

function headerOf(frame: StreamFrame): StreamHeader | undefined {
  return frame.frame?.$case === 'header' ? frame.frame.value : undefined;
}

function invalid(source: StreamSource, what: string): DynamosError {
  return new DynamosError('STREAM_INVALID', `${describeIdentity({ kind: 'party', party: source.party })} ${what}`, { retryable: false, details: { party: source.party } });
}
