import { access, constants, mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerLog } from './container-process.js';
import { ContainerConfigError, expandReferences, resolveEnvironment } from './container-env.js';
import type { Container, PodObject } from './kube-object.js';
import type { ObjectStore } from './object-store.js';
import { MountTable } from './pod-volumes.js';

/** What the kubelet needs to run a container as a local process, or why it cannot (the waiting reason). */
export type ContainerPlan =
  | { readonly kind: 'ready'; readonly command: readonly string[]; readonly cwd: string; readonly env: Record<string, string>; readonly terminationMessageFile: string }
  | { readonly kind: 'waiting'; readonly reason: 'CreateContainerConfigError' | 'CreateContainerError'; readonly message: string }
  | { readonly kind: 'startError'; readonly message: string };

/** A reference a registry would accept (repository, optional tag or digest); anything else is InvalidImageName. */
const imageReference = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function isValidImageReference(image: string): boolean {
  return imageReference.test(image);
}

export interface PlanInputs {
  readonly pod: PodObject;
  readonly container: Container;
  readonly imageDir: string;
  readonly volumeDirs: ReadonlyMap<string, string>;
  readonly containerDir: string;
  readonly store: ObjectStore;
  readonly nodeAllocatable: Readonly<Record<string, string>>;
  /** The host's PATH, which stands in for the image's own. */
  readonly hostPath: string;
}

/**
 * Plans a container's process: its environment (the container's `env` only, plus PATH, HOME and
 * HOSTNAME as an image and runtime give them), `$(VAR)` expanded in command and args, paths under
 * its mounts rewritten to the host directories behind them, and its working directory: the
 * image's directory, or `workingDir` (under a mount, or inside the image's directory).
 * https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/
 */
export async function planContainer(inputs: PlanInputs): Promise<ContainerPlan> {
  const { pod, container, imageDir, containerDir } = inputs;
  let variables: Map<string, string>;
  try {
    variables = resolveEnvironment(container, pod, inputs.store, inputs.nodeAllocatable);
  } catch (error) {
    if (error instanceof ContainerConfigError) return { kind: 'waiting', reason: 'CreateContainerConfigError', message: error.message };
    throw error;
  }
  const terminationMessageFile = path.join(containerDir, 'termination-log');
  const mounts = new MountTable(container, inputs.volumeDirs, terminationMessageFile);
  const argv = [...(container.command ?? []), ...(container.args ?? [])].map((arg) => mounts.rewrite(expandReferences(arg, variables)));
  if (argv.length === 0) return { kind: 'waiting', reason: 'CreateContainerError', message: 'the fake cluster\'s images have no entrypoint: give the container a command' };
  const home = path.join(containerDir, 'home');
  await mkdir(home, { recursive: true });
  const env: Record<string, string> = { PATH: inputs.hostPath, HOME: home, HOSTNAME: pod.metadata.name ?? '' };
  for (const [name, value] of variables) env[name] = mounts.rewrite(value);
  const workingDir = container.workingDir;
  const cwd = workingDir === undefined || workingDir === '' ? imageDir : mounts.rewrite(workingDir) !== workingDir ? mounts.rewrite(workingDir) : path.join(imageDir, workingDir);
  const executable = await findExecutable(argv[0] ?? '', cwd, env.PATH ?? '');
  if (executable === undefined) {
    return { kind: 'startError', message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv[0] ?? ''}": executable file not found in $PATH: unknown` };
  }
  // The kubelet creates the termination message file empty before each start.
  await writeFile(terminationMessageFile, '');
  return { kind: 'ready', command: argv, cwd, env, terminationMessageFile };
}

async function findExecutable(command: string, cwd: string, searchPath: string): Promise<string | undefined> {
  const candidates = command.includes('/') ? [path.resolve(cwd, command)] : searchPath.split(':').filter(Boolean).map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** Kubernetes reads at most this much of the termination message file. */
const terminationMessageBytes = 4096;
/** FallbackToLogsOnError takes at most the last 80 lines, 2 KiB, of the log. */
const fallbackLines = 80;
const fallbackBytes = 2048;

/**
 * The container's termination message: its terminationMessagePath file (at most 4096 bytes), or
 * with FallbackToLogsOnError and an empty file after a failure, the end of its log.
 * https://kubernetes.io/docs/tasks/debug/debug-application/determine-reason-pod-failure/#customizing-the-termination-message
 */
export async function readTerminationMessage(file: string | undefined, policy: string | undefined, exitCode: number, log: ContainerLog): Promise<string | undefined> {
  let text = '';
  if (file !== undefined) {
    const handle = await open(file, 'r').catch(() => undefined);
    if (handle !== undefined) {
      try {
        const buffer = Buffer.alloc(terminationMessageBytes);
        const { bytesRead } = await handle.read(buffer, 0, terminationMessageBytes, 0);
        text = buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await handle.close();
      }
    }
  }
  if (text === '' && policy === 'FallbackToLogsOnError' && exitCode !== 0) {
    const tail = Buffer.from(log.tail(fallbackLines), 'utf8');
    text = tail.subarray(Math.max(0, tail.length - fallbackBytes)).toString('utf8');
  }
  return text === '' ? undefined : text;
}
