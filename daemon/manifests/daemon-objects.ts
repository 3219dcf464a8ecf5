import { createHash } from 'node:crypto';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { Service } from 'kubernetes-models/v1/Service';
import type { IVolumeProjection } from 'kubernetes-models/v1/VolumeProjection';
import type { KubernetesRunnerConfig } from '../../adapters/kubernetes/config.js';
import type { DaemonConfig } from '../config.js';
import type { DaemonNames } from './manifest-names.js';
import { commonLabels, daemonCommand, daemonSelector, nonRootUser, podPaths } from './manifest-names.js';

/** What the daemon's pod gets, fixed: a newcomer's cluster runs it, an operator patches it. */
export const daemonResources = { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } };
/** The decision log, the keys and a recorded trace. */
export const stateClaimSize = '1Gi';
/** Read-only for the daemon's user through its group (fsGroup): 0440. */
const readOnlyMode = 0o440;

export interface DaemonObjectsInput {
  readonly names: DaemonNames;
  readonly namespace: string;
  readonly config: DaemonConfig;
  readonly kubernetes: KubernetesRunnerConfig;
  /** The pod's settings file (YAML) and the marketplace file as written. */
  readonly settingsText: string;
  readonly marketplaceText: string;
}

/** The settings and the marketplace, read by the daemon from its projected volume. */
export function settingsConfigMap(input: DaemonObjectsInput): ConfigMap {
  const { names, namespace } = input;
  return new ConfigMap({
    metadata: { name: names.settingsConfigMap, namespace, labels: commonLabels(names.daemon, 'daemon') },
    data: { 'settings.yaml': input.settingsText, 'marketplace.yaml': input.marketplaceText },
  });
}

/** The daemon's state: the hash-chained decision log and its keys (one writer: one pod). */
export function stateClaim(names: DaemonNames, namespace: string): PersistentVolumeClaim {
  return new PersistentVolumeClaim({
    metadata: { name: names.stateClaim, namespace, labels: commonLabels(names.daemon, 'daemon') },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: stateClaimSize } } },
  });
}

/** The API, `/healthz` and `/metrics`, all on the one HTTP port. */
export function daemonService(input: DaemonObjectsInput): Service {
  const { names, namespace, config } = input;
  return new Service({
    metadata: { name: names.app, namespace, labels: commonLabels(names.daemon, 'daemon') },
    spec: { type: 'ClusterIP', selector: daemonSelector(names.daemon), ports: [{ name: 'http', port: config.port, targetPort: 'http', protocol: 'TCP' }] },
  });
}

/**
 * One daemon: one replica, replaced with Recreate because the decision log has one writer (a
 * rolling update would run two). Its pod meets Pod Security "restricted" and restarts when the
 * settings or the marketplace change (a digest of both in its template): a ConfigMap volume's
 * update does not reach the daemon's file watch.
 */
export function daemonDeployment(input: DaemonObjectsInput): Deployment {
  const { names, namespace, config, kubernetes } = input;
  const scheme = config.tls === undefined ? 'HTTP' : 'HTTPS';
  const probe = (periodSeconds: number, failureThreshold: number): IProbe => ({ httpGet: { path: '/healthz', port: 'http', scheme }, periodSeconds, failureThreshold, timeoutSeconds: 5 });
  const digest = createHash('sha256').update(input.settingsText).update('\0').update(input.marketplaceText).digest('hex').slice(0, 16);
  const labels = commonLabels(names.daemon, 'daemon');
  return new Deployment({
    metadata: { name: names.app, namespace, labels },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: daemonSelector(names.daemon) },
      template: {
        metadata: { labels, annotations: { 'dynamos.io/config-digest': digest } },
        spec: {
          serviceAccountName: names.app,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: nonRootUser,
            runAsGroup: nonRootUser,
            fsGroup: nonRootUser,
            // "Always" would re-mode every file at each start, making the keys group-readable,
            // which the daemon refuses (knowledge/owner-only-files.ts).
            fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'daemon',
              image: kubernetes.image,
              imagePullPolicy: kubernetes.imagePullPolicy,
              command: daemonCommand,
              args: ['serve', '--settings', podPaths.settings],
              ports: [{ name: 'http', containerPort: config.port, protocol: 'TCP' }],
              env: [
                { name: 'DYNAMOS_ADMIN_TOKEN', valueFrom: { secretKeyRef: { name: names.adminTokenSecret, key: 'token', optional: true } } },
                // The root filesystem is read-only; whatever wants a home directory gets /tmp.
                { name: 'HOME', value: podPaths.tmp },
              ],
              startupProbe: probe(2, 30),
              readinessProbe: probe(10, 3),
              livenessProbe: probe(20, 3),
              resources: daemonResources,
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'config', mountPath: podPaths.config, readOnly: true },
                { name: 'state', mountPath: podPaths.state },
                { name: 'tmp', mountPath: podPaths.tmp },
              ],
            },
          ],
          volumes: [
            { name: 'config', projected: { defaultMode: readOnlyMode, sources: configSources(input) } },
            { name: 'state', persistentVolumeClaim: { claimName: names.stateClaim } },
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
          ],
        },
      },
    },
  });
}

/** Everything under /etc/dynamos: the ConfigMap, and the Secrets the operator makes. */
function configSources(input: DaemonObjectsInput): IVolumeProjection[] {
  const { names, config, kubernetes } = input;
  const below = (dir: string, keys: readonly string[]) => keys.map((key) => ({ key, path: `${dir}/${key}` }));
  return [
    { configMap: { name: names.settingsConfigMap, items: [{ key: 'settings.yaml', path: 'settings.yaml' }, { key: 'marketplace.yaml', path: 'marketplace.yaml' }] } },
    { secret: { name: names.caSecret, items: below('data-plane-ca', ['tls.crt', 'tls.key']) } },
    ...(kubernetes.kubeconfig === undefined ? [] : [{ secret: { name: names.kubeconfigSecret, items: below('kubeconfig', ['config']) } }]),
    ...(config.tls === undefined ? [] : [{ secret: { name: names.apiTlsSecret, items: below('api-tls', ['tls.crt', 'tls.key', ...(config.tls.clientCaFile === undefined ? [] : ['ca.crt'])]) } }]),
  ];
}
