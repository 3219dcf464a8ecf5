import assert from 'node:assert/strict';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { kubernetesRunnerConfigSchema } from '../../../adapters/kubernetes/config.js';
import { assignmentSecret, jobManifest } from '../../../adapters/kubernetes/job-manifest.js';
import { jobNameOf, labelValueOf } from '../../../adapters/kubernetes/names.js';
import type { JobSpec } from '../../../knowledge/ports/job-runner.js';

const config = kubernetesRunnerConfigSchema.parse({ image: 'dynamos-ts:0.1.0', daemonName: 'dynamos' });
const spec = {
  name: 'job', requestId: 'req_01J0-ÄÖ lengthy/id with spaces and more characters than a label may hold', party: 'Uva Amsterdam', partyKind: 'dataSteward',
  services: ['sql-query'], request: { type: 'sqlDataRequest', query: 'SELECT 1', algorithm: 'none', options: {}, requester: 'a' },
  tables: [], inputs: [], output: { to: 'requester', streams: 1 },
} as unknown as JobSpec;
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('the Job of one party\'s job', () => {
  const job = jobManifest({ spec, namespace: 'uva', config, site: { cpus: 0.5, memoryMiB: 1024, network: false, kubernetes: { tables: { persistentVolumeClaim: 'uva-tables' } } }, deadlineMs: 90_500, jobMemoryMiB: 2048 });

  it('passes the Kubernetes schema of batch/v1 Job', () => {
    new Job(job as ConstructorParameters<typeof Job>[0]).validate();
  });

  it('has a DNS-label name and label values Kubernetes accepts, however the request and party are spelt', () => {
    assert.match(job.metadata?.name ?? '', dnsLabel);
    assert.ok((job.metadata?.name ?? '').length <= 63);
    for (const value of Object.values(job.metadata?.labels ?? {})) assert.match(value, labelValue, value);
    assert.ok(Object.values(job.metadata?.labels ?? {}).every((v) => v.length <= 63));
    assert.equal(job.metadata?.annotations?.['dynamos.io/party-name'], 'Uva Amsterdam');
    assert.notEqual(jobNameOf('r1', 'UVA'), jobNameOf('r2', 'UVA'));
    assert.notEqual(labelValueOf('a'.repeat(80)), labelValueOf(`${'a'.repeat(79)}b`));
  });

  it('runs once, until the request\'s deadline, and is removed after its TTL', () => {
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(job.spec?.template.spec?.restartPolicy, 'Never');
    assert.equal(job.spec?.activeDeadlineSeconds, 91);
    assert.equal(job.spec?.ttlSecondsAfterFinished, 60);
  });

  it('meets the Pod Security "restricted" profile', () => {
    const pod = job.spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(container?.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container?.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(pod?.automountServiceAccountToken, false);
    for (const volume of pod?.volumes ?? []) assert.ok(volume.hostPath === undefined, 'no hostPath volume in a restricted pod');
  });

  it('takes its requests and limits from the party\'s site, its tables read-only from the site\'s claim', () => {
    const container = job.spec?.template.spec?.containers[0];
    assert.deepEqual(container?.resources?.limits, { cpu: '500m', memory: '1024Mi' });
    assert.deepEqual(container?.resources?.requests, { cpu: '500m', memory: '1024Mi' });
    assert.deepEqual(job.spec?.template.spec?.volumes?.find((v) => v.name === 'tables')?.persistentVolumeClaim, { claimName: 'uva-tables', readOnly: true });
    assert.equal(container?.volumeMounts?.find((m) => m.name === 'tables')?.readOnly, true);
    assert.equal(container?.env?.find((e) => e.name === 'DYNAMOS_JOB_MEMORY_LIMIT')?.value, '512MB');
  });

  it('hands its assignment over in a Secret the Job owns, so deleting the Job removes it', () => {
    const created = { ...job, metadata: { ...job.metadata, uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' } };
    const secret = assignmentSecret(created, { type: 'assign' });
    new Secret(secret as ConstructorParameters<typeof Secret>[0]).validate();
    assert.deepEqual(secret.metadata?.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata?.name, uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' }]);
    assert.deepEqual(JSON.parse(Buffer.from(secret.data?.['assignment.json'] ?? '', 'base64').toString()), { type: 'assign' });
    assert.throws(() => assignmentSecret(job, {}), /create it first/);
  });
});
