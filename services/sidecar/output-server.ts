import { once } from 'node:events';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { describeIdentity, sameIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { FetchRequest } from '../../proto/generated/dynamos/v1/microservice.js';
import { SidecarService, StreamFrame } from '../../proto/generated/dynamos/v1/microservice.js';
import type { DataPlaneTls } from './data-plane-tls.js';
import { callerOf, serverCredentials } from './data-plane-tls.js';
import { statusOfError } from './grpc-status.js';

/** Where a producer writes its frames; a write resolves once gRPC took all but the last few, so few are in flight. */
export interface FrameSink {
  write(frame: StreamFrame): Promise<void>;
}

export interface OutputOptions {
  /** The address to listen on: loopback, or the party's site address. */
  readonly host: string;
  /** The port to listen on: fixed in a pod (its container port), any free one when absent. */
  readonly port?: number;
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
 * The generated service, serialising a frame without the copy ts-proto's `Buffer.from` makes of
 * every encoded message (a chunk is a MiB).
 */
const sidecarService = {
  fetch: { ...SidecarService.fetch, responseSerialize: (frame: StreamFrame): Buffer => asBuffer(StreamFrame.encode(frame).finish()) },
} as const;

/** An IPv6 address (a pod's, say) in brackets, as a `host:port` must hold it. */
function hostPart(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Frames gRPC may hold for sending beyond the one being written: keeps a MiB or two in flight, not a queue. */
const framesInFlight = 2;

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
  server.addService(sidecarService, { fetch: onFetch });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${hostPart(opts.host)}:${opts.port ?? 0}`, serverCredentials(opts.tls), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  return {
    address: `${hostPart(opts.host)}:${port}`,
    deliver: async (send) => {
      const call = await arrived;
      const gone = goneOf(call, opts.consumer);
      const inFlight: Promise<void>[] = [];
      const sink: FrameSink = {
        write: async (frame) => {
          const taken = new Promise<void>((resolve, reject) => call.write(frame, (error?: Error | null) => (error ? reject(error) : resolve())));
          // Awaited below or at the end; a failure seen first elsewhere must not go unhandled.
          taken.catch(() => undefined);
          inFlight.push(taken);
          if (inFlight.length > framesInFlight) await Promise.race([inFlight.shift(), gone]);
        },
      };
      const out = await Promise.race([send(sink), gone]);
      await Promise.race([Promise.all(inFlight), gone]);
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

/**
 * How long a consumer may keep its connection after its call ended. Cutting it earlier can lose
 * the status still on its way (a consumer busy writing what it fetched reads it late), so the
 * job waits for the consumer to hang up; it has told its runner it is done by then, and the
 * runner ends it with the deployment.
 */
const closeGraceMs = 10_000;

/** Lets an answered call finish sending its status; a peer that holds on is cut off. */
async function shutDown(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    const cutOff = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, closeGraceMs);
    server.tryShutdown(() => {
      clearTimeout(cutOff);
      resolve();
    });
  });
}

/**
 * Runs gRPC's server set-up once while a job process waits for its job, so the job's own sidecar
 * starts in a few milliseconds instead of tens. The server has no service and is gone at once; it
 * carries no data, so it needs no credentials (the job's arrive with its job).
 */
export async function warmUpSidecar(): Promise<void> {
  const server = new Server();
  await new Promise<void>((resolve) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), () => resolve()));
  server.forceShutdown();
}
