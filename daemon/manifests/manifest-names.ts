/**
 * The names, labels and paths of what `dynamos manifests` makes (docs/kubernetes.md). Every name
 * of the daemon's own objects starts with its `kubernetes.daemonName`, so with the default
 * (`dynamos`) the CA Secret is `dynamos-data-plane-ca` and the state claim `dynamos-state`.
 */
export interface DaemonNames {
  readonly daemon: string;
  /** The ServiceAccount, Deployment and Service. */
  readonly app: string;
  readonly settingsConfigMap: string;
  readonly stateClaim: string;
  /** The Role and RoleBinding in each party's namespace. */
  readonly runnerRole: string;
  /** A token for the daemon's ServiceAccount in a party's cluster of its own. */
  readonly tokenSecret: string;
  /** Made by the operator (docs/kubernetes.md). */
  readonly caSecret: string;
  readonly kubeconfigSecret: string;
  readonly apiTlsSecret: string;
  readonly adminTokenSecret: string;
}

export function daemonNamesOf(daemonName: string): DaemonNames {
  return {
    daemon: daemonName,
    app: daemonName,
    settingsConfigMap: `${daemonName}-settings`,
    stateClaim: `${daemonName}-state`,
    runnerRole: `${daemonName}-runner`,
    tokenSecret: `${daemonName}-token`,
    caSecret: `${daemonName}-data-plane-ca`,
    kubeconfigSecret: `${daemonName}-kubeconfig`,
    apiTlsSecret: `${daemonName}-api-tls`,
    adminTokenSecret: `${daemonName}-admin-token`,
  };
}

/** Where the daemon's pod finds its files: one projected volume at `config`, the claim at `state`. */
export const podPaths = {
  config: '/etc/dynamos',
  settings: '/etc/dynamos/settings.yaml',
  marketplace: '/etc/dynamos/marketplace.yaml',
  caCert: '/etc/dynamos/data-plane-ca/tls.crt',
  caKey: '/etc/dynamos/data-plane-ca/tls.key',
  kubeconfig: '/etc/dynamos/kubeconfig/config',
  apiTlsCert: '/etc/dynamos/api-tls/tls.crt',
  apiTlsKey: '/etc/dynamos/api-tls/tls.key',
  apiTlsClientCa: '/etc/dynamos/api-tls/ca.crt',
  state: '/var/lib/dynamos',
  /** A directory the daemon makes itself (0700), as its keys need: not the claim's root. */
  keysDir: '/var/lib/dynamos/keys',
  tmp: '/tmp',
} as const;

/** The image's entry for the daemon, relative to its working directory (Dockerfile), as for jobs. */
export const daemonCommand = ['node', 'dist/daemon/main.js'];

/** The image runs as the `node` user of the Node.js base image, as the jobs do. */
export const nonRootUser = 1000;

/** The labels of every object `dynamos manifests` makes for one daemon. */
export function commonLabels(daemonName: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'dynamos',
    'app.kubernetes.io/instance': daemonName,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'dynamos',
    'dynamos.io/daemon': daemonName,
  };
}

/** The labels that select the daemon's pod (its Deployment, Service and monitors). */
export function daemonSelector(daemonName: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'dynamos', 'app.kubernetes.io/instance': daemonName, 'app.kubernetes.io/component': 'daemon' };
}
