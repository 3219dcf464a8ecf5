/**
 * Stable error codes: API surface. Add codes, never rename them (docs/conventions.md: errors carry a code).
 * Expected outcomes such as a policy denial are values, not errors; these codes are for what
 * went wrong.
 */
export const errorCodes = [
  'CONFIG_INVALID',
  'REQUEST_INVALID',
  'REQUEST_TOO_LARGE',
  'QUERY_REJECTED',
  'QUERY_FAILED',
  'DATA_UNAVAILABLE',
  'ALGORITHM_INPUT_INVALID',
  'JOB_FAILED',
  'JOB_TIMEOUT',
  'JOB_CANCELLED',
  'STREAM_INVALID',
  'NOT_FOUND',
  'INTERNAL',
  'ADAPTER_TIMEOUT',
  'ADAPTER_UNAVAILABLE',
  'AGREEMENT_REVOKED',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  /** The answer would pass the request's result limit (rows or bytes); `details.limit` says which. */
  'RESULT_TOO_LARGE',
  /** Every job slot and queue place is taken; `details.retryAfterSeconds` says when to try again. */
  'OVERLOADED',
  /** A job needed more memory than a job may use. */
  'JOB_OUT_OF_MEMORY',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface DynamosErrorOptions {
  /** Whether the same operation may succeed when tried again unchanged. */
  retryable: boolean;
  cause?: unknown;
  /** Machine-readable context, returned to API clients as `details`. */
  details?: Record<string, unknown>;
}

export class DynamosError extends Error {
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: DynamosErrorOptions,
  ) {
    super(message, { cause: opts.cause });
    this.name = 'DynamosError';
    this.retryable = opts.retryable;
    this.details = opts.details;
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return (errorCodes as readonly string[]).includes(value);
}

/** Wraps anything thrown into a DynamosError, keeping a DynamosError as it is. */
export function toDynamosError(error: unknown, fallback: ErrorCode = 'INTERNAL'): DynamosError {
  if (error instanceof DynamosError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DynamosError(fallback, message, { retryable: false, cause: error });
}
