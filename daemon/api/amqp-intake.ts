import type { Logger } from '../../knowledge/ports/logger.js';
import type { QueueVerdict, RequestQueue } from '../../knowledge/ports/request-queue.js';
import type { LoopMetrics } from '../loop/request-loop.js';
import type { Intake } from './request-intake.js';
import { answerRequest } from './request-intake.js';

/**
 * Requests over RabbitMQ with the same body and semantics as HTTP: the answer `{status, body}`
 * goes to the message's replyTo. The requester proves who they are with the message's
 * `authorization` header (`Bearer <token>`), checked as HTTP checks it: 401 and 403 are answers.
 * A message nobody can be answered for (no replyTo or correlation id) or that is not JSON is
 * poison: dead-lettered with the reason.
 */
export function startAmqpIntake(queue: RequestQueue, intake: Intake, deps: { logger: Logger; metrics?: LoopMetrics }): Promise<void> {
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
    const answer = await answerRequest(intake, text, { credentials: { authorization: message.credential } });
    if (answer.status >= 500) deps.metrics?.loopError('intake');
    return { kind: 'reply', status: answer.status, body: answer.body };
  });
}
