import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobMessage, RunnerMessage } from './job-protocol.js';

/**
 * A job in a Kubernetes pod (docs/designs/013-cluster-mode.md): its assignment is a file from a
 * Secret volume, its outcome the container's termination message. What only the pod knows (its
 * IP, its port, where its volumes are mounted) comes from the environment.
 */
export interface PodEnvironment {
  readonly assignmentFile: string;
  readonly podIp: string;
  readonly port: number;
  readonly workDir: string;
  readonly tablesDir?: string;
  readonly terminationLog: string;
}

/** The pod's environment, or undefined when this process is not a job in a pod. */
export function podEnvironmentOf(env: NodeJS.ProcessEnv): PodEnvironment | undefined {
  const assignmentFile = env['DYNAMOS_JOB_ASSIGNMENT'];
  if (assignmentFile === undefined || assignmentFile === '') return undefined;
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`${name} is not set: a job in a pod needs it (docs/designs/013-cluster-mode.md)`);
    return value;
  };
  const port = Number(required('DYNAMOS_DATA_PLANE_PORT'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`DYNAMOS_DATA_PLANE_PORT must be a port number, not ${env['DYNAMOS_DATA_PLANE_PORT']}`);
  const tablesDir = env['DYNAMOS_TABLES_DIR'];
  return {
    assignmentFile,
    podIp: required('DYNAMOS_POD_IP'),
    port,
    workDir: required('DYNAMOS_WORK_DIR'),
    ...(tablesDir === undefined || tablesDir === '' ? {} : { tablesDir }),
    terminationLog: required('DYNAMOS_TERMINATION_LOG'),
  };
}

/** The assignment as the runner wrote it, placed in this pod: its address, work dir and table files. */
export function readPodAssignment(pod: PodEnvironment): RunnerMessage {
  const written = JSON.parse(readFileSync(pod.assignmentFile, 'utf8')) as RunnerMessage;
  const tables = written.spec.tables.map((table) => {
    if (path.isAbsolute(table.file)) throw new Error(`table ${table.name}: a pod reads table files inside its tables volume, not ${table.file}`);
    if (pod.tablesDir === undefined) throw new Error(`table ${table.name}: this pod has no tables volume (DYNAMOS_TABLES_DIR)`);
    const root = path.resolve(pod.tablesDir);
    const file = path.resolve(root, table.file);
    if (!file.startsWith(root + path.sep)) throw new Error(`table ${table.name}: ${table.file} is outside the tables volume`);
    return { ...table, file };
  });
  return { ...written, spec: { ...written.spec, tables }, listenHost: pod.podIp, listenPort: pod.port, tempDir: pod.workDir, waitForProducers: true };
}

/** Kubernetes reads at most 4096 bytes of a termination message. */
const terminationMessageBytes = 4096;

/** Writes the outcome where Kubernetes reads the termination message: one JSON line. */
export function writeTerminationMessage(pod: PodEnvironment, outcome: JobMessage): void {
  const bounded = outcome.type === 'failed' ? { ...outcome, message: outcome.message.slice(0, 1024) } : outcome;
  let text = JSON.stringify(bounded);
  if (Buffer.byteLength(text) > terminationMessageBytes && (bounded.type === 'done' || bounded.type === 'failed')) {
    // The stages are the only part that grows; the code and message must survive.
    text = JSON.stringify({ ...bounded, stats: { ...bounded.stats, stages: [] } });
  }
  writeFileSync(pod.terminationLog, text);
}
