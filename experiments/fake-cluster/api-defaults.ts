import type { Container, JobObject, KubeObject, PodObject, PodSpec } from './kube-object.js';
import { timestamp } from './kube-object.js';

/**
 * The defaults the apiserver writes into an object before validating and storing it (the v1
 * defaulting functions and each kind's PrepareForCreate), so clients read back what a cluster
 * would give them. Kubernetes 1.31.
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/
 */

export const jobLabels = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  /** The labels before 1.27, still written for selectors that use them. */
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
} as const;

/** Pod spec defaults: the same for a Pod and for a Job's pod template. */
export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(container);
  for (const volume of spec.volumes ?? []) {
    if (volume.secret !== undefined) volume.secret.defaultMode ??= 0o644;
    if (volume.hostPath !== undefined) volume.hostPath.type ??= '';
  }
}

function defaultContainer(container: Container): void {
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  // https://kubernetes.io/docs/concepts/containers/images/#imagepullpolicy-defaulting
  container.imagePullPolicy ??= typeof container.image === 'string' && /:[^/:]+$/.test(container.image) && !container.image.endsWith(':latest') ? 'IfNotPresent' : 'Always';
  container.resources ??= {};
  for (const port of container.ports ?? []) port.protocol ??= 'TCP';
  for (const env of container.env ?? []) {
    if (env.valueFrom?.fieldRef !== undefined) env.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
}

/** A Job as created: spec defaults, the generated selector and its labels, empty status. */
export function defaultJob(job: JobObject): void {
  const spec = (job.spec ??= { template: {} });
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  // https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-replacement-policy
  spec.podReplacementPolicy ??= spec.podFailurePolicy === undefined ? 'TerminatingOrFailed' : 'Failed';
  const template = (spec.template ??= {});
  const templateSpec = (template.spec ??= { containers: [] });
  defaultPodSpec(templateSpec);
  if (spec.manualSelector !== true) {
    // https://kubernetes.io/docs/concepts/workloads/controllers/job/#specifying-your-own-pod-selector
    const uid = job.metadata.uid ?? '';
    const name = job.metadata.name ?? '';
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [jobLabels.controllerUid]: uid, [jobLabels.jobName]: name, [jobLabels.legacyControllerUid]: uid, [jobLabels.legacyJobName]: name } };
    if (spec.selector === undefined) spec.selector = { matchLabels: { [jobLabels.controllerUid]: uid } };
  }
  job.metadata.generation = 1;
  job.status = {};
}

/**
 * A Pod as created: spec defaults, requests copied from limits, what admission adds (the service
 * account), phase Pending and its QoS class.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
 */
export function defaultPod(pod: PodObject): void {
  const spec = (pod.spec ??= { containers: [] });
  defaultPodSpec(spec);
  for (const container of spec.containers ?? []) {
    const limits = container.resources?.limits;
    if (limits !== undefined) container.resources = { ...container.resources, requests: { ...limits, ...container.resources?.requests } };
  }
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.priority ??= 0;
  pod.status = { phase: 'Pending', qosClass: qosClassOf(spec) };
}

function qosClassOf(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = spec.containers ?? [];
  const sizes = containers.map((c) => ({ requests: c.resources?.requests ?? {}, limits: c.resources?.limits ?? {} }));
  if (sizes.every((s) => Object.keys(s.requests).length === 0 && Object.keys(s.limits).length === 0)) return 'BestEffort';
  const guaranteed = sizes.every((s) => ['cpu', 'memory'].every((r) => s.limits[r] !== undefined && String(s.limits[r]) === String(s.requests[r] ?? s.limits[r])));
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** A Secret as stored: `stringData` merged into base64 `data`, type Opaque unless given. */
export function defaultSecret(secret: KubeObject): void {
  const data = { ...((secret.data as Record<string, string> | undefined) ?? {}) };
  for (const [key, value] of Object.entries((secret.stringData as Record<string, string> | undefined) ?? {})) data[key] = Buffer.from(value, 'utf8').toString('base64');
  delete secret.stringData;
  if (Object.keys(data).length > 0) secret.data = data;
  secret.type ??= 'Opaque';
}

export function namespaceObject(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export interface NodeCapacity {
  readonly cpu?: string;
  readonly memory?: string;
}

/** The simulated node of a namespace: Ready, its capacity all allocatable, the host's loopback as its address. */
export function nodeObject(name: string, capacity: NodeCapacity): KubeObject {
  const resources = { ...(capacity.cpu === undefined ? {} : { cpu: capacity.cpu }), ...(capacity.memory === undefined ? {} : { memory: capacity.memory }), pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch } },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: timestamp(), lastTransitionTime: timestamp() }],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: { kubeletVersion: 'v1.31.0-fake', operatingSystem: 'linux', architecture: process.arch, containerRuntimeVersion: 'fake://local-processes' },
    },
  };
}
