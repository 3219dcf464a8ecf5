import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { QueueVerdict, RequestQueue } from '../../knowledge/ports/request-queue.js';
import type { LoopMetrics } from '../loop/request-loop.js';
import type { Intake } from './request-intake.js';
import { answerRequest } from './request-intake.js';
import type { HttpReply } from './response.js';

/**
 * Requests over RabbitMQ with the same body and semantics as HTTP: the answer `{status, body}`
 * goes to the message's replyTo. The requester proves who they are with the message's
 * `authorization` header (`Bearer <token>`), checked as HTTP checks it: 401 and 403 are answers.
 * A message nobody can be answered for (no replyTo or correlation id) or that is not JSON is
 * poison: dead-lettered with the reason. A request refused as OVERLOADED is not answered at once
 * but put back to be tried again later (see {@link verdictOfAnswer}).
 */
export function startAmqpIntake(queue: RequestQueue, intake: Intake, deps: { logger: Logger; clock: Clock; metrics?: LoopMetrics; confirmWithinMs?: number }): Promise<void> {
  return queue.start(async (message): Promise<QueueVerdict> => {
    deps.metrics?.iteration('intake');
    if (message.replyTo === undefined || message.correlationId === undefined) {
      return { kind: 'poison', reason: 'no replyTo or correlationId: there is nobody to answer' };
    }
    const text = Buffer.from(message.body).toString('utf8');
    try {
      JSON.parse(text);
    } catch (error) {
      return { kind: 'poison', reason: `the body is not JSON: ${(error as Error).message}` };
    }
    // The request's final record waits for the broker's confirm of its answer (or the bound). Made
    // only for a request that got as far as the loop with a reply: nobody else awaits it, and an
    // unawaited rejection would end the daemon.
    let confirmation: { promise: Promise<void>; confirm: () => void } | undefined;
    const sent = (reply: HttpReply) => {
      if (verdictOfAnswer(reply).kind !== 'reply') return Promise.resolve();
      confirmation = boundedConfirmation(deps.clock, deps.confirmWithinMs ?? defaultConfirmWithinMs);
      return confirmation.promise;
    };
    const answer = await answerRequest(intake, text, { credentials: { authorization: message.credential }, sent });
    const verdict = verdictOfAnswer(answer);
    if (verdict.kind !== 'reply') return verdict;
    if (answer.status >= 500) deps.metrics?.loopError('intake');
    return { ...verdict, confirmed: () => confirmation?.confirm() };
  });
}

/** How long a request's record waits for the broker to confirm its answer. */
const defaultConfirmWithinMs = 60_000;

/** A promise settled by `confirm`, or rejected saying so once `withinMs` passed on `clock`. */
function boundedConfirmation(clock: Clock, withinMs: number): { promise: Promise<void>; confirm: () => void } {
  let confirm!: () => void;
  const promise = new Promise<void>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`the broker had not confirmed the answer within ${withinMs} ms (it is published again after a reconnect)`)), withinMs);
    confirm = () => {
      clock.clearTimeout(timer);
      resolve();
    };
  });
  return { promise, confirm };
}

/** The shortest and longest wait before an overloaded request is tried again over AMQP. */
export const retryDelayBoundsMs = { min: 1_000, max: 60_000 } as const;

/**
 * The verdict for an answer: a 503 OVERLOADED becomes `retryLater` after the answer's
 * `details.retryAfterSeconds` (what HTTP sends as `Retry-After`), kept within
 * {@link retryDelayBoundsMs}, so a request over AMQP waits in the broker instead of making its
 * requester retry; the queue answers the 503 once its retries are used up. Every other answer is
 * a reply.
 */
export function verdictOfAnswer(answer: { readonly status: number; readonly body: unknown }): QueueVerdict {
  const body = answer.body as { code?: unknown; details?: { retryAfterSeconds?: unknown } } | undefined;
  if (answer.status !== 503 || body?.code !== 'OVERLOADED') return { kind: 'reply', status: answer.status, body: answer.body };
  const seconds = Number(body.details?.retryAfterSeconds);
  const afterMs = Number.isFinite(seconds) ? Math.round(seconds * 1000) : retryDelayBoundsMs.min;
  return { kind: 'retryLater', afterMs: Math.min(retryDelayBoundsMs.max, Math.max(retryDelayBoundsMs.min, afterMs)), status: answer.status, body: answer.body };
}
