import { stringify } from 'yaml';

/** What a kubeconfig needs to reach one fake cluster. */
export interface KubeconfigEntry {
  /** The context's name (and its cluster's and user's). */
  readonly name: string;
  readonly url: string;
  readonly token: string;
  /** The server's certificate (PEM), trusted as the cluster's certificate authority. */
  readonly certificateAuthority: string;
  /** The context's default namespace. */
  readonly namespace?: string;
}

/**
 * A kubeconfig with one context per fake cluster, each with its server and bearer token, as
 * `KubeConfig.loadFromString` (or a file for `kubernetes.kubeconfig`) takes it. The first entry's
 * context is current unless `currentContext` names another.
 * https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
 */
export function kubeconfigFor(entries: readonly KubeconfigEntry[], currentContext?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: entries.map((e) => ({ name: e.name, cluster: { server: e.url, 'certificate-authority-data': Buffer.from(e.certificateAuthority).toString('base64') } })),
    users: entries.map((e) => ({ name: `${e.name}-user`, user: { token: e.token } })),
    contexts: entries.map((e) => ({ name: e.name, context: { cluster: e.name, user: `${e.name}-user`, ...(e.namespace === undefined ? {} : { namespace: e.namespace }) } })),
    'current-context': currentContext ?? entries[0]?.name ?? '',
  });
}
