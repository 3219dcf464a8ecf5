import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Plain files shaped like a cgroup mount, in temp directories: enough to see where a probe looks,
 * never usable. `removeAll` (in an `after`) deletes every tree made.
 */
export function fakeCgroupTrees(): { make(files: Record<string, string>): Promise<string>; removeAll(): Promise<void> } {
  const roots: string[] = [];
  return {
    async make(files) {
      const root = await mkdtemp(path.join(os.tmpdir(), 'fake-cgroup-'));
      roots.push(root);
      for (const [file, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(root, file)), { recursive: true });
        await writeFile(path.join(root, file), text);
      }
      return root;
    },
    removeAll: async () => void (await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })))),
  };
}

/** Skips the suite, saying why, unless the tests run as root (`what` needs it). */
export function skipUnlessRoot(suite: Mocha.Context, what: string): void {
  if (process.getuid?.() === 0) return;
  console.log(`    (skipped: not root (uid ${process.getuid?.()}); ${what} need root)`);
  suite.skip();
}
