import { DynamosError } from '../../knowledge/errors.js';
import type { QueueVerdict } from '../../knowledge/ports/request-queue.js';
import type { ResolvedRabbitMqConfig } from './config.js';
import { retriesHeader, withoutCredential } from './held-request.js';
import type { HeldRequest } from './held-request.js';
import type { RabbitMqSession } from './rabbitmq-session.js';

/**
 * Where a verdict goes, published on `session` and confirmed by the broker: a reply to the
 * request's `replyTo`; poison to the dead-letter exchange, without the credential; a retry to the
 * delay queue, as a persistent copy of the request that expires after the delay and is then
 * dead-lettered back to the request queue by the broker (a RabbitMQ feature, no plugin needed).
 * The copy keeps the credential, so it can be checked again when the request returns.
 * @throws DynamosError ADAPTER_UNAVAILABLE or ADAPTER_TIMEOUT when the broker did not confirm.
 */
export async function publishVerdict(session: RabbitMqSession, config: ResolvedRabbitMqConfig, held: HeldRequest, verdict: QueueVerdict): Promise<void> {
  const { request } = held;
  const timeoutMs = config.publishConfirmTimeoutMs;
  switch (verdict.kind) {
    case 'reply': {
      const content = Buffer.from(JSON.stringify({ status: verdict.status, body: verdict.body }));
      return session.publishConfirmed('', request.replyTo ?? '', content, {
        correlationId: request.correlationId, messageId: request.messageId, contentType: 'application/json', persistent: true, mandatory: true,
      }, timeoutMs);
    }
    case 'poison':
      return session.publishConfirmed(config.deadLetterExchange, config.queue, Buffer.from(request.body), {
        headers: { ...withoutCredential(held.headers), 'x-dynamos-reason': verdict.reason },
        messageId: request.messageId, correlationId: request.correlationId, replyTo: request.replyTo, contentType: held.contentType, persistent: true,
      }, timeoutMs);
    case 'retryLater':
      return session.publishConfirmed('', config.delayQueue, Buffer.from(request.body), {
        headers: { ...withoutDeathHeaders(held.headers), [retriesHeader]: request.retries + 1 },
        messageId: request.messageId, correlationId: request.correlationId, replyTo: request.replyTo, contentType: held.contentType, persistent: true,
        expiration: String(verdict.afterMs),
      }, timeoutMs);
    default: {
      const _exhaustive: never = verdict;
      throw new DynamosError('INTERNAL', `unknown verdict ${JSON.stringify(_exhaustive)}`, { retryable: false });
    }
  }
}

/**
 * The verdict the queue carries out for a request put back `retries` times already: a retry
 * beyond `maxRetries` becomes the answer the handler gave for that case.
 * @throws DynamosError INTERNAL when a verdict cannot be carried out (an answer that is not JSON,
 *   a delay that is not a whole number of milliseconds ≥ 0): the handler failed.
 */
export function verdictWithinRetries(verdict: QueueVerdict, retries: number, maxRetries: number): QueueVerdict {
  if (verdict.kind === 'poison') return verdict;
  // An answer that cannot be encoded would never publish.
  JSON.stringify({ status: verdict.status, body: verdict.body });
  if (verdict.kind === 'reply') return verdict;
  if (!Number.isSafeInteger(verdict.afterMs) || verdict.afterMs < 0) {
    throw new DynamosError('INTERNAL', `retryLater needs a whole number of milliseconds ≥ 0, not ${verdict.afterMs}`, { retryable: false });
  }
  return retries < maxRetries ? verdict : { kind: 'reply', status: verdict.status, body: verdict.body };
}

/**
 * Headers without the broker's record of earlier dead-lettering (`x-death`, `x-first-death-*`,
 * `x-last-death-*`): the copy is a new message, and the retry count lives in our own header.
 */
function withoutDeathHeaders(headers: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !/^x-(death$|first-death-|last-death-)/i.test(k)));
}
