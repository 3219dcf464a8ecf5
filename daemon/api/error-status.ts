import type { ErrorCode } from '../../knowledge/errors.js';
import { DynamosError } from '../../knowledge/errors.js';

/** The one table from error code to HTTP status (docs/conventions.md). */
export const httpStatusByCode: Readonly<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 500,
  REQUEST_INVALID: 400,
  REQUEST_TOO_LARGE: 413,
  QUERY_REJECTED: 400,
  QUERY_FAILED: 422,
  DATA_UNAVAILABLE: 503,
  ALGORITHM_INPUT_INVALID: 422,
  JOB_FAILED: 502,
  JOB_TIMEOUT: 504,
  JOB_CANCELLED: 409,
  STREAM_INVALID: 502,
  NOT_FOUND: 404,
  INTERNAL: 500,
  ADAPTER_TIMEOUT: 504,
  ADAPTER_UNAVAILABLE: 503,
  AGREEMENT_REVOKED: 409,
  FORBIDDEN: 403,
  UNAUTHENTICATED: 401,
  RESULT_TOO_LARGE: 422,
  OVERLOADED: 503,
  JOB_OUT_OF_MEMORY: 422,
};

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  const e =
    error instanceof DynamosError ? error : new DynamosError('INTERNAL', 'internal error', { retryable: false, cause: error });
  return {
    status: httpStatusByCode[e.code],
    body: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) },
  };
}
