import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError, StatusObject } from '@grpc/grpc-js';
import type { ErrorCode } from '../../knowledge/errors.js';
import { DynamosError, isErrorCode } from '../../knowledge/errors.js';

/** The trailer that carries the project's own code, so a failure keeps its exact cause across parties. */
const codeTrailer = 'dynamos-error-code';

/** How each of the project's codes travels as a gRPC status (docs/data-plane.md#errors). */
const grpcStatusOf: Readonly<Record<ErrorCode, GrpcStatus>> = {
  CONFIG_INVALID: GrpcStatus.FAILED_PRECONDITION,
  REQUEST_INVALID: GrpcStatus.INVALID_ARGUMENT,
  REQUEST_TOO_LARGE: GrpcStatus.INVALID_ARGUMENT,
  QUERY_REJECTED: GrpcStatus.INVALID_ARGUMENT,
  QUERY_FAILED: GrpcStatus.ABORTED,
  DATA_UNAVAILABLE: GrpcStatus.FAILED_PRECONDITION,
  ALGORITHM_INPUT_INVALID: GrpcStatus.INVALID_ARGUMENT,
  JOB_FAILED: GrpcStatus.ABORTED,
  JOB_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  JOB_CANCELLED: GrpcStatus.CANCELLED,
  STREAM_INVALID: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  INTERNAL: GrpcStatus.INTERNAL,
  ADAPTER_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  ADAPTER_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  AGREEMENT_REVOKED: GrpcStatus.PERMISSION_DENIED,
  FORBIDDEN: GrpcStatus.PERMISSION_DENIED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  RESULT_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  OVERLOADED: GrpcStatus.RESOURCE_EXHAUSTED,
  JOB_OUT_OF_MEMORY: GrpcStatus.RESOURCE_EXHAUSTED,
};

/**
 * A status that arrived without our trailer: from gRPC itself (a broken connection, a passed
 * deadline, an oversize message) or from a peer that is not ours.
 */
const codeOfBareStatus: Partial<Record<GrpcStatus, ErrorCode>> = {
  [GrpcStatus.CANCELLED]: 'JOB_CANCELLED',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'JOB_TIMEOUT',
  [GrpcStatus.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [GrpcStatus.PERMISSION_DENIED]: 'FORBIDDEN',
  [GrpcStatus.INVALID_ARGUMENT]: 'STREAM_INVALID',
  // grpc-js answers RESOURCE_EXHAUSTED to a message over the receive limit: a malformed stream.
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'STREAM_INVALID',
};

/** A DynamosError as the status a sidecar ends a call with. */
export function statusOfError(error: DynamosError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(codeTrailer, error.code);
  return { code: grpcStatusOf[error.code], details: error.message, metadata };
}

/** The DynamosError a failed call from `party`'s sidecar stands for: its own code where it sent one. */
export function errorOfStatus(error: ServiceError, party: string): DynamosError {
  const sent = error.metadata?.get(codeTrailer)[0];
  const own = typeof sent === 'string' && isErrorCode(sent) ? sent : undefined;
  const code = own ?? codeOfBareStatus[error.code] ?? 'JOB_FAILED';
  // UNAVAILABLE: nothing answered at the address (not yet listening, or gone); trying again may work.
  const retryable = error.code === GrpcStatus.UNAVAILABLE;
  // gRPC's own texts name addresses and resolver notes: for the operator's log, not for a requester.
  const message = own === undefined ? bareMessage(error.code, party) : `${party}: ${error.details}`;
  return new DynamosError(code, message, { retryable, cause: error, details: { party, grpcStatus: GrpcStatus[error.code] } });
}

function bareMessage(code: GrpcStatus, party: string): string {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
      return `party ${party}'s sidecar went away or could not be reached`;
    case GrpcStatus.CANCELLED:
      return `party ${party} cancelled the stream`;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return `the request's deadline passed while party ${party}'s data was fetched`;
    default:
      return `the stream from party ${party} failed (${GrpcStatus[code]})`;
  }
}
