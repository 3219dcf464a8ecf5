import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubeconfigFor } from '../../../experiments/fake-cluster/index.js';
import type { Given } from './fake-cluster-fixtures.js';
import { givenCluster, nodeJob, refusal } from './fake-cluster-fixtures.js';

describe('fake cluster: objects through the real client (create, defaults, validation, lists)', () => {
  let given: Given;
  before(async () => {
    given = await givenCluster({ namespaces: { surf: {}, uva: {} } });
  });
  after(async () => {
    await given.close();
  });

  it('creates a Job with the defaults the apiserver writes: counts, policies, the generated selector and its labels', async () => {
    const job = await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('defaults', 'process.exit(0)', { spec: { backoffLimit: undefined, suspend: true } }) });
    const uid = job.metadata?.uid ?? '';
    assert.match(uid, /^[0-9a-f-]{36}$/);
    assert.ok(Number(job.metadata?.resourceVersion) > 0);
    assert.equal(job.metadata?.generation, 1);
    assert.ok(job.metadata?.creationTimestamp instanceof Date);
    assert.deepEqual(
      { completions: job.spec?.completions, parallelism: job.spec?.parallelism, backoffLimit: job.spec?.backoffLimit, completionMode: job.spec?.completionMode, podReplacementPolicy: job.spec?.podReplacementPolicy },
      { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', podReplacementPolicy: 'TerminatingOrFailed' },
    );
    assert.deepEqual(job.spec?.selector?.matchLabels, { 'batch.kubernetes.io/controller-uid': uid });
    assert.deepEqual(job.spec?.template.metadata?.labels, {
      'dynamos.io/daemon': 'test',
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'defaults',
      'controller-uid': uid,
      'job-name': 'defaults',
    });
    const container = job.spec?.template.spec?.containers[0];
    assert.deepEqual([container?.terminationMessagePath, container?.terminationMessagePolicy, container?.imagePullPolicy], ['/dev/termination-log', 'File', 'IfNotPresent']);
  });

  it('names an object from generateName with five letters and digits', async () => {
    const secret = await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { generateName: 'assignment-' }, stringData: { 'a.json': '{}' } } });
    assert.match(secret.metadata?.name ?? '', /^assignment-[a-z0-9]{5}$/);
    assert.deepEqual(secret.data, { 'a.json': Buffer.from('{}').toString('base64') });
    assert.equal(secret.type, 'Opaque');
  });

  it('answers a second create of the same name 409 AlreadyExists', async () => {
    await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('twice', 'process.exit(0)', { spec: { suspend: true } }) });
    const { code, body } = await refusal(given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('twice', 'process.exit(0)') }));
    assert.equal(code, 409);
    assert.equal(body.reason, 'AlreadyExists');
    assert.equal(body.message, 'jobs.batch "twice" already exists');
  });

  const invalidJobs: { rule: string; job: ReturnType<typeof nodeJob>; fields: string[] }[] = [
    { rule: 'a name that is not a DNS-1123 subdomain', job: nodeJob('Not_A_Name', ''), fields: ['metadata.name'] },
    { rule: 'a Job name past 63 characters (it becomes the job-name label)', job: nodeJob('j'.repeat(64), ''), fields: ['spec.template.metadata.labels', 'spec.template.metadata.labels'] },
    { rule: 'a label value that is not one', job: nodeJob('bad-label', '', { labels: { 'dynamos.io/request': 'has space' } }), fields: ['metadata.labels'] },
    { rule: 'restartPolicy Always in a Job', job: withPodSpec(nodeJob('always', ''), { restartPolicy: 'Always' }), fields: ['spec.template.spec.restartPolicy'] },
    { rule: 'no containers', job: withPodSpec(nodeJob('empty', ''), { containers: [] }), fields: ['spec.template.spec.containers'] },
    { rule: 'a container without image', job: withPodSpec(nodeJob('no-image', ''), { containers: [{ name: 'job' }] }), fields: ['spec.template.spec.containers[0].image'] },
  ];
  for (const { rule, job, fields } of invalidJobs) {
    it(`refuses ${rule} with 422 Invalid, naming the field`, async () => {
      const { code, body } = await refusal(given.batch.createNamespacedJob({ namespace: 'surf', body: job }));
      assert.equal(code, 422);
      assert.equal(body.reason, 'Invalid');
      assert.deepEqual(body.details?.causes?.map((c) => c.field), fields);
    });
  }

  it('words a refusal as the apiserver does', async () => {
    const { body } = await refusal(given.batch.createNamespacedJob({ namespace: 'surf', body: withPodSpec(nodeJob('always', ''), { restartPolicy: 'Always' }) }));
    assert.equal(body.message, 'Job.batch "always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
  });

  it('validates a dryRun=All create and stores nothing', async () => {
    const dry = await given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('dry', 'process.exit(0)'), dryRun: 'All' });
    assert.equal(dry.metadata?.name, 'dry');
    assert.equal((await refusal(given.batch.readNamespacedJob({ namespace: 'surf', name: 'dry' }))).code, 404);
    assert.equal((await refusal(given.batch.createNamespacedJob({ namespace: 'surf', body: nodeJob('Dry', ''), dryRun: 'All' }))).code, 422);
  });

  it('answers 404 NotFound for a namespace that does not exist, and for a missing object', async () => {
    const create = await refusal(given.batch.createNamespacedJob({ namespace: 'nowhere', body: nodeJob('x', '') }));
    assert.deepEqual([create.code, create.body.reason, create.body.message], [404, 'NotFound', 'namespaces "nowhere" not found']);
    const get = await refusal(given.batch.readNamespacedJob({ namespace: 'nowhere', name: 'x' }));
    assert.deepEqual([get.code, get.body.message], [404, 'jobs.batch "x" not found']);
  });

  it('answers 401 Unauthorized without the kubeconfig\'s token', async () => {
    const stranger = new KubeConfig();
    stranger.loadFromString(given.cluster.kubeconfig.replace(given.cluster.token, 'wrong-token'));
    // The client drops the body of a 401; the Status is there for clients that read it.
    assert.equal((await refusal(stranger.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: 'surf' }))).code, 401);
    const raw = await rawGet(given, '/apis/batch/v1/namespaces/surf/jobs', 'wrong-token');
    assert.deepEqual([raw.code, raw.body], [401, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }]);
  });

  describe('lists', () => {
    before(async () => {
      const labels: Record<string, string>[] = [
        { app: 'a', tier: 'x' },
        { app: 'b', tier: 'y' },
        { app: 'c' },
      ];
      for (const [i, l] of labels.entries()) await given.core.createNamespacedSecret({ namespace: 'uva', body: { metadata: { name: `s${i}`, labels: l } } });
      await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'elsewhere', labels: { app: 'a' } } } });
    });

    const selectors: [string, string[]][] = [
      ['app=a', ['s0']],
      ['app==b', ['s1']],
      ['app!=a', ['s1', 's2']],
      ['app in (a,c)', ['s0', 's2']],
      ['app notin (a,c)', ['s1']],
      ['tier', ['s0', 's1']],
      ['!tier', ['s2']],
      ['app=a,tier=x', ['s0']],
    ];
    for (const [labelSelector, names] of selectors) {
      it(`selects by labelSelector "${labelSelector}"`, async () => {
        const list = await given.core.listNamespacedSecret({ namespace: 'uva', labelSelector });
        assert.deepEqual(list.items.map((s) => s.metadata?.name), names);
      });
    }

    it('selects by fieldSelector and refuses a field it does not index', async () => {
      const list = await given.core.listNamespacedSecret({ namespace: 'uva', fieldSelector: 'metadata.name!=s1' });
      assert.deepEqual(list.items.map((s) => s.metadata?.name), ['s0', 's2']);
      const { code, body } = await refusal(given.core.listNamespacedSecret({ namespace: 'uva', fieldSelector: 'spec.nothing=1' }));
      assert.deepEqual([code, body.message], [400, 'field label not supported: spec.nothing']);
    });

    it('pages with limit and continue, every page as of the first one', async () => {
      const first = await given.core.listNamespacedSecret({ namespace: 'uva', limit: 2 });
      assert.deepEqual(first.items.map((s) => s.metadata?.name), ['s0', 's1']);
      assert.equal(first.metadata?.remainingItemCount, 1);
      await given.core.createNamespacedSecret({ namespace: 'uva', body: { metadata: { name: 's3' } } });
      const rest = await given.core.listNamespacedSecret({ namespace: 'uva', limit: 2, _continue: first.metadata?._continue ?? '' });
      assert.deepEqual(rest.items.map((s) => s.metadata?.name), ['s2']);
      assert.equal(rest.metadata?._continue, undefined);
      assert.equal(rest.metadata?.resourceVersion, first.metadata?.resourceVersion);
      await given.core.deleteNamespacedSecret({ namespace: 'uva', name: 's3' });
    });

    it('answers a continue token from before a compaction 410 Expired', async () => {
      const first = await given.core.listNamespacedSecret({ namespace: 'uva', limit: 1 });
      await given.core.createNamespacedSecret({ namespace: 'uva', body: { metadata: { name: 's4' } } });
      given.cluster.faults.compact();
      const { code, body } = await refusal(given.core.listNamespacedSecret({ namespace: 'uva', limit: 1, _continue: first.metadata?._continue ?? '' }));
      assert.deepEqual([code, body.reason], [410, 'Expired']);
      await given.core.deleteNamespacedSecret({ namespace: 'uva', name: 's4' });
    });

    it('lists across all namespaces, with the list\'s resourceVersion', async () => {
      const list = await given.core.listSecretForAllNamespaces({ labelSelector: 'app=a' });
      assert.deepEqual(list.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`), ['surf/elsewhere', 'uva/s0']);
      assert.equal(list.metadata?.resourceVersion, String(given.cluster.world.resourceVersion));
    });
  });
});

/** A GET with node's https client and the cluster's certificate, for what the client does not show. */
function rawGet(given: Given, path: string, token: string): Promise<{ code: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${given.cluster.url}${path}`, { ca: given.cluster.certificateAuthority, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject).end();
  });
}

