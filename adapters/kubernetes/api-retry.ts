import { ApiException } from '@kubernetes/client-node';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';

export interface RetryOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Epoch ms (on `clock`) after which no attempt is made: the request's deadline. */
  readonly until: number;
  /** Stops waiting and trying when it aborts. */
  readonly signal?: AbortSignal;
}

const firstBackoffMs = 100;
/** An API server that takes longer than this to answer one call is taken for one that will not. */
export const attemptTimeoutMs = 10_000;
const maxBackoffMs = 5_000;

/** The HTTP status of an API call's failure, or undefined when the call never got an answer. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The `reason` of the API server's Status object for a failed call, e.g. `AlreadyExists`. */
export function reasonOf(error: unknown): string | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = typeof error.body === 'string' ? safeParse(error.body) : error.body;
  return typeof body === 'object' && body !== null && typeof (body as { reason?: unknown }).reason === 'string' ? (body as { reason: string }).reason : undefined;
}

/**
 * Calls the API server, trying again where Kubernetes says it may work later: a 429 after its
 * `Retry-After` (https://kubernetes.io/docs/concepts/cluster-administration/flow-control/), a 5xx
 * or a lost connection with exponential backoff. Other answers (404, 409, 422, 403) are final.
 * An attempt without an answer in 10 s (or by `until`) counts as a lost connection. Gives up with
 * ADAPTER_UNAVAILABLE once the next attempt would fall after `until`.
 */
export async function withRetries<T>(what: string, call: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let backoffMs = firstBackoffMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await withinTime(call(), Math.max(1, Math.min(attemptTimeoutMs, opts.until - opts.clock.now())), opts.clock);
    } catch (error) {
      const status = statusOf(error);
      const retryable = status === undefined || status === 429 || status >= 500;
      if (!retryable || opts.signal?.aborted === true) throw error;
      const waitMs = status === 429 ? retryAfterMsOf(error) ?? backoffMs : backoffMs;
      if (opts.clock.now() + waitMs > opts.until) {
        throw new DynamosError('ADAPTER_UNAVAILABLE', `the Kubernetes API kept failing to ${what} (${describe(error)}, ${attempt} attempts)`, { retryable: true, cause: error });
      }
      opts.logger.debug('retrying a Kubernetes API call', { what, attempt, status: status ?? 'no answer', waitMs });
      await delay(waitMs, opts);
      backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    }
  }
}

class NoAnswer extends Error {}

/** The call's answer, or a NoAnswer once `ms` passed without one (the call itself runs on). */
function withinTime<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new NoAnswer(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function retryAfterMsOf(error: unknown): number | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const header = Object.entries(error.headers ?? {}).find(([key]) => key.toLowerCase() === 'retry-after')?.[1];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function delay(ms: number, { clock, signal }: RetryOptions): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function describe(error: unknown): string {
  const status = statusOf(error);
  if (status === undefined) return error instanceof Error ? error.message : String(error);
  return `HTTP ${status}${reasonOf(error) === undefined ? '' : ` ${reasonOf(error)}`}`;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
