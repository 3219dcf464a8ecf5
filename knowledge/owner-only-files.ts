import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { DynamosError } from './errors.js';

/**
 * Creates `file` with `text` unless it exists, whole or not at all: written to a temp file,
 * synced, then hard-linked to its name. A link never replaces a file, so two processes starting at
 * once keep the first one's, and a crash leaves at worst a temp file, never a torn one.
 * @returns whether this call created it
 */
export function createFileOnce(file: string, text: string, mode: number): boolean {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Refuses a key another user could have planted or may read: the key file must belong to this
 * process's user and be readable by it alone, and its directory must not be writable by others
 * (who could swap the file). A keys directory put where others write (`--decision-log /tmp/d.jsonl`
 * puts it in /tmp/keys) is then found at start, not trusted.
 * @throws DynamosError CONFIG_INVALID naming each problem
 */
export function requireOwnerOnly(dir: string, file: string): void {
  const uid = process.getuid?.();
  const dirInfo = statSync(dir);
  const fileInfo = statSync(file);
  const problems = [
    ...(uid !== undefined && fileInfo.uid !== uid ? [`${file} belongs to another user (uid ${fileInfo.uid})`] : []),
    ...((fileInfo.mode & 0o077) !== 0 ? [`${file} can be read or written by others (mode ${(fileInfo.mode & 0o777).toString(8)}; chmod 600 it)`] : []),
    ...(uid !== undefined && dirInfo.uid !== uid ? [`${dir} belongs to another user (uid ${dirInfo.uid})`] : []),
    ...((dirInfo.mode & 0o022) !== 0 ? [`${dir} can be written by others (mode ${(dirInfo.mode & 0o777).toString(8)}; chmod 700 it)`] : []),
  ];
  if (problems.length > 0) {
    throw new DynamosError('CONFIG_INVALID', `the key ${file} is not this daemon's alone: ${problems.join('; ')}. Use a keys directory only this user can write (keysDir)`, { retryable: false });
  }
}
