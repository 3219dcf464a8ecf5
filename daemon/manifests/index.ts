export type { KubernetesObject, Manifests, ManifestsInput } from './build-manifests.js';
export { buildManifests } from './build-manifests.js';
export type { OperatorObject } from './pod-settings.js';
export type { MonitorKind } from './monitors.js';
export { monitorKinds } from './monitors.js';
export type { ManifestSources } from './render-manifests.js';
export { renderManifests } from './render-manifests.js';
export { daemonNamesOf, podPaths } from './manifest-names.js';
