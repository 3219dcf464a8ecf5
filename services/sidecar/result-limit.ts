import { DynamosError } from '../../knowledge/errors.js';
import type { ResultLimit } from '../../knowledge/ports/job-runner.js';

/**
 * Throws RESULT_TOO_LARGE once `so far` passes the request's result limit. Both ends check: the
 * job, so it stops reading as soon as it passes; the requester's sidecar, so a job that does not
 * stop cannot make the daemon hold more.
 */
export function checkResultLimit(limit: ResultLimit, soFar: { readonly rows: number; readonly bytes: number }): void {
  if (soFar.rows > limit.maxRows) throw tooLarge(`more than ${limit.maxRows} rows`, limit);
  if (soFar.bytes > limit.maxBytes) throw tooLarge(`more than ${limit.maxBytes} bytes`, limit);
}

function tooLarge(what: string, limit: ResultLimit): DynamosError {
  return new DynamosError('RESULT_TOO_LARGE', `the result has ${what}, past this daemon's limit of ${limit.maxRows} rows and ${limit.maxBytes} bytes per request; aggregate, filter or add LIMIT`, {
    retryable: false,
    details: { limit: { maxRows: limit.maxRows, maxBytes: limit.maxBytes } },
  });
}
