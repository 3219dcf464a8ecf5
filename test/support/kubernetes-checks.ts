import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { KubernetesObject, OperatorObject } from '../../daemon/manifests/index.js';

/**
 * What the Kubernetes OpenAPI schemas (and so kubernetes-models' validate()) leave to the API
 * server: name syntax, Pod Security "restricted", and references between objects. Each returns
 * the problems it finds, as `Kind namespace/name: …`; test/daemon/manifests/kubernetes-checks.test.ts
 * shows each can fail.
 */

const label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dnsLabel = new RegExp(`^${label}$`);
const dnsSubdomain = new RegExp(`^${label}(\\.${label})*$`);
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const labelName = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** IANA_SVC_NAME: a port's name. */
const portName = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const isDnsLabel = (s: string): boolean => s.length <= 63 && dnsLabel.test(s);
export const isDnsSubdomain = (s: string): boolean => s.length <= 253 && dnsSubdomain.test(s);

function isLabelKey(key: string): boolean {
  const [prefix, name] = key.includes('/') ? [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)] : [undefined, key];
  return (prefix === undefined || isDnsSubdomain(prefix)) && name.length <= 63 && labelName.test(name);
}

const idOf = (o: KubernetesObject) => `${o.kind} ${o.metadata?.namespace === undefined ? '' : `${o.metadata.namespace}/`}${o.metadata?.name ?? '(no name)'}`;

/** Names, namespaces and labels Kubernetes would refuse, and an object defined twice. */
export function nameProblems(objects: readonly KubernetesObject[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    const name = o.metadata?.name ?? '';
    const id = idOf(o);
    if (seen.has(id)) problems.push(`${id}: defined twice`);
    seen.add(id);
    const nameOk = o.kind === 'Namespace' ? isDnsLabel(name) : o.kind === 'Service' ? name.length <= 63 && dns1035Label.test(name) : isDnsSubdomain(name);
    if (!nameOk) problems.push(`${id}: "${name}" is not a valid ${o.kind} name`);
    const ns = o.metadata?.namespace;
    if (o.kind === 'Namespace' ? ns !== undefined : ns === undefined || !isDnsLabel(ns)) problems.push(`${id}: namespace "${String(ns)}"`);
    const labelSets = [o.metadata?.labels ?? {}, ...(o.kind === 'Deployment' ? [o.spec?.template.metadata?.labels ?? {}] : [])];
    for (const [key, value] of labelSets.flatMap((l) => Object.entries(l))) {
      if (!isLabelKey(key)) problems.push(`${id}: label key "${key}"`);
      if (value.length > 63 || !labelValue.test(value)) problems.push(`${id}: label ${key} has value "${value}"`);
    }
    if (o.kind === 'Deployment') {
      const pod = o.spec?.template.spec;
      for (const c of pod?.containers ?? []) {
        if (!isDnsLabel(c.name)) problems.push(`${id}: container name "${c.name}"`);
        for (const p of c.ports ?? []) if (p.name !== undefined && !(p.name.length <= 15 && portName.test(p.name))) problems.push(`${id}: port name "${p.name}"`);
      }
      for (const v of pod?.volumes ?? []) if (!isDnsLabel(v.name)) problems.push(`${id}: volume name "${v.name}"`);
    }
  }
  return problems;
}

/** The volume types Pod Security "restricted" allows. */
const restrictedVolumeTypes = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** Where a pod breaks the Pod Security "restricted" profile (Kubernetes' Pod Security Standards). */
export function restrictedViolations(pod: IPodSpec): string[] {
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  if (pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true) problems.push('shares a host namespace');
  for (const v of pod.volumes ?? []) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    if (!types.every((t) => restrictedVolumeTypes.has(t))) problems.push(`volume ${v.name} is ${types.join(', ')}`);
  }
  if (podContext.runAsUser === 0) problems.push('runs as root (runAsUser 0)');
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const sc = c.securityContext ?? {};
    if ((sc.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${c.name}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) problems.push(`${c.name}: runs as root (runAsUser 0)`);
    const seccomp = sc.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${c.name}: seccomp profile ${String(seccomp)}`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${c.name}: allowPrivilegeEscalation is not false`);
    if (sc.privileged === true) problems.push(`${c.name}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${c.name}: does not drop ALL capabilities`);
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) problems.push(`${c.name}: adds ${added.join(', ')}`);
    if ((c.ports ?? []).some((p) => p.hostPort !== undefined && p.hostPort !== 0)) problems.push(`${c.name}: uses a host port`);
  }
  return problems;
}

/**
 * References to objects neither in the output nor listed as the operator's: the Secrets,
 * ConfigMaps and claims a pod mounts or reads, its ServiceAccount, a RoleBinding's Role, and
 * what a Service or monitor selects.
 */
export function danglingReferences(objects: readonly KubernetesObject[], operator: readonly OperatorObject[]): string[] {
  const defined = new Set([...objects.map((o) => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`), ...operator.map((o) => `${o.kind} ${o.namespace}/${o.name}`)]);
  const problems: string[] = [];
  const expect = (from: KubernetesObject, kind: string, namespace: string | undefined, name: string | undefined) => {
    if (!defined.has(`${kind} ${namespace}/${name}`)) problems.push(`${idOf(from)}: refers to ${kind} ${namespace}/${name}, which is neither made here nor the operator's`);
  };
  const podLabels: Record<string, string>[] = [];
  for (const o of objects) {
    const ns = o.metadata?.namespace;
    if (o.kind === 'RoleBinding') expect(o, o.roleRef.kind, ns, o.roleRef.name);
    if (o.kind !== 'Deployment') continue;
    podLabels.push(o.spec?.template.metadata?.labels ?? {});
    const pod = o.spec?.template.spec;
    expect(o, 'ServiceAccount', ns, pod?.serviceAccountName);
    for (const v of pod?.volumes ?? []) {
      if (v.secret !== undefined) expect(o, 'Secret', ns, v.secret.secretName);
      if (v.configMap !== undefined) expect(o, 'ConfigMap', ns, v.configMap.name);
      if (v.persistentVolumeClaim !== undefined) expect(o, 'PersistentVolumeClaim', ns, v.persistentVolumeClaim.claimName);
      for (const s of v.projected?.sources ?? []) {
        if (s.secret !== undefined) expect(o, 'Secret', ns, s.secret.name);
        if (s.configMap !== undefined) expect(o, 'ConfigMap', ns, s.configMap.name);
      }
    }
    for (const e of (pod?.containers ?? []).flatMap((c) => c.env ?? [])) {
      if (e.valueFrom?.secretKeyRef !== undefined) expect(o, 'Secret', ns, e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef !== undefined) expect(o, 'ConfigMap', ns, e.valueFrom.configMapKeyRef.name);
    }
  }
  const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
  for (const o of objects) {
    if (o.kind === 'Service' && !podLabels.some((l) => matches(o.spec?.selector ?? {}, l))) problems.push(`${idOf(o)}: selects no pod made here`);
    if (o.kind === 'ServiceMonitor' && !objects.some((s) => s.kind === 'Service' && matches(o.spec.selector.matchLabels ?? {}, s.metadata?.labels ?? {}))) problems.push(`${idOf(o)}: selects no Service made here`);
    if (o.kind === 'PodMonitor' && !podLabels.some((l) => matches(o.spec.selector.matchLabels ?? {}, l))) problems.push(`${idOf(o)}: selects no pod made here`);
  }
  return problems;
}
