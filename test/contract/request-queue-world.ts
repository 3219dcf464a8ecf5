import type { QueuedRequest, QueueVerdict, RequestQueue } from '../../knowledge/ports/request-queue.js';

/** A queue as the contract observes it: the port plus how many deliveries it is settling. */
export interface ObservedRequestQueue extends RequestQueue {
  /** Deliveries being handled or waiting for their answer's confirm. */
  readonly unsettled: number;
}

export interface RequestProperties {
  readonly messageId?: string;
  readonly correlationId?: string;
  readonly replyTo?: string;
  /** Sent as the message's `authorization` header: the requester's credential. */
  readonly authorization?: string;
}

export interface ReceivedReply {
  readonly correlationId: string | undefined;
  readonly status: number;
  readonly body: unknown;
}

export interface ReceivedDeadLetter {
  readonly body: string;
  readonly messageId: string | undefined;
  readonly correlationId: string | undefined;
  /** The `x-dynamos-reason` header. */
  readonly reason: string | undefined;
  /** The `authorization` header, only when the dead letter still carries one. */
  readonly authorization?: string;
}

/** A broker with one request queue, a requester's view of it, and the queues under test. */
export interface RequestQueueWorld {
  /** A new queue consuming the world's request queue (closed by `close()`). */
  queue(options?: { readonly prefetch?: number; readonly maxRetries?: number }): ObservedRequestQueue;
  /** A requester publishes a persistent request; resolves once the broker has it. */
  publishRequest(body: string, properties: RequestProperties): Promise<void>;
  /** A new reply queue, durable, that the world listens on. */
  replyQueue(): Promise<string>;
  /** Answers received on `replyTo` so far, oldest first. */
  replies(replyTo: string): readonly ReceivedReply[];
  deadLetters(): readonly ReceivedDeadLetter[];
  /** Requests waiting in the request queue (not delivered to a consumer, or requeued). */
  waitingRequests(): Promise<number>;
  /** Requests put back by a `retryLater` verdict, waiting in the delay queue for their delay to pass. */
  delayedRequests(): Promise<number>;
  /**
   * Lets `ms` pass on the broker's clock, so what waits in the delay queue that long comes back.
   * The fake's clock is simulated and moves now; a real broker's clock moves by itself.
   */
  letTimePass(ms: number): Promise<void>;
  /**
   * The broker restarts: every connection drops (unacknowledged requests are requeued). `whileDown`
   * runs while it is down. Resolves once the broker is back (consumers may still be reconnecting).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Closes every queue and removes what the world created. */
  close(): Promise<void>;
  /** What the world's queues did, for the load test's printout (e.g. reconnects). */
  summary?(): string;
}

/** Polls `condition` until it holds; fails after `timeoutMs`, naming what it waited for. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The queue has nothing left to do: no delivery unsettled and nothing waiting in the broker (twice in a row). */
export async function waitUntilSettled(world: RequestQueueWorld, queue: ObservedRequestQueue, timeoutMs = 20_000): Promise<void> {
  const idle = async () => queue.unsettled === 0 && (await world.waitingRequests()) === 0;
  await waitFor('the queue to settle every request', async () => (await idle()) && (await idle()), timeoutMs);
}

/** A handler that answers `{ echo: body }` with status 200 and counts runs per message id; `hold` ids wait for `release()`. */
export function echoHandler(hold: (request: QueuedRequest) => boolean = () => false) {
  const runs = new Map<string, number>();
  const finished = new Set<string>();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const handle = async (request: QueuedRequest): Promise<QueueVerdict> => {
    runs.set(request.messageId, (runs.get(request.messageId) ?? 0) + 1);
    if (hold(request)) await released;
    finished.add(request.messageId);
    return { kind: 'reply', status: 200, body: { echo: new TextDecoder().decode(request.body) } };
  };
  const totalRuns = () => [...runs.values()].reduce((a, b) => a + b, 0);
  return { handle, runs, finished, release, totalRuns };
}
