import assert from 'node:assert/strict';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { DynamosError, errorCodes } from '../../../knowledge/errors.js';
import { errorOfStatus, statusOfError } from '../../../services/sidecar/grpc-status.js';

/** What a client sees of a status a server ended a call with. */
function received(status: { code?: GrpcStatus; details?: string; metadata?: Metadata }): ServiceError {
  return Object.assign(new Error(status.details ?? ''), { code: status.code ?? GrpcStatus.UNKNOWN, details: status.details ?? '', metadata: status.metadata ?? new Metadata() });
}

describe('gRPC status and the project\'s error codes', () => {
  it('carries every code across a call unchanged, with its message and the party', () => {
    for (const code of errorCodes) {
      const sent = statusOfError(new DynamosError(code, 'what went wrong', { retryable: false }));
      assert.notEqual(sent.code, GrpcStatus.OK, code);
      const back = errorOfStatus(received(sent), 'VU');
      assert.equal(back.code, code);
      assert.equal(back.message, 'VU: what went wrong');
      assert.equal(back.details?.['party'], 'VU');
    }
  });

  it('chooses gRPC statuses that mean the same', () => {
    const statusOf = (code: (typeof errorCodes)[number]) => statusOfError(new DynamosError(code, '', { retryable: false })).code;
    assert.equal(statusOf('JOB_TIMEOUT'), GrpcStatus.DEADLINE_EXCEEDED);
    assert.equal(statusOf('JOB_CANCELLED'), GrpcStatus.CANCELLED);
    assert.equal(statusOf('RESULT_TOO_LARGE'), GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(statusOf('FORBIDDEN'), GrpcStatus.PERMISSION_DENIED);
    assert.equal(statusOf('QUERY_REJECTED'), GrpcStatus.INVALID_ARGUMENT);
  });

  it('reads a status from gRPC itself by its meaning, without passing gRPC\'s text (addresses) on', () => {
    const bare = (code: GrpcStatus) => errorOfStatus(received({ code, details: 'connect ECONNREFUSED 127.0.0.1:4711' }), 'SURF');
    assert.equal(bare(GrpcStatus.CANCELLED).code, 'JOB_CANCELLED');
    assert.equal(bare(GrpcStatus.DEADLINE_EXCEEDED).code, 'JOB_TIMEOUT');
    assert.equal(bare(GrpcStatus.PERMISSION_DENIED).code, 'FORBIDDEN');
    assert.equal(bare(GrpcStatus.RESOURCE_EXHAUSTED).code, 'STREAM_INVALID');
    const unreachable = bare(GrpcStatus.UNAVAILABLE);
    assert.equal(unreachable.code, 'JOB_FAILED');
    assert.equal(unreachable.retryable, true);
    assert.equal(unreachable.message, 'party SURF\'s sidecar went away or could not be reached');
    assert.doesNotMatch(bare(GrpcStatus.INTERNAL).message, /127\.0\.0\.1/);
  });

  it('does not take a trailer that names no code of ours', () => {
    const metadata = new Metadata();
    metadata.set('dynamos-error-code', 'DROP_TABLES');
    assert.equal(errorOfStatus(received({ code: GrpcStatus.ABORTED, details: 'x', metadata }), 'VU').code, 'JOB_FAILED');
  });
});
