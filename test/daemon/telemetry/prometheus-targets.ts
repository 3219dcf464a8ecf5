import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One entry of a Prometheus file_sd JSON file. */
export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Adds (or, with `entry` undefined, removes) the group scraping `target`, keeping every other
 * group. Written to a temp file in the same directory and renamed over the file, so Prometheus
 * (which watches the file) never reads half of it.
 */
export async function setTargetGroup(file: string, target: string, entry: TargetGroup | undefined): Promise<void> {
  const current = JSON.parse(await readFile(file, 'utf8')) as TargetGroup[];
  const others = current.filter((group) => !group.targets.includes(target));
  const next = entry === undefined ? others : [...others, entry];
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
  await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`);
  await rename(temp, file);
}
