import { DynamosError } from '../../knowledge/errors.js';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import type { QueryInspector } from '../../knowledge/ports/query-inspector.js';
import type { RequestLoop } from '../loop/request-loop.js';
import type { Authenticator, Credentials } from './authenticator.js';
import { checkBodyUserName } from './authenticator.js';
import { errorResponse } from './error-status.js';
import { parseRequestBody } from './request-body.js';
import type { HttpReply } from './response.js';
import { replyTo } from './response.js';

export interface Intake {
  readonly knowledge: KnowledgeBase;
  readonly inspector: QueryInspector;
  readonly requests: RequestLoop;
  /** Who sent a request: the same check over HTTP and AMQP. */
  readonly authenticator: Authenticator;
}

/**
 * One requestApproval, whatever carried it (HTTP or AMQP): identify the requester (401 without a
 * valid credential), parse the body, refuse a `user.userName` that is not the requester (403),
 * check the body, run the request through the loop, and answer with a status and a body. Never
 * rejects: every failure is an answer.
 */
export async function answerRequest(intake: Intake, text: string, opts: { credentials?: Credentials; signal?: AbortSignal } = {}): Promise<HttpReply> {
  try {
    // Who asks comes first: an unauthenticated caller gets no parsing of its SQL.
    const requester = await intake.authenticator.requester(opts.credentials ?? {});
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new DynamosError('REQUEST_INVALID', `the body is not valid JSON: ${(cause as Error).message}`, { retryable: false });
    }
    if (requester !== undefined) checkBodyUserName(requester, body);
    const request = await parseRequestBody(body, intake.knowledge.current().marketplace, intake.inspector);
    const asked = requester === undefined ? request : { ...request, requester: requester.name };
    return replyTo(await intake.requests.handle(asked, opts.signal));
  } catch (error) {
    const { status, body } = errorResponse(error);
    return { status, body: { ...body } };
  }
}
