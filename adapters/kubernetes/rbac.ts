/** One rule of the runner's Role in a party's namespace: what it may do to one kind of object. */
export interface RunnerPermission {
  /** `''` is the core API group (pods, secrets). */
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * The fewest permissions the Kubernetes runner needs in each party's namespace
 * (docs/designs/013-cluster-mode.md, docs/kubernetes.md). `dynamos manifests` grants exactly these
 * to the daemon's ServiceAccount, and the runner must make do with them:
 * - Jobs: create one per job; get, list and watch them; delete them on finish, on cancel and at
 *   start (one by one: no `deletecollection`).
 * - Pods: get, list and watch, for the pod's IP and its container's termination message; no logs.
 * - Secrets: create the per-job assignment Secret only. It is removed by garbage collection through
 *   its ownerReference to the Job, so no `delete`. That ownerReference must not set
 *   `blockOwnerDeletion: true`: under the OwnerReferencesPermissionEnforcement admission plugin
 *   that needs `update` on `jobs/finalizers` as well.
 */
export const runnerPermissions: readonly RunnerPermission[] = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
];
