import assert from 'node:assert/strict';
import type { Given } from './fake-cluster-fixtures.js';
import { givenCluster, recordWatch, refusal } from './fake-cluster-fixtures.js';

const secrets = '/api/v1/namespaces/surf/secrets';

describe('fake cluster: watches and request faults through the real client', () => {
  let given: Given;
  before(async () => {
    given = await givenCluster({ bookmarkIntervalMs: 100 });
  });
  after(async () => {
    await given.close();
  });

  it('streams ADDED, MODIFIED and DELETED from a list\'s resourceVersion, and only what the selector picks', async () => {
    const list = await given.core.listNamespacedSecret({ namespace: 'surf' });
    const watch = await recordWatch(given.kubeConfig, secrets, { resourceVersion: list.metadata?.resourceVersion, labelSelector: 'watched=yes' });
    await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'ignored' } } });
    await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'w1', labels: { watched: 'yes' } } } });
    await given.core.patchNamespacedSecret({ namespace: 'surf', name: 'w1', body: [{ op: 'add', path: '/data', value: { k: 'dg==' } }] });
    await given.core.deleteNamespacedSecret({ namespace: 'surf', name: 'w1' });
    await watch.until((e) => e.type === 'DELETED', 'the delete');
    watch.abort();
    assert.deepEqual(watch.events.map((e) => `${e.type} ${e.object.metadata?.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    const versions = watch.events.map((e) => Number(e.object.metadata?.resourceVersion));
    assert.deepEqual([...versions].sort((a, b) => a - b), versions);
  });

  it('starts a watch without resourceVersion with ADDED for what exists', async () => {
    await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'present', labels: { initial: 'yes' } } } });
    const watch = await recordWatch(given.kubeConfig, secrets, { labelSelector: 'initial=yes' });
    await watch.until((e) => e.type === 'ADDED' && e.object.metadata?.name === 'present', 'the synthetic ADDED');
    watch.abort();
  });

  it('sends BOOKMARK events, with the current resourceVersion, when the client allows them', async () => {
    const watch = await recordWatch(given.kubeConfig, secrets, { allowWatchBookmarks: true, labelSelector: 'none=here' });
    const bookmark = await watch.until((e) => e.type === 'BOOKMARK', 'a bookmark');
    watch.abort();
    assert.deepEqual(bookmark.object, { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: bookmark.object.metadata?.resourceVersion } });
    assert.ok(Number(bookmark.object.metadata?.resourceVersion) <= given.cluster.world.resourceVersion);
  });

  it('answers a resume from before a compaction with an ERROR event holding 410 Expired, then ends the stream', async () => {
    const list = await given.core.listNamespacedSecret({ namespace: 'surf' });
    await given.core.createNamespacedSecret({ namespace: 'surf', body: { metadata: { name: 'after-list' } } });
    given.cluster.faults.compact();
    const watch = await recordWatch(given.kubeConfig, secrets, { resourceVersion: list.metadata?.resourceVersion });
    assert.equal(await watch.done, null);
    assert.equal(watch.events.length, 1);
    assert.equal(watch.events[0]?.type, 'ERROR');
    assert.deepEqual([watch.events[0]?.object.code, watch.events[0]?.object.reason], [410, 'Expired']);
  });

  it('ends the stream at timeoutSeconds', async () => {
    const watch = await recordWatch(given.kubeConfig, secrets, { timeoutSeconds: 1, labelSelector: 'none=here' });
    assert.equal(await watch.done, null);
  });

  it('drops every open watch on demand, and the client sees its connection end', async () => {
    const watch = await recordWatch(given.kubeConfig, secrets, { labelSelector: 'none=here' });
    assert.equal(given.cluster.faults.dropWatches(), 1);
    // A broken chunked stream, not a clean end: the client reports an error.
    assert.ok((await watch.done) instanceof Error);
  });

  it('answers 429 with Retry-After, which the client surfaces as an ApiException', async () => {
    given.cluster.faults.failRequests({ code: 429, retryAfterSeconds: 3, method: 'POST', path: '/jobs' });
    const { code, body, headers } = await refusal(given.batch.createNamespacedJob({ namespace: 'surf', body: { metadata: { name: 'throttled' } } }));
    assert.deepEqual([code, body.reason, headers['retry-after']], [429, 'TooManyRequests', '3']);
    // One request only: the next passes (and here fails validation, showing it reached the server).
    assert.equal((await refusal(given.batch.createNamespacedJob({ namespace: 'surf', body: { metadata: { name: 'throttled' } } }))).code, 422);
  });

  it('answers 500 and 503 on demand, to the requests that match', async () => {
    given.cluster.faults.failRequests({ code: 503, times: 2, method: 'GET' });
    given.cluster.faults.failRequests({ code: 500, method: 'DELETE' });
    assert.equal((await refusal(given.core.listNamespacedSecret({ namespace: 'surf' }))).code, 503);
    assert.equal((await refusal(given.core.deleteNamespacedSecret({ namespace: 'surf', name: 'present' }))).code, 500);
    assert.equal((await refusal(given.core.readNamespacedSecret({ namespace: 'surf', name: 'present' }))).code, 503);
    assert.equal((await given.core.readNamespacedSecret({ namespace: 'surf', name: 'present' })).metadata?.name, 'present');
  });

  it('answers 403 Forbidden as RBAC words it', async () => {
    given.cluster.faults.failRequests({ code: 403, method: 'DELETE', path: '/jobs' });
    const { code, body } = await refusal(given.batch.deleteNamespacedJob({ namespace: 'surf', name: 'any' }));
    assert.deepEqual([code, body.reason], [403, 'Forbidden']);
    assert.equal(body.message, 'jobs.batch "any" is forbidden: User "fake-cluster-user" cannot delete resource "jobs" in API group "batch" in the namespace "surf"');
  });
});
