import type { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import type { QueryInspector } from '../../knowledge/ports/query-inspector.js';
import type { RequestLoop } from '../loop/request-loop.js';
import type { Authenticator, Credentials } from './authenticator.js';
import { checkBodyUserName } from './authenticator.js';
import { errorResponse } from './error-status.js';
import { parseRequestBody } from './request-body.js';
import type { RequestLimits } from './request-limits.js';
import { defaultRequestLimits, parseBodyJson } from './request-limits.js';
import type { HttpReply } from './response.js';
import { replyTo } from './response.js';

export interface Intake {
  readonly knowledge: KnowledgeBase;
  readonly inspector: QueryInspector;
  readonly requests: RequestLoop;
  /** Who sent a request: the same check over HTTP and AMQP. */
  readonly authenticator: Authenticator;
  /** How deep and long a body may be (`limits.request` of the settings). @default defaultRequestLimits */
  readonly limits?: RequestLimits;
}

/** Watches an answer go out: resolves once it was sent whole, rejects saying why it was not. */
export type SentWatch = (reply: HttpReply) => Promise<void>;

/**
 * One requestApproval, whatever carried it (HTTP or AMQP): identify the requester (401 without a
 * valid credential), parse the body, refuse a `user.userName` that is not the requester (403),
 * check the body, run the request through the loop, and answer with a status and a body. Never
 * rejects: every failure is an answer.
 */
export async function answerRequest(intake: Intake, text: string, opts: { credentials?: Credentials; signal?: AbortSignal; sent?: SentWatch } = {}): Promise<HttpReply> {
  try {
    // Who asks comes first: an unauthenticated caller gets no parsing of its SQL.
    const requester = await intake.authenticator.requester(opts.credentials ?? {});
    const body = parseBodyJson(text, intake.limits ?? defaultRequestLimits);
    if (requester !== undefined) checkBodyUserName(requester, body);
    const request = await parseRequestBody(body, intake.knowledge.current().marketplace, intake.inspector, intake.limits);
    const asked = requester === undefined ? request : { ...request, requester: requester.name };
    const { sent } = opts;
    if (sent === undefined) return replyTo(await intake.requests.handle(asked, opts.signal));
    // The answer leaves before the request's final record is written: the record waits for `sent`.
    return await new Promise<HttpReply>((resolve, reject) => {
      intake.requests
        .handle(asked, opts.signal, (outcome) => {
          const reply = replyTo(outcome);
          const delivered = sent(reply);
          resolve(reply);
          return delivered;
        })
        .catch(reject);
    });
  } catch (error) {
    const { status, body } = errorResponse(error);
    return { status, body: { ...body } };
  }
}
