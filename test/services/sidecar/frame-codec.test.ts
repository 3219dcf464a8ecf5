import assert from 'node:assert/strict';
import { DynamosError } from '../../../knowledge/errors.js';
import { StreamFrame } from '../../../proto/generated/dynamos/v1/microservice.js';
import { encodeFrame, maxFrameBytes, readFrames } from '../../../services/sidecar/frame-codec.js';

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function bytesOf(frame: StreamFrame): string {
  return Buffer.from(StreamFrame.encode(frame).finish()).toString('hex');
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<StreamFrame[]> {
  const frames: StreamFrame[] = [];
  for await (const frame of readFrames(source)) frames.push(frame);
  return frames;
}

const frames: StreamFrame[] = [
  { frame: { $case: 'chunk', value: { rowCount: 3, columns: [{ validity: new Uint8Array([5]), values: new Uint8Array(300).fill(7), offsets: new Uint8Array(0) }] } } },
  { frame: { $case: 'error', value: { code: 'QUERY_FAILED', message: 'x'.repeat(200) } } },
  { frame: { $case: 'end', value: { rowCount: 3, artifacts: [] } } },
];
const wire = Buffer.concat(frames.flatMap((f) => encodeFrame(f)));

describe('frame codec (length-delimited protobuf frames)', () => {
  for (const size of [1, 2, 7, 64, wire.length]) {
    it(`reads the same frames whatever the socket splits them into (${size}-byte pieces)`, async () => {
      // Compared as bytes: decoded byte fields are Buffer views, the originals Uint8Arrays.
      const decoded = await collect(pieces(wire, size));
      assert.deepEqual(decoded.map(bytesOf), frames.map(bytesOf));
    });
  }

  it('refuses a stream that ends inside a frame', async () => {
    await assert.rejects(collect(pieces(wire.subarray(0, wire.length - 1), 16)), (e: unknown) => e instanceof DynamosError && e.code === 'STREAM_INVALID');
  });

  it('refuses a frame length past the limit before allocating it', async () => {
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert.ok(0xffffffff > maxFrameBytes);
    await assert.rejects(collect(pieces(huge, 5)), /exceeds the/);
  });

  it('refuses bytes that are not a protobuf frame', async () => {
    const garbage = Buffer.from([4, 0xff, 0xff, 0xff, 0xff]);
    await assert.rejects(collect(pieces(garbage, 5)), (e: unknown) => e instanceof DynamosError && /undecodable frame/.test(e.message));
  });
});
