import { z } from 'zod';

/** A DNS-1123 label: a name Kubernetes accepts for a namespace or a label value. */
const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (a DNS label)')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit');

/**
 * Cluster mode (docs/kubernetes.md): each party's job is a single-use batch/v1 Job in the party's
 * namespace. Present in the settings, it replaces the local runner.
 */
export const kubernetesRunnerConfigSchema = z.strictObject({
  /** A kubeconfig file. @default in a pod, its service account; elsewhere $KUBECONFIG or ~/.kube/config */
  kubeconfig: z.string().min(1).optional(),
  /** The image of the daemon and the jobs alike (Dockerfile). */
  image: z.string().min(1, 'name the image the jobs run'),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  /** Labels this daemon's Jobs (`dynamos.io/daemon`), so two daemons sharing a cluster leave each other's alone. */
  daemonName: dnsLabel.default('dynamos'),
  /** The namespace the daemon runs in (manifests). */
  namespace: dnsLabel.default('dynamos'),
  /** A finished Job the daemon could not delete is removed by Kubernetes after this. */
  jobTtlSeconds: z.number().int().min(0).default(60),
  /** The port each job's sidecar listens on, on its pod's IP. */
  dataPlanePort: z.number().int().min(1).max(65535).default(50051),
  /** Time a deleted job's container gets between SIGTERM and SIGKILL. */
  terminationGracePeriodSeconds: z.number().int().min(0).default(5),
});

export type KubernetesRunnerConfig = z.output<typeof kubernetesRunnerConfigSchema>;
export type KubernetesRunnerConfigInput = z.input<typeof kubernetesRunnerConfigSchema>;
