import { readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { DynamosError } from '../errors.js';
import { isProcessAlive } from '../process-alive.js';

/**
 * How long the lock of a holder that stopped refreshing it keeps blocking the next start, when
 * that holder was on another machine (a shared disk) or its pid cannot be told dead. The lock of a
 * daemon of this machine that was killed is taken over at once. A live holder refreshes it every half
 * of this; proper-lockfile's default.
 */
export const lockStaleMs = 10_000;

/** Who holds a log's lock, as written beside the lock for the message of whoever is refused. */
interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** One writer's hold on a log file, from open to close. */
export interface LogLock {
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock of a log file: a directory `<file>.lock` (proper-lockfile: atomic
 * mkdir, kept fresh while held, stale {@link lockStaleMs} after the holder stops) and, beside it,
 * `<file>.lock.holder` naming the holder. The lock is per file, so a second open in the same
 * process is refused as well.
 *
 * @param onLost called if the lock is lost while held (its directory removed, or not refreshed in
 *   time because the event loop stalled): another process may then write the file.
 * @throws DynamosError CONFIG_INVALID naming the log and its holder when another writer holds it,
 *   or when the lock cannot be taken at all.
 */
export async function lockLogFile(file: string, onLost: (error: Error) => void): Promise<LogLock> {
  const target = canonicalPath(file);
  const holderFile = `${target}.lock.holder`;
  const take = () => lockfile.lock(target, { realpath: false, stale: lockStaleMs, retries: 0, onCompromised: onLost });
  let release: () => Promise<void>;
  try {
    release = await take().catch(async (cause: unknown) => {
      // A daemon killed on this machine left its lock: no need to wait for it to go stale.
      if ((cause as NodeJS.ErrnoException).code !== 'ELOCKED' || !heldByTheDead(holderFile)) throw cause;
      rmSync(`${target}.lock`, { recursive: true, force: true });
      return take();
    });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ELOCKED') throw heldElsewhere(file, target, holderFile);
    throw new DynamosError('CONFIG_INVALID', `cannot lock the decision log ${file}: ${(cause as Error).message}`, { retryable: false, cause });
  }
  const holder: Holder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  try {
    writeFileSync(holderFile, `${JSON.stringify(holder)}\n`);
  } catch (cause) {
    await release();
    throw new DynamosError('CONFIG_INVALID', `cannot lock the decision log ${file}: ${(cause as Error).message}`, { retryable: false, cause });
  }
  return {
    release: async () => {
      rmSync(holderFile, { force: true });
      await release();
    },
  };
}

/** The file itself when it exists (through any symlink), else its directory's real path: one lock per file. */
function canonicalPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.join(realpathSync(path.dirname(path.resolve(file))), path.basename(file));
  }
}

function heldElsewhere(file: string, target: string, holderFile: string): DynamosError {
  const holder = readHolder(holderFile);
  const here = holder !== undefined && holder.host === os.hostname();
  if (here && holder.pid === process.pid) {
    return new DynamosError('CONFIG_INVALID', `the decision log ${file} is open already in this process (pid ${holder.pid}): one writer per log; close it first, or give the second its own log`, {
      retryable: false,
      details: { log: file, holder },
    });
  }
  const who = holder === undefined ? 'another process' : `pid ${holder.pid} on ${holder.host}, since ${holder.since}`;
  let stale = `If that daemon was killed, its lock expires ${lockStaleMs / 1000} s after its last refresh; start again then.`;
  if (here && !isProcessAlive(holder.pid)) {
    const left = expiresInMs(`${target}.lock`);
    stale = `pid ${holder.pid} is no longer running: its lock expires ${left === undefined ? `within ${lockStaleMs / 1000} s` : `in ${Math.ceil(left / 1000)} s`}; start again then.`;
  }
  return new DynamosError(
    'CONFIG_INVALID',
    `the decision log ${file} is in use by ${who}: one daemon writes a log. Stop that daemon, or give this one its own log (--decision-log FILE or decisionLogFile). ${stale}`,
    { retryable: true, details: { log: file, holder: holder ?? null } },
  );
}

/** Whether the lock's holder was a process of this machine that is gone (not this process). */
function heldByTheDead(holderFile: string): boolean {
  const holder = readHolder(holderFile);
  return holder !== undefined && holder.host === os.hostname() && holder.pid !== process.pid && !isProcessAlive(holder.pid);
}

function readHolder(holderFile: string): Holder | undefined {
  try {
    const holder = JSON.parse(readFileSync(holderFile, 'utf8')) as Partial<Holder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' && typeof holder.since === 'string' ? (holder as Holder) : undefined;
  } catch {
    return undefined;
  }
}

function expiresInMs(lockDir: string): number | undefined {
  try {
    return Math.max(0, statSync(lockDir).mtimeMs + lockStaleMs - Date.now());
  } catch {
    return undefined;
  }
}
