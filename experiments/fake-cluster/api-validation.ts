import type { StatusCause } from './api-errors.js';
import { badRequest } from './api-errors.js';
import { jobLabels } from './api-defaults.js';
import { configKeyProblems, dns1123LabelProblems, dns1123SubdomainProblems, envVarNameProblems, fieldError, labelCauses, qualifiedNameProblems } from './field-checks.js';
import type { JobObject, KubeObject, PodSpec } from './kube-object.js';
import { parseQuantity } from './quantity.js';
import type { ResourceInfo } from './resources.js';

/**
 * The checks the apiserver makes before storing an object, each a cause with its field path, as
 * pkg/apis/core/validation and pkg/apis/batch/validation word them. Run after defaulting, as the
 * apiserver does: a Job whose template leaves out restartPolicy is refused for "Always".
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#writing-a-job-spec
 */
export function validateObject(info: ResourceInfo, object: KubeObject): StatusCause[] {
  const causes = validateMeta(info, object);
  switch (info.plural) {
    case 'jobs':
      return [...causes, ...validateJobSpec(object as JobObject)];
    case 'pods':
      return [...causes, ...validatePodSpec((object.spec ?? {}) as PodSpec, 'spec', ['Always', 'OnFailure', 'Never'])];
    case 'secrets':
      return [...causes, ...validateSecretData(object)];
    case 'namespaces':
    case 'nodes':
    case 'events':
      return causes;
    default: {
      const _exhaustive: never = info.plural;
      return _exhaustive;
    }
  }
}

function validateMeta(info: ResourceInfo, object: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = object.metadata.name ?? '';
  if (name === '') causes.push(fieldError.required('metadata.name', 'name or generateName is required'));
  else {
    const problems = info.plural === 'namespaces' ? dns1123LabelProblems(name) : dns1123SubdomainProblems(name);
    for (const problem of problems) causes.push(fieldError.invalid('metadata.name', name, problem));
  }
  causes.push(...labelCauses(object.metadata.labels, 'metadata.labels'));
  for (const key of Object.keys(object.metadata.annotations ?? {})) {
    for (const problem of qualifiedNameProblems(key)) causes.push(fieldError.invalid('metadata.annotations', key, problem));
  }
  return causes;
}

function nonNegative(value: number | undefined, field: string): StatusCause[] {
  return value !== undefined && value < 0 ? [fieldError.invalid(field, value, 'must be greater than or equal to 0')] : [];
}

function validateJobSpec(job: JobObject): StatusCause[] {
  const spec = job.spec;
  if (spec === undefined) return [fieldError.required('spec')];
  const causes = [
    ...nonNegative(spec.parallelism, 'spec.parallelism'),
    ...nonNegative(spec.completions, 'spec.completions'),
    ...nonNegative(spec.backoffLimit, 'spec.backoffLimit'),
    ...nonNegative(spec.activeDeadlineSeconds, 'spec.activeDeadlineSeconds'),
    ...nonNegative(spec.ttlSecondsAfterFinished, 'spec.ttlSecondsAfterFinished'),
  ];
  if (spec.completionMode !== undefined && !['NonIndexed', 'Indexed'].includes(spec.completionMode)) causes.push(fieldError.notSupported('spec.completionMode', spec.completionMode, ['NonIndexed', 'Indexed']));
  const templateLabels = spec.template.metadata?.labels ?? {};
  const uid = job.metadata.uid ?? '';
  if (spec.manualSelector !== true && spec.selector?.matchLabels?.[jobLabels.controllerUid] !== uid) {
    // https://kubernetes.io/docs/concepts/workloads/controllers/job/#specifying-your-own-pod-selector
    causes.push(fieldError.invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
  } else if (!Object.entries(spec.selector?.matchLabels ?? {}).every(([key, value]) => templateLabels[key] === value)) {
    causes.push(fieldError.invalid('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`'));
  }
  // The Job's name becomes the job-name label of its template: past 63 characters it fails here.
  causes.push(...labelCauses(templateLabels, 'spec.template.metadata.labels'));
  causes.push(...validatePodSpec(spec.template.spec ?? ({} as PodSpec), 'spec.template.spec', ['OnFailure', 'Never']));
  return causes;
}

const supportedFieldRefs = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];

