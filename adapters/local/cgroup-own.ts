import { access, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The cgroups this process is in: its v2 cgroup, and per v1 controller its group in that hierarchy. */
export interface OwnCgroups {
  readonly unified?: string;
  /** Controller (memory, cpu, cpuacct, …) → path within that controller's hierarchy. */
  readonly v1: ReadonlyMap<string, string>;
}

/** Parses `/proc/<pid>/cgroup`: `id:controllers:path` per line, where the path may hold colons. */
export async function readOwnCgroups(file: string): Promise<OwnCgroups> {
  const text = await readFile(file, 'utf8').catch(() => '');
  let unified: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    const [, id, controllers = '', cgroupPath = ''] = match;
    if (id === '0' && controllers === '') unified = cgroupPath;
    else for (const controller of controllers.split(',')) if (controller !== '') v1.set(controller, cgroupPath);
  }
  return unified === undefined ? { v1 } : { unified, v1 };
}

/**
 * Where a cgroup of /proc/self/cgroup is in the mount at `mount`. Undefined when it is outside the
 * mount: a cgroup namespace shows groups above its own root as `/..`.
 */
export function mountedPath(mount: string, cgroupPath: string | undefined): string | undefined {
  if (cgroupPath === undefined) return undefined;
  const dir = path.resolve(mount, `.${cgroupPath}`);
  return dir === mount || dir.startsWith(`${mount}/`) ? dir : undefined;
}

export async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
