import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { DynamosError } from '../../knowledge/errors.js';
import { StreamFrame } from '../../proto/generated/dynamos/v1/microservice.js';

/** Frames larger than this are refused: a corrupt length must not allocate gigabytes. */
export const maxFrameBytes = 256 * 1024 * 1024;

/** A frame on the wire: its byte length as a protobuf varint, then the StreamFrame. */
export function encodeFrame(frame: StreamFrame): [Uint8Array, Uint8Array] {
  const body = StreamFrame.encode(frame).finish();
  return [new BinaryWriter().uint32(body.length).finish(), body];
}

/** Writes frames to a socket, waiting for it to drain so memory stays bounded. */
export class FrameWriter {
  constructor(private readonly sink: Writable) {}

  async write(frame: StreamFrame): Promise<void> {
    const [prefix, body] = encodeFrame(frame);
    this.sink.write(prefix);
    if (this.sink.destroyed) throw new Error('connection closed while streaming');
    if (!this.sink.write(body)) await Promise.race([once(this.sink, 'drain'), closed(this.sink)]);
  }

  /** Ends the stream once everything written was flushed; rejects if the connection broke. */
  async end(): Promise<void> {
    if (this.sink.destroyed) throw new Error('connection closed before the stream ended');
    const finished = Promise.race([once(this.sink, 'finish'), closed(this.sink)]);
    this.sink.end();
    await finished;
  }
}

/** Rejects when the connection closes before the awaited event. */
async function closed(sink: Writable): Promise<never> {
  await once(sink, 'close');
  throw new Error('connection closed while streaming');
}

/**
 * Splits a byte stream into frames. Pulling from `source` one buffer at a time means a slow
 * consumer pauses the socket instead of buffering without bound.
 */
export async function* readFrames(source: AsyncIterable<Uint8Array>, opts: { readonly firstFrameMaxBytes?: number } = {}): AsyncGenerator<StreamFrame> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let limit = opts.firstFrameMaxBytes ?? maxFrameBytes;
  for await (const piece of source) {
    pending.push(piece);
    pendingBytes += piece.length;
    for (;;) {
      const head = peekLength(pending, pendingBytes, limit);
      if (head === undefined || pendingBytes < head.prefix + head.length) break;
      const all = pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending, pendingBytes);
      const end = head.prefix + head.length;
      limit = maxFrameBytes;
      yield decode(all.subarray(head.prefix, end));
      const rest = all.subarray(end);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
    }
  }
  if (pendingBytes > 0) throw new DynamosError('STREAM_INVALID', `stream ended inside a frame (${pendingBytes} bytes left)`, { retryable: true });
}

function decode(bytes: Uint8Array): StreamFrame {
  try {
    return StreamFrame.decode(bytes);
  } catch (cause) {
    throw new DynamosError('STREAM_INVALID', `undecodable frame: ${(cause as Error).message}`, { retryable: false, cause });
  }
}

/** The varint length at the start of the pending bytes, once all of it has arrived. */
function peekLength(pending: readonly Uint8Array[], total: number, limit: number): { prefix: number; length: number } | undefined {
  let length = 0;
  let shift = 0;
  let read = 0;
  for (const piece of pending) {
    for (const byte of piece) {
      length += (byte & 0x7f) * 2 ** shift;
      read++;
      if ((byte & 0x80) === 0) {
        if (length > limit) {
          throw new DynamosError('STREAM_INVALID', `frame of ${length} bytes exceeds the ${limit}-byte limit`, { retryable: false });
        }
        return { prefix: read, length };
      }
      shift += 7;
      if (read >= 5) throw new DynamosError('STREAM_INVALID', 'frame length is not a valid varint', { retryable: false });
      if (read >= total) return undefined;
    }
  }
  return undefined;
}
