import os from 'node:os';
import path from 'node:path';
import type { TableSource } from '../../knowledge/ports/job-runner.js';

/**
 * A job's error message as the requester may read it (docs/security.md): its first line only, a
 * CSV error without the raw line it quotes, and no host path (a table's file, its directory, the
 * job's temp directory, the system's temp, home and working directories), each replaced by what
 * it is. Messages the data plane writes itself name tables, not files; this is the net under them
 * and under DuckDB's.
 */
export function publicMessage(message: string, job: { readonly tables: readonly TableSource[]; readonly tempDir?: string }): string {
  let text = message.split('\n')[0] ?? '';
  const csvLine = /CSV Error on Line: (\d+)/.exec(text)?.[1];
  if (csvLine !== undefined) text = `${text.slice(0, text.indexOf('CSV Error'))}a table file has a malformed line (line ${csvLine})`;
  const places: [string, string][] = [
    ...job.tables.map((t): [string, string] => [t.file, `<file of table ${t.name}>`]),
    ...job.tables.map((t): [string, string] => [path.dirname(t.file), '<data directory>']),
    ...(job.tempDir === undefined ? [] : [[job.tempDir, '<job temp directory>'] as [string, string]]),
    [os.tmpdir(), '<temp directory>'],
    [os.homedir(), '<home directory>'],
    [process.cwd(), '<working directory>'],
  ];
  // Longest first, so a file is named before the directory that holds it.
  for (const [place, label] of places.filter(([p]) => p.length > 1).sort((a, b) => b[0].length - a[0].length)) {
    text = text.replaceAll(place, label);
  }
  return text;
}
