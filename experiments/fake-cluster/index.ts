export type { FakeCluster, FakeClusterOptions, FakeClusterStatus, FakeNamespaceOptions } from './fake-cluster.js';
export { startFakeCluster } from './fake-cluster.js';
export type { FakeClusterWorld } from './fake-cluster-world.js';
export type { FakeClusterFaults, RequestFault, RequestMatch } from './faults.js';
export type { ContainerProcessInfo } from './kubelet.js';
export type { KubeconfigEntry } from './kubeconfig.js';
export { kubeconfigFor } from './kubeconfig.js';
export type { SandboxStatus, SiteLimits } from './site-sandboxes.js';
