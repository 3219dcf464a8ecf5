/**
 * The kinds this API server serves, with what each kind's REST strategy decides in the real
 * apiserver: whether it is namespaced, what a delete returns, and the default propagation.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#standard-api-terminology
 */
export interface ResourceInfo {
  readonly plural: ResourcePlural;
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Pods answer a delete with the object; most kinds with a Status of success. */
  readonly returnsDeletedObject: boolean;
  /**
   * batch/v1 Jobs orphan their pods unless told otherwise, kept for compatibility with clients
   * written before garbage collection (kubernetes/kubernetes#20902); every other kind here
   * deletes its dependents in the background.
   * https://kubernetes.io/docs/concepts/architecture/garbage-collection/#cascading-deletion
   */
  readonly defaultPropagation: PropagationPolicy;
  /** Fields a `fieldSelector` may name besides metadata.name and metadata.namespace. */
  readonly selectableFields: readonly string[];
  /** Whether clients may create and delete it through the API (nodes belong to the fake's world). */
  readonly writable: boolean;
}

export type ResourcePlural = 'namespaces' | 'nodes' | 'pods' | 'secrets' | 'events' | 'jobs';
export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

const core = { group: '', version: 'v1' } as const;

export const resources: Readonly<Record<ResourcePlural, ResourceInfo>> = {
  namespaces: { ...core, plural: 'namespaces', kind: 'Namespace', namespaced: false, returnsDeletedObject: false, defaultPropagation: 'Background', selectableFields: ['status.phase'], writable: true },
  nodes: { ...core, plural: 'nodes', kind: 'Node', namespaced: false, returnsDeletedObject: false, defaultPropagation: 'Background', selectableFields: ['spec.unschedulable'], writable: false },
  pods: { ...core, plural: 'pods', kind: 'Pod', namespaced: true, returnsDeletedObject: true, defaultPropagation: 'Background', selectableFields: ['status.phase', 'spec.nodeName', 'spec.restartPolicy', 'status.podIP'], writable: true },
  secrets: { ...core, plural: 'secrets', kind: 'Secret', namespaced: true, returnsDeletedObject: false, defaultPropagation: 'Background', selectableFields: ['type'], writable: true },
  events: { ...core, plural: 'events', kind: 'Event', namespaced: true, returnsDeletedObject: false, defaultPropagation: 'Background', selectableFields: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'source', 'type'], writable: true },
  jobs: { plural: 'jobs', group: 'batch', version: 'v1', kind: 'Job', namespaced: true, returnsDeletedObject: false, defaultPropagation: 'Orphan', selectableFields: ['status.successful'], writable: true },
};

/** `batch/v1` or `v1`: the apiVersion objects of the kind carry. */
export function apiVersionOf(info: ResourceInfo): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** `jobs.batch` or `pods`: how API messages name the resource. */
export function qualifiedResource(info: ResourceInfo): string {
  return info.group === '' ? info.plural : `${info.plural}.${info.group}`;
}

/** `Job.batch` or `Pod`: how validation messages name the kind. */
export function qualifiedKind(info: ResourceInfo): string {
  return info.group === '' ? info.kind : `${info.kind}.${info.group}`;
}

export function resourceOfKind(kind: string): ResourceInfo | undefined {
  return Object.values(resources).find((info) => info.kind === kind);
}
