import type { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import type { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { Namespace } from 'kubernetes-models/v1/Namespace';
import type { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { Secret } from 'kubernetes-models/v1/Secret';
import type { Service } from 'kubernetes-models/v1/Service';
import type { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Document } from 'yaml';
import { DynamosError } from '../../knowledge/errors.js';
import type { Problem } from '../../knowledge/problems.js';
import { describeProblems, problemsFromZod } from '../../knowledge/problems.js';
import type { DaemonConfigInput } from '../config.js';
import { daemonConfigSchema } from '../config.js';
import type { ClusterLayout } from './cluster-layout.js';
import { layOutParties, namespacesIn } from './cluster-layout.js';
import { daemonDeployment, daemonService, settingsConfigMap, stateClaim } from './daemon-objects.js';
import type { DaemonNames } from './manifest-names.js';
import { daemonNamesOf } from './manifest-names.js';
import type { MonitorKind } from './monitors.js';
import { monitorOf } from './monitors.js';
import { daemonServiceAccount, namespaceObject, runnerAccess, serviceAccountToken } from './party-access.js';
import type { OperatorObject } from './pod-settings.js';
import { podSettingsOf } from './pod-settings.js';

export type KubernetesObject = Namespace | ServiceAccount | Secret | Role | RoleBinding | ConfigMap | PersistentVolumeClaim | Service | Deployment | ServiceMonitor | PodMonitor;

export interface ManifestsInput {
  /** The settings file as written (loadSettingsFile). */
  readonly settings: DaemonConfigInput;
  /**
   * The marketplace file as written, its parties (stewards and compute providers) and the
   * stewards among them that hold tables.
   */
  readonly marketplace: { readonly text: string; readonly parties: readonly string[]; readonly stewards: readonly string[] };
  /** @default 'none' */
  readonly monitor?: MonitorKind;
  /** A context some site names: that cluster's objects instead of the daemon's cluster's. */
  readonly context?: string | undefined;
}

export interface Manifests {
  /** Whose objects these are: undefined for the daemon's cluster, else the context. */
  readonly context: string | undefined;
  /** In the order to apply them: namespaces first. */
  readonly objects: readonly KubernetesObject[];
  /** What the objects refer to that the operator makes in this cluster. */
  readonly operatorObjects: readonly OperatorObject[];
  /** The contexts of parties' own clusters: each needs `--context` of its own. */
  readonly contexts: readonly string[];
  readonly warnings: readonly string[];
}

/** A ConfigMap holds at most 1 MiB, its keys included. */
const configMapLimitBytes = 1024 * 1024 - 1024;

/**
 * Everything one cluster needs for cluster mode (docs/kubernetes.md): pure, from the settings and
 * the marketplace. The daemon's cluster gets the daemon (namespace, ServiceAccount, settings,
 * state claim, Service, Deployment, a monitor when asked) and the party namespaces with the
 * runner's Role; a party cluster (`context`) gets its namespaces and Roles, bound to a
 * ServiceAccount of the daemon there.
 * @throws DynamosError CONFIG_INVALID with every problem and its path in `details.problems`
 */
export function buildManifests(input: ManifestsInput): Manifests {
  const parsed = daemonConfigSchema.safeParse(input.settings);
  if (!parsed.success) throw invalid(problemsFromZod(parsed.error));
  const config = parsed.data;
  if (config.kubernetes === undefined) throw invalid([{ path: 'kubernetes', message: 'cluster mode needs the kubernetes settings, at least kubernetes.image (docs/kubernetes.md)' }]);
  const kubernetes = config.kubernetes;
  const { daemonName, namespace } = kubernetes;
  const problems: Problem[] = [];
  if (!/^[a-z]/.test(daemonName)) problems.push({ path: 'kubernetes.daemonName', message: 'must start with a letter: it names the daemon\'s Service (a DNS-1035 label)' });
  const names = daemonNamesOf(daemonName);
  const layout = layOutParties(config, input.marketplace.parties, input.marketplace.stewards);
  const pod = podSettingsOf(input.settings, config, names, namespace);
  problems.push(...layout.problems, ...pod.problems);
  if (input.context !== undefined && !layout.contexts.includes(input.context)) {
    const known = layout.contexts.length === 0 ? 'no site names a context' : `the contexts sites name: ${layout.contexts.join(', ')}`;
    problems.push({ path: '--context', message: `no site names context "${input.context}" (${known})` });
  }
  const settingsText = settingsFileText(pod.settings);
  if (Buffer.byteLength(settingsText) + Buffer.byteLength(input.marketplace.text) > configMapLimitBytes) {
    problems.push({ path: 'marketplaceFile', message: 'the settings and the marketplace together pass the 1 MiB a ConfigMap may hold' });
  }
  if (problems.length > 0) throw invalid(problems);

  const warnings = [...layout.warnings, ...pod.warnings];
  const tables = tablesClaims(layout, input.context);
  if (input.context !== undefined) {
    return { context: input.context, objects: partyCluster(layout, input.context, names, namespace), operatorObjects: tables, contexts: layout.contexts, warnings };
  }
  const daemon = { names, namespace, config, kubernetes, settingsText, marketplaceText: input.marketplace.text };
  const monitor = monitorOf(input.monitor ?? 'none', names, namespace, config.tls !== undefined);
  const objects: KubernetesObject[] = [
    ...namespacesOf(layout, undefined, names, namespace),
    daemonServiceAccount(names, namespace),
    ...namespacesIn(layout, undefined).flatMap((ns) => runnerAccess(ns, names, namespace)),
    settingsConfigMap(daemon),
    stateClaim(names, namespace),
    daemonService(daemon),
    daemonDeployment(daemon),
    ...(monitor === undefined ? [] : [monitor]),
  ];
  return { context: undefined, objects, operatorObjects: [...pod.secrets, ...tables], contexts: layout.contexts, warnings };
}

/** A party's own cluster: its namespaces and Roles, and the daemon's ServiceAccount there with a token. */
function partyCluster(layout: ClusterLayout, context: string, names: DaemonNames, namespace: string): KubernetesObject[] {
  return [
    ...namespacesOf(layout, context, names, namespace),
    daemonServiceAccount(names, namespace),
    serviceAccountToken(names, namespace),
    ...namespacesIn(layout, context).flatMap((ns) => runnerAccess(ns, names, namespace)),
  ];
}

/** The daemon's namespace, then each party namespace of the cluster (one object per name). */
function namespacesOf(layout: ClusterLayout, context: string | undefined, names: DaemonNames, daemonNamespace: string): Namespace[] {
  const parties = namespacesIn(layout, context);
  const shared = parties.find((ns) => ns.namespace === daemonNamespace);
  return [
    namespaceObject(daemonNamespace, names.daemon, 'daemon', shared?.parties),
    ...parties.filter((ns) => ns !== shared).map((ns) => namespaceObject(ns.namespace, names.daemon, 'parties', ns.parties)),
  ];
}

/** The claims holding stewards' tables in one cluster: the operator's to make and fill. */
function tablesClaims(layout: ClusterLayout, context: string | undefined): OperatorObject[] {
  return layout.placements.flatMap((p) =>
    p.context === context && p.tables !== undefined
      ? [{ kind: 'PersistentVolumeClaim' as const, namespace: p.namespace, name: p.tables.persistentVolumeClaim, keys: [], optional: false, purpose: `${p.party}'s tables, mounted read-only into its jobs` }]
      : [],
  );
}

/** The pod's settings file, saying where it came from. */
function settingsFileText(settings: DaemonConfigInput): string {
  const doc = new Document(settings);
  doc.commentBefore = " Made by `dynamos manifests` from the operator's settings: every path is the pod's (docs/kubernetes.md).";
  return doc.toString({ lineWidth: 0 });
}

function invalid(problems: readonly Problem[]): DynamosError {
  return new DynamosError('CONFIG_INVALID', `the settings cannot make manifests:\n${describeProblems(problems)}`, { retryable: false, details: { problems } });
}

