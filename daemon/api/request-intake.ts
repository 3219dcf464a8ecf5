import { DynamosError } from '../../knowledge/errors.js';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import type { QueryInspector } from '../../knowledge/ports/query-inspector.js';
import type { RequestLoop } from '../loop/request-loop.js';
import { errorResponse } from './error-status.js';
import { parseRequestBody } from './request-body.js';
import type { HttpReply } from './response.js';
import { replyTo } from './response.js';

export interface Intake {
  readonly knowledge: KnowledgeBase;
  readonly inspector: QueryInspector;
  readonly requests: RequestLoop;
}

/**
 * One requestApproval, whatever carried it (HTTP or AMQP): parse and check the body, run the
 * request through the loop, and answer with a status and a body. Never rejects: every failure is
 * an answer.
 */
export async function answerRequest(intake: Intake, text: string, signal?: AbortSignal): Promise<HttpReply> {
  try {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new DynamosError('REQUEST_INVALID', `the body is not valid JSON: ${(cause as Error).message}`, { retryable: false });
    }
    const request = await parseRequestBody(body, intake.knowledge.current().marketplace, intake.inspector);
    return replyTo(await intake.requests.handle(request, signal));
  } catch (error) {
    const { status, body } = errorResponse(error);
    return { status, body: { ...body } };
  }
}
