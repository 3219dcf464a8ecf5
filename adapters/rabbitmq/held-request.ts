import { createHash } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import type { QueuedRequest } from '../../knowledge/ports/request-queue.js';

/** A request as the queue keeps it until answered: what the handler sees, plus what dead-lettering copies. */
export interface HeldRequest {
  readonly request: QueuedRequest;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, unknown>>;
}

/**
 * The request in a delivery. Its id is the AMQP `messageId`; without one, a sha256 over the
 * correlation id, reply queue and body, all of which a redelivery keeps: the same bytes asked
 * twice under two correlation ids are two requests and get two answers.
 */
export function heldRequestOf(message: ConsumeMessage): HeldRequest {
  const props = message.properties;
  const correlationId = nonEmptyString(props.correlationId);
  const replyTo = nonEmptyString(props.replyTo);
  const body = new Uint8Array(message.content.buffer, message.content.byteOffset, message.content.byteLength);
  const headers = (props.headers ?? {}) as Record<string, unknown>;
  const credential = credentialOf(headers);
  return {
    request: {
      body, messageId: nonEmptyString(props.messageId) ?? contentMessageId(body, correlationId, replyTo), correlationId, replyTo, retries: retriesOf(headers),
      ...(credential === undefined ? {} : { credential }),
    },
    contentType: nonEmptyString(props.contentType),
    headers,
  };
}

/** The header that carries the requester's credential, as HTTP's `Authorization` does. */
export const credentialHeader = 'authorization';

/** The requester's credential: the `authorization` header (any case), as a string. */
export function credentialOf(headers: Readonly<Record<string, unknown>>): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === credentialHeader);
  const value = key === undefined ? undefined : headers[key];
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return nonEmptyString(value);
}

/** Headers without the credential: a dead-lettered message must not hand its token to whoever reads that queue. */
export function withoutCredential(headers: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== credentialHeader));
}

/** The header that counts how often a request was put back in the delay queue (see verdict-publisher.ts). */
export const retriesHeader = 'x-dynamos-retries';

/**
 * How often a request was put back: its `x-dynamos-retries` header as a whole number, else 0. A
 * requester may set the header itself, but only to its own loss: any value it could send gives its
 * request no more retries than one without the header.
 */
export function retriesOf(headers: Readonly<Record<string, unknown>>): number {
  const value = headers[retriesHeader];
  const count = typeof value === 'number' ? value : typeof value === 'string' || Buffer.isBuffer(value) ? Number(value.toString()) : Number.NaN;
  return Number.isSafeInteger(count) && count > 0 ? count : 0;
}

/** The id of a message that came without `messageId`: `sha256:<hex>`. */
export function contentMessageId(body: Uint8Array, correlationId: string | undefined, replyTo: string | undefined): string {
  const hash = createHash('sha256');
  for (const part of [correlationId ?? '', replyTo ?? '']) hash.update(`${Buffer.byteLength(part)}:${part}\n`);
  hash.update(body);
  return `sha256:${hash.digest('hex')}`;
}

/** Which property the answer needs is missing, if any. */
export function missingAnswerProperty(request: QueuedRequest): 'replyTo' | 'correlationId' | undefined {
  if (request.replyTo === undefined) return 'replyTo';
  if (request.correlationId === undefined) return 'correlationId';
  return undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