/** A pod spec at `at` (spec, or spec.template.spec of a Job); `restartPolicies` are the ones allowed there. */
function validatePodSpec(spec: PodSpec, at: string, restartPolicies: readonly string[]): StatusCause[] {
  const causes: StatusCause[] = [];
  if (spec.restartPolicy === undefined || !restartPolicies.includes(spec.restartPolicy)) causes.push(fieldError.notSupported(`${at}.restartPolicy`, spec.restartPolicy ?? '', restartPolicies));
  const volumeNames = new Set<string>();
  (spec.volumes ?? []).forEach((volume, i) => {
    const path = `${at}.volumes[${i}]`;
    if (!volume.name) causes.push(fieldError.required(`${path}.name`));
    else if (volumeNames.has(volume.name)) causes.push(fieldError.duplicate(`${path}.name`, volume.name));
    else for (const problem of dns1123LabelProblems(volume.name)) causes.push(fieldError.invalid(`${path}.name`, volume.name, problem));
    volumeNames.add(volume.name);
    if (volume.secret !== undefined && !volume.secret.secretName) causes.push(fieldError.required(`${path}.secret.secretName`));
    if (volume.persistentVolumeClaim !== undefined && !volume.persistentVolumeClaim.claimName) causes.push(fieldError.required(`${path}.persistentVolumeClaim.claimName`));
    if (volume.hostPath !== undefined && !volume.hostPath.path) causes.push(fieldError.required(`${path}.hostPath.path`));
  });
  const containers = spec.containers ?? [];
  if (containers.length === 0) causes.push(fieldError.required(`${at}.containers`));
  const containerNames = new Set<string>();
  containers.forEach((container, i) => {
    const path = `${at}.containers[${i}]`;
    if (!container.name) causes.push(fieldError.required(`${path}.name`));
    else if (containerNames.has(container.name)) causes.push(fieldError.duplicate(`${path}.name`, container.name));
    else for (const problem of dns1123LabelProblems(container.name)) causes.push(fieldError.invalid(`${path}.name`, container.name, problem));
    containerNames.add(container.name);
    if (!container.image) causes.push(fieldError.required(`${path}.image`));
    const policy = container.terminationMessagePolicy;
    if (policy !== undefined && !['File', 'FallbackToLogsOnError'].includes(policy)) causes.push(fieldError.notSupported(`${path}.terminationMessagePolicy`, policy, ['File', 'FallbackToLogsOnError']));
    (container.env ?? []).forEach((env, j) => {
      for (const problem of envVarNameProblems(env.name ?? '')) causes.push(fieldError.invalid(`${path}.env[${j}].name`, env.name ?? '', problem));
      const fieldPath = env.valueFrom?.fieldRef?.fieldPath;
      if (fieldPath !== undefined && !supportedFieldRefs.includes(fieldPath) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(fieldPath)) {
        causes.push(fieldError.notSupported(`${path}.env[${j}].valueFrom.fieldRef.fieldPath`, fieldPath, supportedFieldRefs));
      }
    });
    const mountPaths = new Set<string>();
    (container.volumeMounts ?? []).forEach((mount, j) => {
      if (!volumeNames.has(mount.name)) causes.push(fieldError.notFound(`${path}.volumeMounts[${j}].name`, mount.name));
      if (!mount.mountPath) causes.push(fieldError.required(`${path}.volumeMounts[${j}].mountPath`));
      else if (mountPaths.has(mount.mountPath)) causes.push(fieldError.invalid(`${path}.volumeMounts[${j}].mountPath`, mount.mountPath, 'must be unique'));
      mountPaths.add(mount.mountPath);
    });
    causes.push(...validateResources(container.resources, `${path}.resources`));
  });
  return causes;
}

type ResourceList = Readonly<Record<string, string | number>>;

function validateResources(resources: { limits?: ResourceList; requests?: ResourceList } | undefined, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const limits = resources?.limits ?? {};
  for (const [name, request] of Object.entries(resources?.requests ?? {})) {
    const limit = limits[name];
    if (limit !== undefined && (parseQuantity(request) ?? 0) > (parseQuantity(limit) ?? 0)) {
      causes.push(fieldError.invalid(`${at}.requests`, String(request), `must be less than or equal to ${name} limit of ${String(limit)}`));
    }
  }
  return causes;
}

function validateSecretData(secret: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  let bytes = 0;
  for (const [key, value] of Object.entries((secret.data as Record<string, string> | undefined) ?? {})) {
    for (const problem of configKeyProblems(key)) causes.push(fieldError.invalid('data', key, problem));
    bytes += Buffer.from(value, 'base64').length;
  }
  // https://kubernetes.io/docs/concepts/configuration/secret/#restriction-data-size
  if (bytes > 2 ** 20) causes.push({ reason: 'FieldValueTooLong', message: `Too long: must have at most ${2 ** 20} bytes`, field: 'data' });
  return causes;
}

/**
 * What the apiserver refuses while decoding, before any validation (400, not 422): a quantity it
 * cannot parse, a Secret value that is not base64.
 */
export function checkDecodable(info: ResourceInfo, object: KubeObject): void {
  const specs: PodSpec[] = info.plural === 'pods' ? [object.spec as PodSpec] : info.plural === 'jobs' ? [(object as JobObject).spec?.template.spec as PodSpec] : [];
  for (const spec of specs) {
    for (const container of spec?.containers ?? []) {
      for (const [name, value] of [...Object.entries(container.resources?.limits ?? {}), ...Object.entries(container.resources?.requests ?? {})]) {
        if (parseQuantity(value) === undefined) {
          throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (${name}: ${String(value)})`);
        }
      }
    }
  }
  if (info.plural === 'secrets') {
    for (const [key, value] of Object.entries((object.data as Record<string, unknown> | undefined) ?? {})) {
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at data[${key}]`);
    }
  }
}
