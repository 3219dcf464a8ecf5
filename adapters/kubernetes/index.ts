export type { KubernetesRunnerConfig, KubernetesRunnerConfigInput } from './config.js';
export { kubernetesRunnerConfigSchema } from './config.js';
export type { KubernetesJobRunnerDeps } from './kubernetes-job-runner.js';
export { KubernetesJobRunner } from './kubernetes-job-runner.js';
