import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { runnerPermissions } from '../../adapters/kubernetes/rbac.js';
import type { PartyNamespace } from './cluster-layout.js';
import type { DaemonNames } from './manifest-names.js';
import { commonLabels } from './manifest-names.js';

/**
 * A namespace of the daemon or of parties, enforcing the Pod Security "restricted" profile that
 * the daemon's pod and the jobs' meet; it names the parties whose jobs run there.
 */
export function namespaceObject(name: string, daemonName: string, component: 'daemon' | 'parties', parties: readonly string[] = []): Namespace {
  const annotations = parties.length === 0 ? {} : { annotations: { 'dynamos.io/parties': parties.join(', ') } };
  return new Namespace({ metadata: { name, labels: { ...commonLabels(daemonName, component), 'pod-security.kubernetes.io/enforce': 'restricted' }, ...annotations } });
}

/**
 * The runner's rights in one party namespace: a Role with `runnerPermissions` and a RoleBinding
 * that grants it to the daemon's ServiceAccount (in `daemonNamespace` of the same cluster).
 */
export function runnerAccess(ns: PartyNamespace, names: DaemonNames, daemonNamespace: string): [Role, RoleBinding] {
  const metadata = { name: names.runnerRole, namespace: ns.namespace, labels: commonLabels(names.daemon, 'runner') };
  const role = new Role({
    metadata,
    rules: runnerPermissions.map((p) => ({ apiGroups: [...p.apiGroups], resources: [...p.resources], verbs: [...p.verbs] })),
  });
  const binding = new RoleBinding({
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.runnerRole },
    subjects: [{ kind: 'ServiceAccount', name: names.app, namespace: daemonNamespace }],
  });
  return [role, binding];
}

/** The ServiceAccount the daemon runs as, in its own cluster, or the one it signs in as elsewhere. */
export function daemonServiceAccount(names: DaemonNames, namespace: string): ServiceAccount {
  return new ServiceAccount({ metadata: { name: names.app, namespace, labels: commonLabels(names.daemon, 'daemon') } });
}

/**
 * In a party's cluster of its own: a long-lived token of the daemon's ServiceAccount there, filled
 * in by Kubernetes, for the daemon's kubeconfig (docs/kubernetes.md#parties-in-other-clusters).
 */
export function serviceAccountToken(names: DaemonNames, namespace: string): Secret {
  return new Secret({
    metadata: { name: names.tokenSecret, namespace, labels: commonLabels(names.daemon, 'daemon'), annotations: { 'kubernetes.io/service-account.name': names.app } },
    type: 'kubernetes.io/service-account-token',
  });
}
