import { once } from 'node:events';
import { Server } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { describeIdentity, sameIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { FetchRequest, StreamFrame } from '../../proto/generated/dynamos/v1/microservice.js';
import { SidecarService } from '../../proto/generated/dynamos/v1/microservice.js';
import type { DataPlaneTls } from './data-plane-tls.js';
import { callerOf, serverCredentials } from './data-plane-tls.js';
import { statusOfError } from './grpc-status.js';

/** Where a producer writes its frames; a write resolves once gRPC took the frame, so one is in flight. */
export interface FrameSink {
  write(frame: StreamFrame): Promise<void>;
}

export interface OutputOptions {
  /** The address to listen on: loopback, or the party's site address. */
  readonly host: string;
  readonly tls: DataPlaneTls;
  /** A fetch for another request is refused. */
  readonly requestId: string;
  /** Who may fetch: the party the plan sends this job's output to, or the result collector. */
  readonly consumer: DataPlaneIdentity;
}

/** A job's outgoing sidecar: serves the job's data sets to its one consumer. */
export interface OutputServer {
  /** `host:port`, for the consumer. */
  readonly address: string;
  /**
   * Waits for the consumer's fetch, streams what `send` writes, and ends the call with OK. Rejects
   * when the consumer went away or the call's deadline passed; `send`'s own failure is rethrown
   * (tell the consumer with `fail`).
   */
  deliver<T>(send: (sink: FrameSink) => Promise<T>): Promise<T>;
  /** Ends the consumer's call with `error`'s status: now, or as soon as the consumer fetches. */
  fail(error: DynamosError): void;
  /** Stops listening; a consumer still being answered gets a moment to read its status. */
  close(): Promise<void>;
}

type Call = ServerWritableStream<FetchRequest, StreamFrame>;

/**
 * Listens for the consumer's `Fetch` over mutual TLS. A stranger without the marketplace's
 * certificate never completes the handshake; a party other than the plan's consumer, a fetch of
 * another request, or a second fetch is answered PERMISSION_DENIED and touches nothing.
 */
export async function serveOutput(opts: OutputOptions): Promise<OutputServer> {
  let arrive!: (call: Call) => void;
  const arrived = new Promise<Call>((resolve) => (arrive = resolve));
  let taken = false;
  let failure: DynamosError | undefined;

  const onFetch = (call: Call) => {
    const caller = callerOf(call);
    if (caller === undefined || !sameIdentity(caller, opts.consumer) || call.request.requestId !== opts.requestId || taken) {
      const who = caller === undefined ? 'a peer without a data-plane identity' : describeIdentity(caller);
      call.emit('error', statusOfError(new DynamosError('FORBIDDEN', `${who} may not fetch this job's data`, { retryable: false })));
      return;
    }
    taken = true;
    if (failure !== undefined) call.emit('error', statusOfError(failure));
    else arrive(call);
  };
  // The only message a producer receives is the small FetchRequest.
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 });
  server.addService(SidecarService, { fetch: onFetch });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:0`, serverCredentials(opts.tls), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  return {
    address: `${opts.host}:${port}`,
    deliver: async (send) => {
      const call = await arrived;
      const gone = goneOf(call, opts.consumer);
      const sink: FrameSink = {
        write: (frame) => Promise.race([new Promise<void>((resolve, reject) => call.write(frame, (error?: Error | null) => (error ? reject(error) : resolve()))), gone]),
      };
      const out = await Promise.race([send(sink), gone]);
      const finished = once(call, 'finish');
      call.end();
      await Promise.race([finished, gone]);
      return out;
    },
    fail: (error) => {
      failure ??= error;
      // Not yet fetched: `onFetch` answers with the failure when the consumer comes.
      void arrived.then((call) => {
        if (!call.writableEnded) call.emit('error', statusOfError(error));
      });
    },
    close: () => shutDown(server),
  };
}

/** Rejects when the consumer cancels the call or its deadline passes: nobody reads any more. */
function goneOf(call: Call, consumer: DataPlaneIdentity): Promise<never> {
  const gone = new Promise<never>((_, reject) => {
    call.once('cancelled', () => {
      const deadline = call.getDeadline();
      const at = deadline instanceof Date ? deadline.getTime() : deadline;
      reject(at <= Date.now()
        ? new DynamosError('JOB_TIMEOUT', 'the request\'s deadline passed while its data was sent', { retryable: false })
        : new DynamosError('JOB_CANCELLED', `${describeIdentity(consumer)} stopped fetching the data`, { retryable: false }));
    });
  });
  gone.catch(() => undefined);
  return gone;
}

/** Lets an answered call finish sending its status; a peer that holds on is cut off. */
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