function withPodSpec(job: ReturnType<typeof nodeJob>, spec: Record<string, unknown>): ReturnType<typeof nodeJob> {
  const template = job.spec?.template;
  return { ...job, spec: { ...job.spec, template: { ...template, spec: { ...template?.spec, ...spec } as never } } };
}

describe('fake cluster: updates and several clusters in one kubeconfig', () => {
  let given: Given;
  before(async () => {
    given = await givenCluster();
  });
  after(async () => {
    await given.close();
  });

  it('refuses an update from a stale resourceVersion with 409 Conflict, and patches with JSON Patch (the client\'s default)', async () => {
    const secret = await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'versioned' } } });
    await given.core.patchNamespacedSecret({ namespace: 'surf', name: 'versioned', body: [{ op: 'add', path: '/metadata/labels', value: { v: '2' } }] });
    const { code, body } = await refusal(given.core.replaceNamespacedSecret({ namespace: 'surf', name: 'versioned', body: secret }));
    assert.deepEqual([code, body.reason], [409, 'Conflict']);
    const current = await given.core.readNamespacedSecret({ namespace: 'surf', name: 'versioned' });
    assert.deepEqual(current.metadata?.labels, { v: '2' });
  });

  it('answers kubectl too, through the same kubeconfig (discovery, lists, logs), when kubectl is installed', async function () {
    const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((file) => existsSync(file));
    if (kubectl === undefined) this.skip();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fake-cluster-kubeconfig-'));
    try {
      await writeFile(path.join(dir, 'config'), given.cluster.kubeconfig);
      await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'for-kubectl' } } });
      const { stdout } = await promisify(execFile)(kubectl ?? '', ['--kubeconfig', path.join(dir, 'config'), 'get', 'secrets', '-n', 'surf', '-o', 'json']);
      assert.ok((JSON.parse(stdout) as { items: { metadata: { name: string } }[] }).items.some((s) => s.metadata.name === 'for-kubectl'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves each cluster on its own server, one context each, from one kubeconfig', async () => {
    const other = await givenCluster({ name: 'surf-cluster', podNetwork: '127.2' });
    try {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromString(
        kubeconfigFor([
          { name: given.cluster.name, url: given.cluster.url, token: given.cluster.token, certificateAuthority: given.cluster.certificateAuthority },
          { name: other.cluster.name, url: other.cluster.url, token: other.cluster.token, certificateAuthority: other.cluster.certificateAuthority },
        ]),
      );
      assert.deepEqual(kubeConfig.getContexts().map((c) => c.name), ['fake-cluster', 'surf-cluster']);
      kubeConfig.setCurrentContext('surf-cluster');
      await kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'only-there' } } });
      assert.ok(other.cluster.world.get('secrets', 'surf', 'only-there') !== undefined);
      assert.equal(given.cluster.world.get('secrets', 'surf', 'only-there'), undefined);
    } finally {
      await other.close();
    }
  });
});
