import path from 'node:path';
import type { Problem } from '../../knowledge/problems.js';
import type { DaemonConfig, DaemonConfigInput } from '../config.js';
import type { DaemonNames } from './manifest-names.js';
import { podPaths } from './manifest-names.js';

/** Something the manifests refer to that the operator makes (docs/kubernetes.md), never its contents. */
export interface OperatorObject {
  readonly kind: 'Secret' | 'PersistentVolumeClaim';
  readonly namespace: string;
  readonly name: string;
  /** The keys a Secret must hold. */
  readonly keys: readonly string[];
  /** The daemon starts without it. */
  readonly optional: boolean;
  readonly purpose: string;
}

export interface PodSettings {
  /** The settings file the daemon's pod reads: the operator's, its paths turned into the pod's. */
  readonly settings: DaemonConfigInput;
  readonly secrets: readonly OperatorObject[];
  readonly problems: readonly Problem[];
  readonly warnings: readonly string[];
}

/**
 * The settings as the daemon's pod needs them. A path on the operator's machine means nothing in
 * the pod, so every file the settings name becomes a path the manifests mount: the marketplace
 * (ConfigMap), the data-plane CA, the kubeconfig and the listener's TLS (Secrets the operator
 * makes), the decision log and keys (the state claim). A setting that cannot be carried is a
 * problem: an admin token (a secret in a ConfigMap), an issuer key given as a file, port 0.
 */
export function podSettingsOf(input: DaemonConfigInput, config: DaemonConfig, names: DaemonNames, namespace: string): PodSettings {
  const problems: Problem[] = [];
  const secret = (name: string, keys: string[], optional: boolean, purpose: string): OperatorObject => ({ kind: 'Secret', namespace, name, keys, optional, purpose });
  const secrets: OperatorObject[] = [
    secret(names.caSecret, ['tls.crt', 'tls.key'], false, 'the marketplace data-plane CA: certificate and unencrypted key (PEM)'),
    secret(names.adminTokenSecret, ['token'], true, 'a static admin credential (DYNAMOS_ADMIN_TOKEN), at least 16 characters'),
  ];
  if (config.kubernetes?.kubeconfig !== undefined) {
    secrets.push(secret(names.kubeconfigSecret, ['config'], false, 'a kubeconfig: the daemon\'s own cluster as its current context, and every context a site names'));
  }
  if (config.tls !== undefined) {
    const keys = ['tls.crt', 'tls.key', ...(config.tls.clientCaFile === undefined ? [] : ['ca.crt'])];
    secrets.push(secret(names.apiTlsSecret, keys, false, 'HTTPS for the daemon\'s listener (ca.crt: the CA of client certificates)'));
  }
  if (config.port === 0) problems.push({ path: 'port', message: 'pick a fixed port in a cluster: the Service and the probes name it' });
  if (input.adminToken !== undefined) {
    problems.push({ path: 'adminToken', message: `the settings travel in a ConfigMap, which is no place for a credential: remove it and put it in the Secret ${names.adminTokenSecret} (key token) instead` });
  }
  config.auth.issuers.forEach((issuer, i) =>
    (issuer.keys ?? []).forEach((key, j) => {
      if (typeof key === 'string' && !key.includes('-----BEGIN')) {
        problems.push({ path: `auth.issuers[${i}].keys[${j}]`, message: 'a file on this machine is not in the pod: give the PEM text or a JWK instead of its path' });
      }
    }),
  );
  const kubernetes = input.kubernetes === undefined ? undefined : { ...input.kubernetes, ...(input.kubernetes.kubeconfig === undefined ? {} : { kubeconfig: podPaths.kubeconfig }) };
  const tls = input.tls === undefined ? undefined : { certFile: podPaths.apiTlsCert, keyFile: podPaths.apiTlsKey, ...(input.tls.clientCaFile === undefined ? {} : { clientCaFile: podPaths.apiTlsClientCa }) };
  const { dataDir: _dataDir, ...rest } = input;
  const settings: DaemonConfigInput = {
    ...rest,
    // Reached through the Service and the probes, on the pod's own address; '::' also serves IPv4.
    host: config.host === '::' ? '::' : '0.0.0.0',
    marketplaceFile: podPaths.marketplace,
    dataPlane: { ...input.dataPlane, ca: { certFile: podPaths.caCert, keyFile: podPaths.caKey } },
    decisionLogFile: path.posix.join(podPaths.state, path.basename(config.decisionLogFile)),
    keysDir: podPaths.keysDir,
    ...(config.recordFile === undefined ? {} : { recordFile: path.posix.join(podPaths.state, path.basename(config.recordFile)) }),
    ...(kubernetes === undefined ? {} : { kubernetes }),
    ...(tls === undefined ? {} : { tls }),
  };
  return { settings, secrets, problems, warnings: credentialWarnings(config, names) };
}

/** Credentials the settings hold, which anyone who may read ConfigMaps in the namespace can read. */
function credentialWarnings(config: DaemonConfig, names: DaemonNames): string[] {
  const held = [
    ...(config.metrics.source === 'prometheus' && config.metrics.prometheus.auth !== undefined ? ['metrics.prometheus.auth'] : []),
    ...(config.influx?.password !== undefined ? ['influx.password'] : []),
    ...(config.amqp !== undefined && /^amqps?:\/\/[^/]*@/i.test(config.amqp.url) ? ['amqp.url'] : []),
  ];
  return held.map((at) => `${at}: holds a credential, which goes into the ConfigMap ${names.settingsConfigMap} for whoever may read ConfigMaps in the daemon's namespace`);
}
