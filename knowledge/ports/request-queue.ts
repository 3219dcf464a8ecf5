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
}

/** What to do with a message once handled. */
export type QueueVerdict =
  /** Publish `{ status, body }` to `replyTo` with the correlation id, wait for the broker's confirm, then ack. */
  | { readonly kind: 'reply'; readonly status: number; readonly body: unknown }
  /** Nothing can answer it (no replyTo, not JSON, …): dead-letter it with the reason, no requeue. */
  | { readonly kind: 'poison'; readonly reason: string };

export interface RequestQueue {
  readonly name: string;
  /**
   * Consumes until closed, reconnecting after the broker restarts. Each message is handed to
   * `handle` once per message id, even when the broker redelivers it; it is acknowledged only
   * after its answer was confirmed by the broker.
   */
  start(handle: (request: QueuedRequest) => Promise<QueueVerdict>): Promise<void>;
  /** Stops consuming, waits for the answers under way, disconnects. Idempotent. */
  close(): Promise<void>;
}
