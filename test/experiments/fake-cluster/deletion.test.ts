import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import type { Given } from './fake-cluster-fixtures.js';
import { givenCluster, nodeJob, recordWatch } from './fake-cluster-fixtures.js';

/** A Job whose container runs until stopped, and a Secret it owns, as the runner makes them; resolves once its pod runs. */
async function givenRunningJob(given: Given, name: string): Promise<{ uid: string; pod: string }> {
  const job = await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob(name, 'setInterval(() => undefined, 1000)') });
  const uid = job.metadata?.uid ?? '';
  await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid }] } } });
  const pod = await given.cluster.world.until(() => given.cluster.world.pods('surf').find((p) => p.metadata.labels?.['job-name'] === name && p.status?.phase === 'Running'), `${name} running`);
  return { uid, pod: pod.metadata.name ?? '' };
}

describe('fake cluster: deletion with propagation, graceful pod termination and the garbage collector', () => {
  let given: Given;
  before(async () => {
    given = await givenCluster();
  });
  after(async () => {
    await given.close();
  });
  afterEach(() => {
    assert.deepEqual(given.cluster.world.errors(), []);
  });

  it('orphans a Job\'s pods and Secret by default (batch/v1\'s historic default): they stay, without the owner reference', async () => {
    const { pod } = await givenRunningJob(given, 'orphaning');
    await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'orphaning' });
    await given.cluster.world.until(() => given.cluster.world.get('jobs', 'surf', 'orphaning') === undefined, 'the Job gone');
    // The Job controller lets go of the pod once nobody owns it.
    const left = await given.cluster.world.until(() => given.cluster.world.pods('surf').find((p) => p.metadata.name === pod && p.metadata.finalizers === undefined), 'the job-tracking finalizer released');
    assert.equal(left.metadata.ownerReferences, undefined);
    assert.equal(left.status?.phase, 'Running');
    assert.equal(given.cluster.world.get('secrets', 'surf', 'orphaning')?.metadata.ownerReferences, undefined);
    await given.core.deleteNamespacedPod({ namespace: 'surf', name: pod, gracePeriodSeconds: 0 });
    await given.core.deleteNamespacedSecret({ namespace: 'surf', name: 'orphaning' });
  });

  it('deletes the Job at once with Background; the collector then deletes its pod (gracefully) and Secret', async () => {
    const { pod } = await givenRunningJob(given, 'background');
    const podUid = given.cluster.world.get('pods', 'surf', pod)?.metadata.uid ?? '';
    assert.ok(given.cluster.world.podDirectories().includes(podUid));
    const answer = await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'background', propagationPolicy: 'Background' });
    assert.equal(answer.status, 'Success');
    assert.equal(given.cluster.world.get('jobs', 'surf', 'background'), undefined);
    await given.cluster.world.until(() => given.cluster.world.get('pods', 'surf', pod) === undefined && given.cluster.world.get('secrets', 'surf', 'background') === undefined, 'the pod and Secret gone');
    assert.equal(given.cluster.world.processes().filter((p) => p.pod === pod).length, 0);
    await given.cluster.world.until(() => !given.cluster.world.podDirectories().includes(podUid), 'the pod\'s directory removed');
  });

  it('keeps the Job with Foreground (deletionTimestamp, foregroundDeletion) until its pods are gone', async () => {
    const { pod } = await givenRunningJob(given, 'foreground');
    const watch = await recordWatch(given.kubeConfig, '/apis/batch/v1/namespaces/surf/jobs', { fieldSelector: 'metadata.name=foreground' });
    // DeleteOptions in the body this time, as kubectl sends them.
    await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'foreground', body: { propagationPolicy: 'Foreground' } });
    const marked = await watch.until((e) => e.object.metadata?.deletionTimestamp !== undefined, 'the Job marked for deletion');
    assert.deepEqual((marked.object.metadata as { finalizers?: string[] }).finalizers, ['foregroundDeletion']);
    await watch.until((e) => e.type === 'DELETED', 'the Job deleted');
    watch.abort();
    assert.equal(given.cluster.world.get('pods', 'surf', pod), undefined, 'the pod went before its Job');
    assert.equal(given.cluster.world.get('secrets', 'surf', 'foreground'), undefined);
  });

  it('stops a deleted pod with SIGTERM, shows it terminating, and removes it once the container ended', async () => {
    const { pod } = await givenRunningJob(given, 'sigterm');
    const watch = await recordWatch(given.kubeConfig, '/api/v1/namespaces/surf/pods', { fieldSelector: `metadata.name=${pod}` });
    const deleted = await given.core.deleteNamespacedPod({ namespace: 'surf', name: pod });
    assert.ok(deleted.metadata?.deletionTimestamp !== undefined);
    assert.equal(deleted.metadata?.deletionGracePeriodSeconds, 1);
    const last = await watch.until((e) => e.type === 'DELETED', 'the pod removed');
    watch.abort();
    const terminated = (last.object as V1Pod).status?.containerStatuses?.[0]?.state?.terminated;
    assert.deepEqual([terminated?.exitCode, terminated?.reason], [143, 'Error']);
    await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'sigterm', propagationPolicy: 'Background' });
  });

  it('kills a container that ignores SIGTERM when the grace period ends (exit 137)', async () => {
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('stubborn', 'process.on("SIGTERM", () => console.log("ignored")); console.log("trapped"); setInterval(() => undefined, 1000)') });
    const pod = await given.cluster.world.until(() => given.cluster.world.pods('surf').find((p) => p.metadata.labels?.['job-name'] === 'stubborn' && given.cluster.world.logs('surf', p.metadata.name ?? '')?.includes('trapped')), 'stubborn trapping SIGTERM');
    const watch = await recordWatch(given.kubeConfig, '/api/v1/namespaces/surf/pods', { fieldSelector: `metadata.name=${pod.metadata.name}` });
    await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'stubborn', propagationPolicy: 'Background' });
    const last = await watch.until((e) => e.type === 'DELETED', 'the pod removed');
    watch.abort();
    assert.equal((last.object as V1Pod).status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
  });
});
