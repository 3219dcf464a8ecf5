import { closeSync, fsyncSync, mkdirSync, openSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DynamosError } from '../../knowledge/errors.js';
import { createFileOnce, requireOwnerOnly } from '../../knowledge/owner-only-files.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { caFromPem, createMarketplaceCa } from './marketplace-ca.js';
import type { MarketplaceCa } from './marketplace-ca.js';

/** The embedded CA's files in its directory. */
export const caCertFileName = 'data-plane-ca.pem';
export const caKeyFileName = 'data-plane-ca-key.pem';

/** How long a start that lost the race to create the CA waits for the winner's certificate. */
const raceLossWaitMs = 2_000;

/**
 * The embedded default: the CA in `dir`, created there on first start (directory 0700, key 0600);
 * a key another user could read or swap is refused, as the daemon's other keys are.
 * The files are never overwritten: each is linked into place whole, and a start that finds a key
 * already there (another start won the race) loads that one.
 *
 * @throws DynamosError CONFIG_INVALID when only one of the files exists, or one cannot be read, is
 *   not what it should be, or does not belong with the other; the message names the file.
 */
export async function openMarketplaceCa(dir: string, deps: { readonly logger: Logger }): Promise<MarketplaceCa> {
  const certFile = path.join(dir, caCertFileName);
  const keyFile = path.join(dir, caKeyFileName);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw invalid(`cannot create the data-plane CA directory ${dir}: ${(cause as Error).message}`, cause);
  }
  const hasCert = exists(certFile);
  const hasKey = exists(keyFile);
  if (!hasCert && !hasKey) {
    const created = await createMarketplaceCa();
    if (publish(created, certFile, keyFile)) {
      deps.logger.info('created the data-plane CA: every party trusts the certificate, keep the key to this machine', { certFile, keyFile, fingerprint: created.fingerprint });
      return { cert: created.cert, fingerprint: created.fingerprint, issue: created.issue };
    }
    // Another start linked its key first and links its certificate right after.
    await waitFor(certFile, raceLossWaitMs);
  } else if (!hasCert) {
    throw invalid(`${certFile} is missing but ${keyFile} exists: restore the CA certificate, or remove the key so a new CA is created (and every party trusts the new one)`);
  } else if (!hasKey) {
    throw invalid(`${keyFile} is missing but ${certFile} exists: restore the CA key, or remove the certificate so a new CA is created (and every party trusts the new one)`);
  }
  // Whoever reads this key can pose as any party: it is the daemon's alone, as its other keys are.
  requireOwnerOnly(dir, keyFile);
  return loadMarketplaceCa({ certFile, keyFile });
}

/**
 * An operator-supplied CA (cluster mode): read, checked as `openMarketplaceCa` checks, never created.
 *
 * @throws DynamosError CONFIG_INVALID as `openMarketplaceCa` does, and when a file does not exist.
 */
export async function loadMarketplaceCa(files: { readonly certFile: string; readonly keyFile: string }): Promise<MarketplaceCa> {
  const [certPem, keyPem] = await Promise.all([readText(files.certFile, 'certificate'), readText(files.keyFile, 'key')]);
  return caFromPem(certPem, keyPem, files);
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(cause as Error).message}`;
    throw invalid(`the data-plane CA ${what} ${file} ${reason}`, cause);
  }
}

/**
 * Puts the pair in place unless a key is already there; true when this call did. The key goes
 * first, so whoever creates it owns the CA; its certificate follows in the same synchronous step,
 * so no other start in this process sees one without the other.
 */
function publish(pair: { readonly cert: string; readonly key: string }, certFile: string, keyFile: string): boolean {
  try {
    if (!createFileOnce(keyFile, pair.key, 0o600)) return false;
    // A certificate that appeared meanwhile is the operator's; loading then reports the mismatch.
    if (!createFileOnce(certFile, pair.cert, 0o644)) return false;
    syncDirectory(path.dirname(keyFile));
    return true;
  } catch (cause) {
    throw invalid(`cannot create the data-plane CA ${keyFile}: ${(cause as Error).message}`, cause);
  }
}

/** Makes the new names durable; where a directory cannot be opened for syncing, the OS does it later. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not every platform can fsync a directory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw invalid(`cannot look at ${file}: ${(error as Error).message}`, error);
  }
}

async function waitFor(file: string, ms: number): Promise<void> {
  for (let waited = 0; waited < ms && !exists(file); waited += 20) await delay(20);
}

function invalid(message: string, cause?: unknown): DynamosError {
  return new DynamosError('CONFIG_INVALID', message, { retryable: false, cause });
}
