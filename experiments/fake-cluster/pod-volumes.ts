import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Container, PodObject, Volume } from './kube-object.js';
import type { ObjectStore } from './object-store.js';

/** Why a pod's volumes cannot be set up yet: the kubelet's FailedMount event, and it retries. */
export class VolumeNotReady extends Error {}

/**
 * Backs each of a pod's volumes with a host directory, as the kubelet mounts them, except that
 * there is no mount namespace: the container sees host paths, reached by rewriting (`MountTable`).
 * - secret: a fresh directory holding the Secret's keys (or its `items`) as files;
 * - emptyDir: a fresh directory; hostPath: the path itself; persistentVolumeClaim: the host
 *   directory the fake's options give for the claim.
 * https://kubernetes.io/docs/concepts/storage/volumes/
 * @returns each volume's host directory, by volume name
 * @throws VolumeNotReady when a Secret or key is missing, a hostPath fails its type check, or a claim is unknown
 */
export async function setUpVolumes(pod: PodObject, podDir: string, store: ObjectStore, persistentVolumes: Readonly<Record<string, string>>): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) dirs.set(volume.name, await setUpVolume(volume, pod, path.join(podDir, 'volumes', volume.name), store, persistentVolumes));
  return dirs;
}

async function setUpVolume(volume: Volume, pod: PodObject, dir: string, store: ObjectStore, persistentVolumes: Readonly<Record<string, string>>): Promise<string> {
  const failed = (why: string) => new VolumeNotReady(`MountVolume.SetUp failed for volume "${volume.name}" : ${why}`);
  if (volume.secret !== undefined) {
    const name = volume.secret.secretName ?? '';
    const secret = store.get('secrets', pod.metadata.namespace, name);
    if (secret === undefined && volume.secret.optional !== true) throw failed(`secret "${name}" not found`);
    const data = (secret?.data as Record<string, string> | undefined) ?? {};
    const items = volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key, mode: undefined as number | undefined }));
    await mkdir(dir, { recursive: true });
    for (const item of items) {
      const encoded = data[item.key];
      if (encoded === undefined) {
        if (volume.secret.optional === true) continue;
        throw failed(`secret "${name}" has no key "${item.key}"`);
      }
      const file = path.join(dir, item.path);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, Buffer.from(encoded, 'base64'));
      await chmod(file, item.mode ?? volume.secret.defaultMode ?? 0o644);
    }
    return dir;
  }
  if (volume.emptyDir !== undefined) {
    await mkdir(dir, { recursive: true });
    return dir;
  }
  if (volume.hostPath !== undefined) return checkHostPath(volume.hostPath.path, volume.hostPath.type ?? '', failed);
  if (volume.persistentVolumeClaim !== undefined) {
    const hostDir = persistentVolumes[volume.persistentVolumeClaim.claimName];
    if (hostDir === undefined) throw failed(`persistentvolumeclaim "${volume.persistentVolumeClaim.claimName}" not found`);
    return hostDir;
  }
  throw failed('the fake cluster backs only secret, emptyDir, hostPath and persistentVolumeClaim volumes');
}

/** https://kubernetes.io/docs/concepts/storage/volumes/#hostpath-volume-types */
async function checkHostPath(hostPath: string, type: string, failed: (why: string) => Error): Promise<string> {
  const found = await stat(hostPath).catch(() => undefined);
  switch (type) {
    case 'DirectoryOrCreate':
      if (found === undefined) await mkdir(hostPath, { recursive: true, mode: 0o755 });
      else if (!found.isDirectory()) throw failed(`hostPath type check failed: ${hostPath} is not a directory`);
      return hostPath;
    case 'Directory':
      if (found?.isDirectory() !== true) throw failed(`hostPath type check failed: ${hostPath} is not a directory`);
      return hostPath;
    case 'FileOrCreate':
      if (found === undefined) await writeFile(hostPath, '', { mode: 0o644 });
      return hostPath;
    case 'File':
      if (found?.isFile() !== true) throw failed(`hostPath type check failed: ${hostPath} is not a file`);
      return hostPath;
    default:
      return hostPath;
  }
}

/**
 * Where a container's paths lead on the host. The fake's one departure from a real kubelet: with
 * no mount namespace, every env value and argument that starts with a volumeMount's mountPath (or
 * is the terminationMessagePath) is rewritten to the host path behind it. Paths inside other
 * strings, or computed by the program, are not.
 */
export class MountTable {
  private readonly mounts: readonly { readonly mountPath: string; readonly hostPath: string }[];

  constructor(container: Container, volumeDirs: ReadonlyMap<string, string>, terminationMessageFile: string) {
    const mounts = (container.volumeMounts ?? []).map((mount) => {
      const base = volumeDirs.get(mount.name) ?? '';
      return { mountPath: trimSlash(mount.mountPath), hostPath: mount.subPath ? path.join(base, mount.subPath) : base };
    });
    mounts.push({ mountPath: trimSlash(container.terminationMessagePath ?? '/dev/termination-log'), hostPath: terminationMessageFile });
    // Longest first: a mount inside another mount wins.
    this.mounts = mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  }

  /** `value` with a leading mount path replaced by the host path behind it. */
  rewrite(value: string): string {
    for (const { mountPath, hostPath } of this.mounts) {
      if (value === mountPath || value.startsWith(`${mountPath}/`)) return hostPath + value.slice(mountPath.length);
    }
    return value;
  }
}

function trimSlash(value: string): string {
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}
