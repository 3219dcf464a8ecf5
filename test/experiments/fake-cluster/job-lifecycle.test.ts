import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Given } from './fake-cluster-fixtures.js';
import { givenCluster, nodeJob, recordWatch } from './fake-cluster-fixtures.js';

/** The Job's conditions as "Type=Reason", in order. */
function conditionsOf(given: Given, name: string): string[] {
  return (given.cluster.world.get('jobs', 'surf', name)?.status as { conditions?: { type: string; reason: string }[] } | undefined)?.conditions?.map((c) => `${c.type}=${c.reason}`) ?? [];
}

function finished(given: Given, name: string): boolean {
  return conditionsOf(given, name).some((c) => c.startsWith('Complete=') || c.startsWith('Failed='));
}

async function podsOf(given: Given, job: string): Promise<V1Pod[]> {
  return (await given.core.listNamespacedPod({ namespace: 'surf', labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
}

describe('fake cluster: the Job controller and kubelet run Jobs as local processes', () => {
  let given: Given;
  let tablesDir: string;
  before(async () => {
    tablesDir = await mkdtemp(path.join(os.tmpdir(), 'fake-cluster-tables-'));
    await writeFile(path.join(tablesDir, 'wages.csv'), 'id,wage\n1,100\n');
    given = await givenCluster({ persistentVolumes: { 'surf-tables': tablesDir } });
  });
  after(async () => {
    await given.close();
    await rm(tablesDir, { recursive: true, force: true });
  });
  afterEach(() => {
    assert.deepEqual(given.cluster.world.errors(), []);
  });

  it('runs a Job to Complete: one pod, owned and labelled, its termination message in the container status', async () => {
    const watch = await recordWatch(given.kubeConfig, '/apis/batch/v1/namespaces/surf/jobs', { labelSelector: 'dynamos.io/daemon=test' });
    const job = await given.batch.createNamespacedJob({
      namespace: 'surf',
      body: nodeJob('complete', 'require("fs").writeFileSync(process.env.DYNAMOS_TERMINATION_LOG, JSON.stringify({ type: "done" })); console.log("hello from the job")', {
        container: { env: [{ name: 'DYNAMOS_TERMINATION_LOG', value: '/dev/termination-log' }] },
      }),
    });
    await watch.until((e) => e.object.metadata?.name === 'complete' && JSON.stringify(e.object.status).includes('"Complete"'), 'Complete');
    watch.abort();
    assert.deepEqual(conditionsOf(given, 'complete'), ['SuccessCriteriaMet=CompletionsReached', 'Complete=CompletionsReached']);
    const status = (await given.batch.readNamespacedJobStatus({ namespace: 'surf', name: 'complete' })).status;
    assert.deepEqual([status?.succeeded, status?.active, status?.ready, status?.failed], [1, 0, 0, undefined]);
    assert.ok(status?.startTime !== undefined && status.completionTime !== undefined);
    const [pod, ...others] = await podsOf(given, 'complete');
    assert.equal(others.length, 0);
    assert.match(pod?.metadata?.name ?? '', /^complete-[a-z0-9]{5}$/);
    assert.deepEqual(pod?.metadata?.ownerReferences?.map((r) => ({ ...r })), [{ apiVersion: 'batch/v1', kind: 'Job', name: 'complete', uid: job.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(pod?.metadata?.labels?.['controller-uid'], job.metadata?.uid);
    assert.equal(pod?.status?.phase, 'Succeeded');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.deepEqual([terminated?.exitCode, terminated?.reason, terminated?.message], [0, 'Completed', '{"type":"done"}']);
    assert.equal(pod?.metadata?.finalizers, undefined, 'the controller released the job-tracking finalizer after counting');
    const log = await given.core.readNamespacedPodLog({ namespace: 'surf', name: pod?.metadata?.name ?? '' });
    assert.equal(log, 'hello from the job\n');
  });

  it('fails a Job whose container exits 1 with backoffLimit 0: FailureTarget, then Failed BackoffLimitExceeded', async () => {
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('exit-one', 'console.error("no"); process.exit(1)') });
    await given.cluster.world.until(() => finished(given, 'exit-one'), 'exit-one finished');
    assert.deepEqual(conditionsOf(given, 'exit-one'), ['FailureTarget=BackoffLimitExceeded', 'Failed=BackoffLimitExceeded']);
    const [pod] = await podsOf(given, 'exit-one');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.deepEqual([pod?.status?.phase, terminated?.exitCode, terminated?.reason], ['Failed', 1, 'Error']);
  });

  it('replaces a failed pod until backoffLimit, then fails (restartPolicy Never)', async () => {
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('retried', 'process.exit(2)', { spec: { backoffLimit: 1 } }) });
    await given.cluster.world.until(() => finished(given, 'retried'), 'retried finished');
    assert.equal((await podsOf(given, 'retried')).length, 2);
    assert.equal((given.cluster.world.get('jobs', 'surf', 'retried')?.status as { failed?: number }).failed, 2);
  });

  it('falls back to the log\'s end for the message when the file is empty and the container failed (FallbackToLogsOnError)', async () => {
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('fallback', 'console.log("first"); console.error("last words"); process.exit(3)', { container: { terminationMessagePolicy: 'FallbackToLogsOnError' } }) });
    await given.cluster.world.until(() => finished(given, 'fallback'), 'fallback finished');
    const [pod] = await podsOf(given, 'fallback');
    assert.equal(pod?.status?.containerStatuses?.[0]?.state?.terminated?.message, 'first\nlast words\n');
  });

  it('ends a Job past activeDeadlineSeconds: its pod is stopped, then Failed DeadlineExceeded', async () => {
    const watch = await recordWatch(given.kubeConfig, '/api/v1/namespaces/surf/pods', { labelSelector: 'job-name=too-long' });
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('too-long', 'setInterval(() => undefined, 1000)', { spec: { activeDeadlineSeconds: 1 } }) });
    await given.cluster.world.until(() => finished(given, 'too-long'), 'too-long finished');
    assert.deepEqual(conditionsOf(given, 'too-long'), ['FailureTarget=DeadlineExceeded', 'Failed=DeadlineExceeded']);
    // The stopped pod is deleted: its last state is in the watch's DELETED event.
    const gone = await watch.until((e) => e.type === 'DELETED', 'the pod deleted');
    watch.abort();
    const pod = gone.object as V1Pod;
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.deepEqual([pod.status?.phase, terminated?.exitCode, terminated?.reason], ['Failed', 143, 'Error'], 'stopped with SIGTERM');
  });

  it('deletes a finished Job and what it owns ttlSecondsAfterFinished later', async () => {
    const job = await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('short-lived', 'process.exit(0)', { spec: { ttlSecondsAfterFinished: 0 } }) });
    await given.core.createNamespacedSecret({
      namespace: 'surf',
      body: { metadata: { name: 'short-lived', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'short-lived', uid: job.metadata?.uid ?? '' }] } },
    });
    await given.cluster.world.until(() => given.cluster.world.get('jobs', 'surf', 'short-lived') === undefined, 'the Job deleted');
    await given.cluster.world.until(() => given.cluster.world.pods('surf').every((p) => p.metadata.labels?.['job-name'] !== 'short-lived') && given.cluster.world.get('secrets', 'surf', 'short-lived') === undefined, 'its pod and Secret deleted');
  });

  it('runs the container as the pod contract says: its own pod IP, the Secret volume and termination log reached through rewritten paths', async () => {
    const script = `
      const fs = require('fs');
      const assignment = fs.readFileSync(process.env.DYNAMOS_JOB_ASSIGNMENT, 'utf8');
      fs.writeFileSync(process.env.DYNAMOS_WORK_DIR + '/scratch', 'x');
      require('net').createServer().listen(Number(process.env.DYNAMOS_DATA_PLANE_PORT), process.env.DYNAMOS_POD_IP, function () {
        const address = this.address();
        fs.writeFileSync(process.argv[1], JSON.stringify({ assignment, address: address.address, argv: process.argv[1] }));
        this.close();
      });`;
    await given.batch.createNamespacedJob({ namespace: 'surf', body: withVolumes(nodeJob('contract', script, { container: contractContainer() })) });
    // The Secret comes after the Job, as the runner creates it; the pod waits for it.
    await given.cluster.world.until(() => given.cluster.world.events('surf').some((e) => e.reason === 'FailedMount'), 'the pod waiting for its Secret');
    const waiting = given.cluster.world.pods('surf').find((p) => p.metadata.labels?.['job-name'] === 'contract');
    assert.deepEqual([waiting?.status?.phase, waiting?.status?.podIP, waiting?.status?.containerStatuses?.[0]?.state?.waiting?.reason], ['Pending', undefined, 'ContainerCreating']);
    await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'contract' }, stringData: { 'assignment.json': '{"job":"x"}' } } });
    await given.cluster.world.until(() => finished(given, 'contract'), 'contract finished');
    const [pod] = await podsOf(given, 'contract');
    const said = JSON.parse(pod?.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '{}') as { assignment: string; address: string; argv: string };
    assert.equal(said.assignment, '{"job":"x"}');
    assert.match(pod?.status?.podIP ?? '', /^127\.1\.\d+\.\d+$/);
    assert.equal(said.address, pod?.status?.podIP);
    assert.ok(said.argv.startsWith(given.cluster.world.podsDir), `the argument ${said.argv} leads into the pod's directory`);
  });

  it('expands $(VAR) in arguments from the container\'s env, $$ escaping, an unknown name left as written', async () => {
    const job = nodeJob('expanded', 'require("fs").writeFileSync(process.env.LOG, JSON.stringify(process.argv.slice(1)))', {
      container: { args: ['$(GREETING) world', '$$(GREETING)', '$(UNKNOWN)'], env: [{ name: 'GREETING', value: 'hello' }, { name: 'LOG', value: '/dev/termination-log' }] },
    });
    await given.batch.createNamespacedJob({ namespace: 'surf', body: job });
    await given.cluster.world.until(() => finished(given, 'expanded'), 'expanded finished');
    const [pod] = await podsOf(given, 'expanded');
    assert.deepEqual(JSON.parse(pod?.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '[]'), ['hello world', '$(GREETING)', '$(UNKNOWN)']);
  });

  it('backs a persistentVolumeClaim and a hostPath volume with their host directories', async () => {
    const script = 'const fs = require("fs"); fs.writeFileSync(process.argv[1], fs.readFileSync(process.env.DYNAMOS_TABLES_DIR + "/wages.csv", "utf8") + fs.readFileSync(process.argv[2] + "/wages.csv", "utf8"))';
    const job = nodeJob('tables', script, {
      container: {
        args: ['/dev/termination-log', '/srv/surf'],
        env: [{ name: 'DYNAMOS_TABLES_DIR', value: '/var/lib/dynamos/tables' }],
        volumeMounts: [
          { name: 'tables', mountPath: '/var/lib/dynamos/tables', readOnly: true },
          { name: 'host', mountPath: '/srv/surf', readOnly: true },
        ],
      },
    });
    const spec = job.spec?.template.spec;
    if (spec !== undefined) spec.volumes = [{ name: 'tables', persistentVolumeClaim: { claimName: 'surf-tables', readOnly: true } }, { name: 'host', hostPath: { path: tablesDir, type: 'Directory' } }];
    await given.batch.createNamespacedJob({ namespace: 'surf', body: job });
    await given.cluster.world.until(() => finished(given, 'tables'), 'tables finished');
    const [pod] = await podsOf(given, 'tables');
    assert.equal(pod?.status?.containerStatuses?.[0]?.state?.terminated?.message, 'id,wage\n1,100\n'.repeat(2));
  });
});

function contractContainer(): Record<string, unknown> {
  return {
    args: ['/dev/termination-log'],
    env: [
      { name: 'DYNAMOS_JOB_ASSIGNMENT', value: '/var/run/dynamos/assignment/assignment.json' },
      { name: 'DYNAMOS_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'DYNAMOS_DATA_PLANE_PORT', value: '50051' },
      { name: 'DYNAMOS_WORK_DIR', value: '/var/run/dynamos/work' },
    ],
    volumeMounts: [
      { name: 'assignment', mountPath: '/var/run/dynamos/assignment', readOnly: true },
      { name: 'work', mountPath: '/var/run/dynamos/work' },
    ],
  };
}

function withVolumes(job: ReturnType<typeof nodeJob>): ReturnType<typeof nodeJob> {
  const spec = job.spec?.template.spec;
  if (spec !== undefined) spec.volumes = [{ name: 'assignment', secret: { secretName: 'contract' } }, { name: 'work', emptyDir: {} }];
  return job;
}
