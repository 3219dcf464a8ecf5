import type { ResourceInfo } from './resources.js';
import { qualifiedKind, qualifiedResource } from './resources.js';

/** One field's problem in a 422 answer. */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

/**
 * What the API server answers instead of an object: every error, and success for deletes.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#response-status-kind
 */
export interface Status {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** A request the API refuses: its Status, and headers such as Retry-After. */
export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(status.message);
    this.name = 'ApiError';
  }

  get code(): number {
    return this.status.code;
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details === undefined ? {} : { details }), code };
}

export function success(info: ResourceInfo, name: string, uid: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: info.group, kind: info.plural, uid }, code: 200 };
}

function resourceDetails(info: ResourceInfo, name: string): StatusDetails {
  return { name, group: info.group, kind: info.plural };
}

export function notFound(info: ResourceInfo, name: string): ApiError {
  return new ApiError(failure(404, 'NotFound', `${qualifiedResource(info)} "${name}" not found`, resourceDetails(info, name)));
}

export function alreadyExists(info: ResourceInfo, name: string): ApiError {
  return new ApiError(failure(409, 'AlreadyExists', `${qualifiedResource(info)} "${name}" already exists`, resourceDetails(info, name)));
}

/** An update or delete whose precondition (resourceVersion, uid) no longer holds. */
export function conflict(info: ResourceInfo, name: string, why: string): ApiError {
  return new ApiError(failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": ${why}`, resourceDetails(info, name)));
}

/**
 * 422 with one cause per field, the message listing them as the apiserver does.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
 */
export function invalid(info: ResourceInfo, name: string, causes: readonly StatusCause[]): ApiError {
  const listed = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = listed.length === 1 ? listed[0] : `[${listed.join(', ')}]`;
  return new ApiError(failure(422, 'Invalid', `${qualifiedKind(info)} "${name}" is invalid: ${summary}`, { name, group: info.group, kind: info.kind, causes }));
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, 'BadRequest', message));
}

/** A resourceVersion or continue token older than the history kept. */
export function expired(message: string): ApiError {
  return new ApiError(failure(410, 'Expired', message));
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(failure(405, 'MethodNotAllowed', message));
}

export function unauthorized(): ApiError {
  return new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));
}

export function internalError(message: string): ApiError {
  return new ApiError(failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: 'UnexpectedServerResponse', message, field: '' }] }));
}

/** The Status reason the apiserver gives for a code, for injected faults. */
export function reasonForCode(code: number): string {
  const reasons: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };
  return reasons[code] ?? 'Unknown';
}
