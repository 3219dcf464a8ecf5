import { once } from 'node:events';
import type { ClientWritableStream } from '@grpc/grpc-js';
import { describeIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { StreamFrame, StreamReceipt } from '../../proto/generated/dynamos/v1/microservice.js';
import { SidecarClient } from '../../proto/generated/dynamos/v1/microservice.js';
import { clientCredentials } from './data-plane-tls.js';
import { errorOfStatus } from './grpc-status.js';
import type { StreamOrigin, StreamTarget } from './send-stream.js';

/** Where a sender writes its frames; each write waits while the receiver is behind. */
export interface FrameSink {
  write(frame: StreamFrame): Promise<void>;
}

/**
 * One `Send` call to `target`'s sidecar over mutual TLS: `send` writes the frames, then the call
 * ends and the receiver's answer is awaited. When the receiver ends the call first, the write in
 * progress rejects with the receiver's cause. When `send` itself fails, the receiver is told why
 * in the same call, so it fails with the real cause instead of a broken stream.
 */
export async function withStream<T>(target: StreamTarget, origin: StreamOrigin, send: (sink: FrameSink) => Promise<T>): Promise<T> {
  const peer = describeIdentity(target.identity);
  const client = new SidecarClient(target.address, clientCredentials(origin.tls, target.identity));
  let call!: ClientWritableStream<StreamFrame>;
  const answered = new Promise<StreamReceipt>((resolve, reject) => {
    const options = origin.deadlineAt === undefined ? {} : { deadline: new Date(origin.deadlineAt) };
    call = client.send(options, (error, receipt) => (error === null ? resolve(receipt) : reject(errorOfStatus(error, peer))));
  });
  answered.catch(() => undefined);
  const endedEarly = answered.then(() => {
    throw new DynamosError('STREAM_INVALID', `${peer} answered before the stream ended`, { retryable: false });
  });
  endedEarly.catch(() => undefined);
  const sink: FrameSink = {
    write: async (frame) => {
      if (!call.write(frame)) await Promise.race([once(call, 'drain'), endedEarly]);
    },
  };
  try {
    const out = await Promise.race([send(sink), endedEarly]);
    call.end();
    await answered;
    return out;
  } catch (error) {
    const failure = error instanceof DynamosError ? error : new DynamosError('JOB_FAILED', `stream to ${peer} failed: ${(error as Error).message}`, { retryable: true, cause: error });
    if (!(await settled(answered))) {
      call.write({ frame: { $case: 'error', value: { code: failure.code, message: failure.message } } });
      call.end();
      await Promise.race([answered, endedEarly]).catch(() => undefined);
    }
    throw failure;
  } finally {
    client.close();
  }
}

async function settled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  const first = await Promise.race([promise.then(() => true, () => true), Promise.resolve(pending)]);
  return first !== pending;
}
