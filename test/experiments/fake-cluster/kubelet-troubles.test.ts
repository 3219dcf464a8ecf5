import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import type { Given } from './fake-cluster-fixtures.js';
import { givenCluster, image, nodeJob, recordWatch } from './fake-cluster-fixtures.js';

function podOf(given: Given, namespace: string, job: string): V1Pod | undefined {
  return given.cluster.world.pods(namespace).find((p) => p.metadata.labels?.['job-name'] === job) as V1Pod | undefined;
}

function waitingReason(pod: V1Pod | undefined): string | undefined {
  return pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
}

function scheduled(pod: V1Pod | undefined): { status?: string; reason?: string; message?: string } | undefined {
  return pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
}

describe('fake cluster: what keeps a pod from running, and faults on demand', () => {
  let given: Given;
  before(async () => {
    given = await givenCluster({ namespaces: { surf: {}, tight: { node: { cpu: '500m', memory: '256Mi' } } } });
  });
  after(async () => {
    await given.close();
  });
  afterEach(() => {
    assert.deepEqual(given.cluster.world.errors(), []);
  });

  it('shows an image it does not have as ErrImagePull, then ImagePullBackOff; the pod stays Pending', async () => {
    const watch = await recordWatch(given.kubeConfig, '/api/v1/namespaces/surf/pods', { labelSelector: 'job-name=no-image' });
    const job = nodeJob('no-image', 'process.exit(0)', { container: { image: 'example/missing:1' } });
    await given.batch.createNamespacedJob({ namespace: 'surf', body: job });
    await watch.until((e) => waitingReason(e.object as V1Pod) === 'ImagePullBackOff', 'ImagePullBackOff');
    watch.abort();
    const reasons = watch.events.map((e) => waitingReason(e.object as V1Pod)).filter((r) => r !== undefined);
    assert.ok(reasons.indexOf('ErrImagePull') < reasons.indexOf('ImagePullBackOff'), reasons.join(', '));
    assert.equal(podOf(given, 'surf', 'no-image')?.status?.phase, 'Pending');
    await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'no-image', propagationPolicy: 'Background' });
  });

  it('fails pulls of a known image on demand, and pulls it once restored', async () => {
    given.cluster.faults.failImagePulls(image);
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('flaky-registry', 'process.exit(0)') });
    await given.cluster.world.until(() => waitingReason(podOf(given, 'surf', 'flaky-registry')) === 'ImagePullBackOff', 'ImagePullBackOff');
    given.cluster.faults.restoreImagePulls(image);
    await given.cluster.world.until(() => podOf(given, 'surf', 'flaky-registry')?.status?.phase === 'Succeeded', 'the pod succeeded');
  });

  it('refuses to run an image name that is not a reference: InvalidImageName', async () => {
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('bad-name', 'process.exit(0)', { container: { image: 'Not A/Reference' } }) });
    await given.cluster.world.until(() => waitingReason(podOf(given, 'surf', 'bad-name')) === 'InvalidImageName', 'InvalidImageName');
    await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'bad-name', propagationPolicy: 'Background' });
  });

  it('waits with CreateContainerConfigError for a Secret an env var names, and runs once it exists', async () => {
    const env = [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'later', key: 'token' } } }];
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('env-secret', 'process.exit(process.env.TOKEN === "s3cret" ? 0 : 1)', { container: { env } }) });
    await given.cluster.world.until(() => waitingReason(podOf(given, 'surf', 'env-secret')) === 'CreateContainerConfigError', 'CreateContainerConfigError');
    await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'later' }, stringData: { token: 's3cret' } } });
    await given.cluster.world.until(() => podOf(given, 'surf', 'env-secret')?.status?.phase === 'Succeeded', 'the pod succeeded');
  });

  it('leaves a pod that does not fit its node Pending, PodScheduled=False Unschedulable, and binds it when room frees', async () => {
    const big = { resources: { requests: { cpu: '400m', memory: '64Mi' }, limits: { cpu: '400m', memory: '64Mi' } } };
    await given.batch.createNamespacedJob({ namespace: 'tight', body: nodeJob('first', 'setInterval(() => undefined, 1000)', { container: big }) });
    await given.cluster.world.until(() => podOf(given, 'tight', 'first')?.status?.phase === 'Running', 'the first pod running');
    await given.batch.createNamespacedJob({ namespace: 'tight', body: nodeJob('second', 'process.exit(0)', { container: big }) });
    const condition = await given.cluster.world.until(() => (scheduled(podOf(given, 'tight', 'second'))?.status === 'False' ? scheduled(podOf(given, 'tight', 'second')) : undefined), 'the second pod unschedulable');
    assert.equal(condition.reason, 'Unschedulable');
    assert.match(condition.message ?? '', /^0\/1 nodes are available: 1 Insufficient cpu\./);
    assert.ok(given.cluster.world.events('tight').some((e) => e.reason === 'FailedScheduling'));
    await given.batch.deleteNamespacedJob({ namespace: 'tight', name: 'first', propagationPolicy: 'Background' });
    await given.cluster.world.until(() => podOf(given, 'tight', 'second')?.status?.phase === 'Succeeded', 'the second pod ran');
  });

  it('cannot schedule a pod whose PersistentVolumeClaim does not exist', async () => {
    const job = nodeJob('no-claim', 'process.exit(0)');
    const spec = job.spec?.template.spec;
    if (spec !== undefined) spec.volumes = [{ name: 'tables', persistentVolumeClaim: { claimName: 'surf-tables', readOnly: true } }];
    await given.batch.createNamespacedJob({ namespace: 'surf', body: job });
    const condition = await given.cluster.world.until(() => (scheduled(podOf(given, 'surf', 'no-claim'))?.status === 'False' ? scheduled(podOf(given, 'surf', 'no-claim')) : undefined), 'unschedulable');
    assert.match(condition.message ?? '', /persistentvolumeclaim "surf-tables" not found/);
    await given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'no-claim', propagationPolicy: 'Background' });
  });

  it('OOM-kills a running container on demand: reason OOMKilled, exit 137, and the Job fails', async () => {
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('oom-fault', 'console.log("up"); setInterval(() => undefined, 1000)') });
    const pod = await given.cluster.world.until(() => {
      const running = podOf(given, 'surf', 'oom-fault');
      return given.cluster.world.logs('surf', running?.metadata?.name ?? '')?.includes('up') ? running : undefined;
    }, 'the container up');
    assert.equal(given.cluster.faults.oomKill('surf', pod.metadata?.name ?? ''), true);
    await given.cluster.world.until(() => podOf(given, 'surf', 'oom-fault')?.status?.phase === 'Failed', 'the pod failed');
    const terminated = podOf(given, 'surf', 'oom-fault')?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.deepEqual([terminated?.reason, terminated?.exitCode], ['OOMKilled', 137]);
    await given.cluster.world.until(() => JSON.stringify(given.cluster.world.get('jobs', 'surf', 'oom-fault')?.status).includes('"Failed"'), 'the Job failed');
  });

  it('delays a pod\'s containers on demand: the pod has its IP and waits in ContainerCreating', async () => {
    given.cluster.faults.delayPodStarts(300, 'surf');
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('slow-start', 'process.exit(0)') });
    const waiting = await given.cluster.world.until(() => {
      const pod = podOf(given, 'surf', 'slow-start');
      return pod?.status?.podIP !== undefined && waitingReason(pod) === 'ContainerCreating' ? pod : undefined;
    }, 'the pod waiting with an IP');
    assert.equal(waiting.status?.phase, 'Pending');
    given.cluster.faults.delayPodStarts(0);
    await given.cluster.world.until(() => podOf(given, 'surf', 'slow-start')?.status?.phase === 'Succeeded', 'the pod ran');
  });

  it('restarts a failed container in place under restartPolicy OnFailure, counting restarts against backoffLimit', async () => {
    const watch = await recordWatch(given.kubeConfig, '/api/v1/namespaces/surf/pods', { labelSelector: 'job-name=on-failure' });
    const job = nodeJob('on-failure', 'process.exit(1)', { spec: { backoffLimit: 2 } });
    const spec = job.spec?.template.spec;
    if (spec !== undefined) spec.restartPolicy = 'OnFailure';
    await given.batch.createNamespacedJob({ namespace: 'surf', body: job });
    await given.cluster.world.until(() => JSON.stringify(given.cluster.world.get('jobs', 'surf', 'on-failure')?.status).includes('"Failed"'), 'the Job failed');
    await watch.until((e) => e.type === 'DELETED', 'the failed Job\'s pod deleted');
    watch.abort();
    assert.equal(new Set(watch.events.map((e) => e.object.metadata?.name)).size, 1, 'one pod, restarted in place');
    const statuses = watch.events.map((e) => (e.object as V1Pod).status?.containerStatuses?.[0]);
    assert.ok(statuses.some((s) => s?.state?.waiting?.reason === 'CrashLoopBackOff' && s.lastState?.terminated?.exitCode === 1));
    assert.equal(Math.max(...statuses.map((s) => s?.restartCount ?? 0)), 2);
    const reason = (given.cluster.world.get('jobs', 'surf', 'on-failure')?.status as { conditions: { type: string; reason: string }[] }).conditions.find((c) => c.type === 'Failed')?.reason;
    assert.equal(reason, 'BackoffLimitExceeded');
  });
});
