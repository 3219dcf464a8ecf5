import type { ServerResponse } from 'node:http';
import { badRequest, notFound } from './api-errors.js';
import type { ClusterApi } from './cluster-api.js';
import { asPod } from './kube-object.js';
import type { Kubelet } from './kubelet.js';
import { resources } from './resources.js';

/**
 * `GET /api/v1/namespaces/{ns}/pods/{name}/log`: the container's stdout and stderr as plain text;
 * `tailLines`, `limitBytes`, and `follow=true` to stream until the container ends. Logs of a
 * previous run (`previous=true`) are not kept.
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#read-log-of-the-specified-pod
 */
export function servePodLog(res: ServerResponse, api: ClusterApi, kubelet: Kubelet, namespace: string, name: string, query: URLSearchParams): void {
  const stored = api.store.get('pods', namespace, name);
  if (stored === undefined) throw notFound(resources.pods, name);
  const pod = asPod(stored);
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const container = query.get('container') ?? (names.length === 1 ? names[0] : undefined);
  if (container === undefined) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  if (query.get('previous') === 'true') throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
  const run = kubelet.runOf(namespace, name, container);
  if (run === undefined) {
    const waiting = (pod.status?.containerStatuses ?? []).find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting}`);
  }
  const tail = query.get('tailLines');
  const limit = query.get('limitBytes');
  let text = run.log.tail(tail === null ? undefined : Number(tail));
  if (limit !== null) text = Buffer.from(text).subarray(0, Number(limit)).toString('utf8');
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.write(text);
  if (query.get('follow') !== 'true' || run.log.ended) {
    res.end();
    return;
  }
  const onData = (chunk: string) => res.write(chunk);
  const onEnd = () => {
    run.log.off('data', onData);
    res.end();
  };
  run.log.on('data', onData);
  run.log.once('end', onEnd);
  res.on('close', () => {
    run.log.off('data', onData);
    run.log.off('end', onEnd);
  });
}
