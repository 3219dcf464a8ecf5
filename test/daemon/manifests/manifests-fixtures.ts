import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { DaemonConfigInput } from '../../../daemon/config.js';
import type { KubernetesObject, Manifests, ManifestsInput } from '../../../daemon/manifests/index.js';
import { buildManifests } from '../../../daemon/manifests/index.js';
import { exampleMarketplaceFile, repoRoot } from '../../support/fixtures.js';

export const clusterSettingsFile = path.join(repoRoot, 'experiments', 'deployments', 'cluster.yaml');

/** experiments/deployments/cluster.yaml as written, a fresh copy each call. */
export function clusterSettings(): DaemonConfigInput {
  return parse(readFileSync(clusterSettingsFile, 'utf8')) as DaemonConfigInput;
}

export const exampleMarketplace = {
  text: readFileSync(exampleMarketplaceFile, 'utf8'),
  parties: ['UVA', 'VU', 'RUG', 'SURF', 'otherCompany'],
  stewards: ['UVA', 'VU', 'RUG'],
};

/** The manifests of the example marketplace with `settings` (default: cluster.yaml). */
export function manifestsOf(settings: DaemonConfigInput = clusterSettings(), opts: Partial<Omit<ManifestsInput, 'settings' | 'marketplace'>> = {}): Manifests {
  return buildManifests({ settings, marketplace: exampleMarketplace, ...opts });
}

/** cluster.yaml with SURF in a cluster of its own, reached through the daemon's kubeconfig. */
export function withSurfAway(): DaemonConfigInput {
  const s = clusterSettings();
  return { ...s, kubernetes: { ...s.kubernetes, image: 'dynamos-ts:0.1.0', kubeconfig: '/home/op/.kube/dynamos' }, sites: { ...s.sites, SURF: { cpus: 1, kubernetes: { context: 'surf-cluster' } } } };
}

/** cluster.yaml with HTTPS on the listener (client certificates too) and a kubeconfig. */
export function withEverySecret(): DaemonConfigInput {
  return { ...withSurfAway(), tls: { certFile: 'api.crt', keyFile: 'api.key', clientCaFile: 'clients.crt' } };
}

export function ofKind<K extends KubernetesObject['kind']>(m: Manifests, kind: K): Extract<KubernetesObject, { kind: K }>[] {
  return m.objects.filter((o): o is Extract<KubernetesObject, { kind: K }> => o.kind === kind);
}

export function onlyOf<K extends KubernetesObject['kind']>(m: Manifests, kind: K): Extract<KubernetesObject, { kind: K }> {
  const found = ofKind(m, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as Extract<KubernetesObject, { kind: K }>;
}
