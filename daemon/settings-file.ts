import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { Problem } from '../knowledge/problems.js';
import { problemsFromZod } from '../knowledge/problems.js';
import type { DaemonConfigInput } from './config.js';
import { daemonConfigSchema } from './config.js';
import { describeFileError } from './file-errors.js';

export type SettingsResult = { readonly ok: true; readonly settings: DaemonConfigInput } | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * A deployment's settings file (YAML): the daemon config of `daemon/config.ts`, every problem
 * reported at once with its path, unknown keys refused.
 */
export async function loadSettingsFile(file: string): Promise<SettingsResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [{ path: '(file)', message: `cannot read the settings file (--settings) ${file}: ${describeFileError(error)}` }] };
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((e) => ({ path: '(yaml)', message: e.message.replace(/\s+/g, ' ').trim() })) };
  const value: unknown = doc.toJS() ?? {};
  const parsed = daemonConfigSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problems: problemsFromZod(parsed.error) };
  return { ok: true, settings: value as DaemonConfigInput };
}
