import assert from 'node:assert/strict';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { podIpOf, verdictOf } from '../../../adapters/kubernetes/job-verdict.js';

const stats = { rowsOut: 3, bytesOut: 10, streamsOut: 1, cpuSeconds: 0.2, maxRssBytes: 1, stages: [] };
const pod = (status: V1Pod['status'], limits?: Record<string, string>): V1Pod => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'job', ...(limits === undefined ? {} : { resources: { limits } }) }] }, status });
const terminated = (t: Record<string, unknown>) => pod({ phase: 'Failed', containerStatuses: [{ name: 'job', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, ...t } } }] });
const waiting = (reason: string) => pod({ phase: 'Pending', podIP: '10.0.0.9', containerStatuses: [{ name: 'job', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message: 'back-off pulling image "nope"' } } }] });
const failedJob = (reason: string): V1Job => ({ status: { conditions: [{ type: 'Failed', status: 'True', reason }] } });

describe('what Kubernetes says of a job, as the project\'s outcome', () => {
  it('reads the job\'s own report from its termination message', () => {
    assert.deepEqual(verdictOf({ job: undefined, pods: [terminated({ exitCode: 0, reason: 'Completed', message: JSON.stringify({ type: 'done', stats }) })] }, 'UVA'), { status: 'succeeded', stats });
    const failed = verdictOf({ job: undefined, pods: [terminated({ message: JSON.stringify({ type: 'failed', code: 'QUERY_FAILED', message: 'bad cast', stats }) })] }, 'UVA');
    assert.deepEqual(failed?.error, { code: 'QUERY_FAILED', message: 'bad cast' });
  });

  it('names the party and the exit code when the container ended without a report', () => {
    assert.deepEqual(verdictOf({ job: undefined, pods: [terminated({ exitCode: 137, reason: 'Error', message: 'not json' })] }, 'VU')?.error, { code: 'JOB_FAILED', message: 'the job at VU ended with exit code 137 (Kubernetes: Error)' });
  });

  it('turns Kubernetes\' reasons into error codes', () => {
    const cases: [string, ReturnType<typeof verdictOf>][] = [
      ['DeadlineExceeded', verdictOf({ job: failedJob('DeadlineExceeded'), pods: [] }, 'UVA')],
      ['OOMKilled', verdictOf({ job: undefined, pods: [{ ...terminated({ exitCode: 137, reason: 'OOMKilled' }), spec: { containers: [{ name: 'job', resources: { limits: { memory: '512Mi' } } }] } }] }, 'UVA')],
      ['ImagePullBackOff', verdictOf({ job: undefined, pods: [waiting('ImagePullBackOff')] }, 'UVA')],
      ['Unschedulable', verdictOf({ job: undefined, pods: [pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }] })] }, 'UVA')],
      ['BackoffLimitExceeded', verdictOf({ job: failedJob('BackoffLimitExceeded'), pods: [] }, 'UVA')],
    ];
    assert.deepEqual(cases.map(([reason, v]) => [reason, v?.status, v?.error?.code]), [
      ['DeadlineExceeded', 'timedOut', 'JOB_TIMEOUT'],
      ['OOMKilled', 'failed', 'JOB_OUT_OF_MEMORY'],
      ['ImagePullBackOff', 'failed', 'JOB_FAILED'],
      ['Unschedulable', 'failed', 'OVERLOADED'],
      ['BackoffLimitExceeded', 'failed', 'JOB_FAILED'],
    ]);
    for (const [, v] of cases) assert.match(v?.error?.message ?? '', /at UVA/);
    assert.match(cases[1]?.[1]?.error?.message ?? '', /512Mi/);
  });

  it('has no verdict while the job may still succeed, and gives the address of a started pod', () => {
    const starting = waiting('ContainerCreating');
    assert.equal(verdictOf({ job: { status: { active: 1 } }, pods: [starting] }, 'UVA'), undefined);
    assert.equal(podIpOf({ job: undefined, pods: [starting] }), '10.0.0.9');
    assert.equal(podIpOf({ job: undefined, pods: [terminated({ exitCode: 0 })] }), undefined, 'an ended pod listens no more');
  });
});
