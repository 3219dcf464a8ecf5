import type { V1Job } from '@kubernetes/client-node';
import { BatchV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FakeCluster, FakeClusterOptions } from '../../../experiments/fake-cluster/index.js';
import { startFakeCluster } from '../../../experiments/fake-cluster/index.js';

export const image = 'example/dynamos-job:1';

/** A fake cluster with the real client in front of it, as a runner would hold it. */
export interface Given {
  readonly cluster: FakeCluster;
  readonly kubeConfig: KubeConfig;
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
  /** The image's directory: where its containers run. */
  readonly imageDir: string;
  close(): Promise<void>;
}

/** Starts a fake cluster with namespace `surf` and image `example/dynamos-job:1`; short backoffs keep tests quick. */
export async function givenCluster(options: Partial<FakeClusterOptions> = {}): Promise<Given> {
  const imageDir = await mkdtemp(path.join(os.tmpdir(), 'fake-cluster-image-'));
  const cluster = await startFakeCluster({
    namespaces: { surf: {} },
    images: { [image]: imageDir },
    podFailureBackoffMs: 50,
    imagePullBackoffMs: 50,
    containerRestartBackoffMs: 50,
    ...options,
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfig);
  return {
    cluster,
    kubeConfig,
    batch: kubeConfig.makeApiClient(BatchV1Api),
    core: kubeConfig.makeApiClient(CoreV1Api),
    imageDir,
    async close() {
      await cluster.close();
      await rm(imageDir, { recursive: true, force: true });
    },
  };
}

/** A Job of one container running `node -e script`, as cluster mode shapes it (backoffLimit 0, Never). */
export function nodeJob(name: string, script: string, more: { spec?: Partial<NonNullable<V1Job['spec']>>; container?: Record<string, unknown>; labels?: Record<string, string> } = {}): V1Job {
  return {
    metadata: { name, labels: { 'dynamos.io/daemon': 'test', ...more.labels } },
    spec: {
      backoffLimit: 0,
      ...more.spec,
      template: {
        metadata: { labels: { 'dynamos.io/daemon': 'test' } },
        spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'job', image, command: ['node', '-e', script], ...more.container }] },
      },
    },
  };
}

export interface WatchEvent {
  readonly type: string;
  readonly object: { metadata?: { name?: string; resourceVersion?: string; deletionTimestamp?: unknown }; status?: unknown; code?: number; reason?: string; [key: string]: unknown };
}

/** A watch through the client's Watch, recording its events; `until` waits for one that matches. */
export interface RecordedWatch {
  readonly events: WatchEvent[];
  /** Settles when the client's done callback runs, with its error (null for a clean end). */
  readonly done: Promise<unknown>;
  until(predicate: (event: WatchEvent) => boolean, what: string): Promise<WatchEvent>;
  abort(): void;
}

export async function recordWatch(kubeConfig: KubeConfig, path: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<RecordedWatch> {
  const events: WatchEvent[] = [];
  const waiters: { predicate: (e: WatchEvent) => boolean; resolve: (e: WatchEvent) => void }[] = [];
  let finish: (error: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => (finish = resolve));
  const controller = await new Watch(kubeConfig).watch(
    path,
    params,
    (type, object: WatchEvent['object']) => {
      const event = { type, object };
      events.push(event);
      for (const waiter of waiters.filter((w) => w.predicate(event))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    },
    (error) => finish(error),
  );
  return {
    events,
    done,
    until(predicate, what) {
      const seen = events.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve });
        void done.then(() => reject(new Error(`the watch ended before ${what}; it saw ${events.map((e) => `${e.type} ${e.object.metadata?.name ?? e.object.reason ?? ''}`).join(', ')}`)));
      });
    },
    abort: () => controller.abort(),
  };
}

/** The HTTP error an API call was refused with. */
export async function refusal(call: Promise<unknown>): Promise<{ code: number; body: { reason?: string; message?: string; details?: { causes?: { field: string; reason: string; message: string }[] } }; headers: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    const e = error as { code?: number; body?: unknown; headers?: Record<string, string> };
    if (typeof e.code !== 'number') throw error;
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as object) : (e.body as object);
    return { code: e.code, body: body as never, headers: e.headers ?? {} };
  }
  throw new Error('the call succeeded; a refusal was expected');
}
