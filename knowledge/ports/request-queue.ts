/**
 * Requests arriving as messages (RabbitMQ): the same body and semantics as
 * `POST /api/v1/requestApproval`, with the answer published to the message's `replyTo`.
 */
export interface QueuedRequest {
  /** The message body: bytes as they arrived (the handler parses them). */
  readonly body: Uint8Array;
  /** Stable across redeliveries: a request is run and answered once per id. */
  readonly messageId: string;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  /**
   * What the requester sent to prove who they are (the message's `authorization` header, e.g.
   * `Bearer <token>`); checked by the intake exactly as over HTTP.
   */
  readonly credential?: string | undefined;
  /** How often this request was put back by a `retryLater` verdict: 0 when it first arrives. */
  readonly retries: number;
}

/** What to do with a message once handled. */
export type QueueVerdict =
  /**
   * Publish `{ status, body }` to `replyTo` with the correlation id, wait for the broker's confirm,
   * then ack. `confirmed` is called once the broker confirmed it: the answer was delivered.
   */
  | { readonly kind: 'reply'; readonly status: number; readonly body: unknown; readonly confirmed?: () => void }
  /** Nothing can answer it (no replyTo, not JSON, …): dead-letter it with the reason, no requeue. */
  | { readonly kind: 'poison'; readonly reason: string }
  /**
   * Not now (the daemon is overloaded): put the request back and hand it to the handler again after
   * `afterMs`, with `retries` one higher. This is not an answer: the requester hears nothing yet,
   * and the request keeps its message id, body and credential. When the request was put back as
   * often as the queue allows already (its `maxRetries`), the queue answers `{ status, body }`
   * instead, as for a `reply`.
   */
  | { readonly kind: 'retryLater'; readonly afterMs: number; readonly status: number; readonly body: unknown };

export interface RequestQueue {
  readonly name: string;
  /**
   * Consumes until closed, reconnecting after the broker restarts. Each message is handed to
   * `handle` once per message id, even when the broker redelivers it; it is acknowledged only
   * after its answer was confirmed by the broker. A `retryLater` request is acknowledged once it
   * is safely put back, and is handled again when it returns, as if it were new.
   */
  start(handle: (request: QueuedRequest) => Promise<QueueVerdict>): Promise<void>;
  /** Stops consuming, waits for the answers under way, disconnects. Idempotent. */
  close(): Promise<void>;
}
