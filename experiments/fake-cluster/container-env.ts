import type { Container, PodObject } from './kube-object.js';
import type { ObjectStore } from './object-store.js';
import { parseQuantity } from './quantity.js';

/**
 * Expands `$(VAR)` references from `defined` as Kubernetes does in env values, command and args:
 * `$$` is a literal `$` (so `$$(VAR)` stays `$(VAR)`), and a reference to an undefined variable
 * is left as written. https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/
 */
export function expandReferences(text: string, defined: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char !== '$' || i + 1 >= text.length) {
      out += char;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      out += defined.get(name) ?? `$(${name})`;
      i = close;
    } else {
      out += char;
    }
  }
  return out;
}

/** Why a container cannot be given its environment: the kubelet's CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/**
 * The container's environment in order, each value expanded against the variables before it:
 * literal values, the downward API (`fieldRef`, `resourceFieldRef`) and Secret keys.
 * https://kubernetes.io/docs/tasks/inject-data-application/environment-variable-expose-pod-information/
 * @throws ContainerConfigError for a Secret or key that does not exist (and is not optional)
 */
export function resolveEnvironment(container: Container, pod: PodObject, store: ObjectStore, nodeAllocatable: Readonly<Record<string, string>>): Map<string, string> {
  const env = new Map<string, string>();
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    let value: string | undefined;
    if (from === undefined) value = expandReferences(variable.value ?? '', env);
    else if (from.fieldRef !== undefined) value = fieldValue(pod, from.fieldRef.fieldPath);
    else if (from.resourceFieldRef !== undefined) value = resourceValue(container, from.resourceFieldRef, nodeAllocatable);
    else if (from.secretKeyRef !== undefined) value = secretValue(pod, from.secretKeyRef, store);
    else if (from.configMapKeyRef !== undefined) {
      if (from.configMapKeyRef.optional !== true) throw new ContainerConfigError(`configmap "${from.configMapKeyRef.name ?? ''}" not found`);
    }
    if (value !== undefined) env.set(variable.name, value);
  }
  return env;
}

function fieldValue(pod: PodObject, fieldPath: string): string {
  const meta = pod.metadata;
  const status = pod.status ?? {};
  const keyed = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(fieldPath);
  if (keyed !== null) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2] ?? ''] ?? '';
  const values: Record<string, string | undefined> = {
    'metadata.name': meta.name,
    'metadata.namespace': meta.namespace,
    'metadata.uid': meta.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': status.podIP,
    'status.podIPs': (status.podIPs ?? []).map((ip) => ip.ip).join(','),
    'status.hostIP': status.hostIP,
    'status.hostIPs': (status.hostIPs ?? []).map((ip) => ip.ip).join(','),
  };
  return values[fieldPath] ?? '';
}

/** limits.* or requests.* over the divisor, rounded up; a limit left out reads as the node's allocatable. */
function resourceValue(container: Container, ref: { resource: string; divisor?: string | number }, nodeAllocatable: Readonly<Record<string, string>>): string {
  const [kind, resource = ''] = ref.resource.split('.');
  const fromContainer = kind === 'limits' ? container.resources?.limits?.[resource] : container.resources?.requests?.[resource];
  const quantity = parseQuantity(fromContainer ?? nodeAllocatable[resource] ?? 0) ?? 0;
  const divisor = parseQuantity(ref.divisor ?? 1) ?? 1;
  return String(Math.ceil(quantity / divisor));
}

function secretValue(pod: PodObject, ref: { name?: string; key: string; optional?: boolean }, store: ObjectStore): string | undefined {
  const secret = store.get('secrets', pod.metadata.namespace, ref.name ?? '');
  if (secret === undefined) {
    if (ref.optional === true) return undefined;
    throw new ContainerConfigError(`secret "${ref.name ?? ''}" not found`);
  }
  const encoded = (secret.data as Record<string, string> | undefined)?.[ref.key];
  if (encoded === undefined) {
    if (ref.optional === true) return undefined;
    throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${pod.metadata.namespace ?? ''}/${ref.name ?? ''}`);
  }
  return Buffer.from(encoded, 'base64').toString('utf8');
}
