import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { JobSpec } from '../../knowledge/ports/job-runner.js';
import type { SiteSettings } from '../../knowledge/site-settings.js';
import type { KubernetesRunnerConfig } from './config.js';
import { jobNameOf, labels, labelValueOf, dnsLabelOf, partyNameAnnotation } from './names.js';

/** Where the pod finds what the runner gives it (docs/designs/013-cluster-mode.md). */
export const podPaths = {
  assignmentDir: '/var/run/dynamos/assignment',
  assignmentFile: 'assignment.json',
  workDir: '/var/run/dynamos/work',
  tablesDir: '/var/lib/dynamos/tables',
  terminationLog: '/dev/termination-log',
} as const;

/** The image's entry for a job, relative to its working directory (Dockerfile). */
export const jobCommand = ['node', 'dist/services/job/job-main.cjs'];
/** The image runs as the `node` user of the Node.js base image. */
const nonRootUser = 1000;

export interface JobManifestInput {
  readonly spec: JobSpec;
  readonly namespace: string;
  readonly config: KubernetesRunnerConfig;
  readonly site: SiteSettings | undefined;
  readonly deadlineMs: number;
  /** The memory one job may use when its site sets none, in MiB (`runner.jobMemoryMiB`). */
  readonly jobMemoryMiB: number;
}

/** The labels that find every object of one daemon, one request, one party. */
export function jobLabels(config: KubernetesRunnerConfig, spec: Pick<JobSpec, 'requestId' | 'party'>): Record<string, string> {
  return {
    [labels.name]: 'dynamos',
    [labels.component]: 'job',
    [labels.managedBy]: 'dynamos',
    [labels.daemon]: config.daemonName,
    [labels.request]: labelValueOf(spec.requestId),
    [labels.party]: dnsLabelOf(spec.party),
  };
}

/**
 * One party's job as a single-use Job: never restarted, gone at the request's deadline, its pod
 * meeting the Pod Security "restricted" profile, bounded by the party's site.
 */
export function jobManifest(input: JobManifestInput): V1Job {
  const { spec, config, site } = input;
  const name = jobNameOf(spec.requestId, spec.party);
  const metadata = { labels: jobLabels(config, spec), annotations: { [partyNameAnnotation]: spec.party } };
  const memoryMiB = Math.min(site?.memoryMiB ?? Infinity, input.jobMemoryMiB);
  const resources = {
    ...(site?.cpus === undefined ? {} : { cpu: `${Math.round(site.cpus * 1000)}m` }),
    memory: `${memoryMiB}Mi`,
  };
  const tables = site?.kubernetes?.tables;
  const env = [
    { name: 'DYNAMOS_JOB_ASSIGNMENT', value: `${podPaths.assignmentDir}/${podPaths.assignmentFile}` },
    { name: 'DYNAMOS_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'DYNAMOS_DATA_PLANE_PORT', value: String(config.dataPlanePort) },
    { name: 'DYNAMOS_WORK_DIR', value: podPaths.workDir },
    { name: 'DYNAMOS_TERMINATION_LOG', value: podPaths.terminationLog },
    // DuckDB gets half the job's memory and V8 a quarter, as on the embedded default.
    { name: 'DYNAMOS_JOB_MEMORY_LIMIT', value: `${Math.floor(memoryMiB / 2)}MB` },
    { name: 'NODE_OPTIONS', value: `--max-old-space-size=${Math.max(128, Math.floor(memoryMiB / 4))}` },
    ...(tables === undefined ? [] : [{ name: 'DYNAMOS_TABLES_DIR', value: podPaths.tablesDir }]),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: input.namespace, ...metadata },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(input.deadlineMs / 1000)),
      ttlSecondsAfterFinished: config.jobTtlSeconds,
      template: {
        metadata,
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: config.terminationGracePeriodSeconds,
          securityContext: { runAsNonRoot: true, runAsUser: nonRootUser, runAsGroup: nonRootUser, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'job',
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              command: jobCommand,
              env,
              ports: [{ name: 'data-plane', containerPort: config.dataPlanePort, protocol: 'TCP' }],
              resources: { requests: resources, limits: resources },
              terminationMessagePath: podPaths.terminationLog,
              terminationMessagePolicy: 'File',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
              volumeMounts: [
                { name: 'assignment', mountPath: podPaths.assignmentDir, readOnly: true },
                { name: 'work', mountPath: podPaths.workDir },
                ...(tables === undefined ? [] : [{ name: 'tables', mountPath: podPaths.tablesDir, readOnly: true }]),
              ],
            },
          ],
          volumes: [
            { name: 'assignment', secret: { secretName: name, defaultMode: 0o400 } },
            { name: 'work', emptyDir: {} },
            ...(tables === undefined ? [] : [{ name: 'tables', persistentVolumeClaim: { claimName: tables.persistentVolumeClaim, readOnly: true } }]),
          ],
        },
      },
    },
  };
}

/**
 * The job's assignment, owned by its Job: deleting the Job (Background) removes it, and nothing
 * of the party's key outlives the job in the cluster.
 */
export function assignmentSecret(job: V1Job, assignment: unknown): V1Secret {
  const { name, namespace, uid, labels: jobLabelSet } = job.metadata ?? {};
  if (name === undefined || uid === undefined) throw new Error('the Job has no name or uid yet: create it first');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      ...(jobLabelSet === undefined ? {} : { labels: jobLabelSet }),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid }],
    },
    data: { [podPaths.assignmentFile]: Buffer.from(JSON.stringify(assignment)).toString('base64') },
  };
}
