import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamosError } from '../knowledge/errors.js';
import { createFileOnce, requireOwnerOnly } from '../knowledge/owner-only-files.js';

/** An Ed25519 key pair the daemon keeps in its keys directory. */
export interface StoredKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as SPKI PEM: what the daemon prints and serves. */
  readonly publicPem: string;
  /** Where the private key lives (owner-only), for messages. */
  readonly privateFile: string;
  readonly publicFile: string;
  /** Whether this call created the pair. */
  readonly created: boolean;
}

/**
 * Reads the Ed25519 key pair `<dir>/<name>.key.pem` (PKCS#8, mode 0600) and `<name>.pub.pem`
 * (SPKI), creating both on first use. Creation is atomic: the private key is written to a temp file
 * and hard-linked into place, so two daemons starting at once end up with the same key, never a
 * torn or overwritten one.
 *
 * @throws DynamosError CONFIG_INVALID when the directory cannot be created or a key file cannot be
 *   read or parsed (named in the message).
 */
export function loadOrCreateKeyPair(dir: string, name: string): StoredKeyPair {
  const privateFile = path.join(dir, `${name}.key.pem`);
  const publicFile = path.join(dir, `${name}.pub.pem`);
  let created: boolean;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    created = createIfMissing(privateFile);
  } catch (cause) {
    throw new DynamosError('CONFIG_INVALID', `cannot create the key ${privateFile}: ${(cause as Error).message}`, { retryable: false, cause });
  }
  requireOwnerOnly(dir, privateFile);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(privateFile, 'utf8'));
  } catch (cause) {
    throw new DynamosError('CONFIG_INVALID', `cannot read the key ${privateFile}: ${(cause as Error).message}`, { retryable: false, cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new DynamosError('CONFIG_INVALID', `${privateFile} holds a ${String(privateKey.asymmetricKeyType)} key; an Ed25519 key is expected`, { retryable: false });
  }
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  // The public half is derived, so it is rewritten whenever it is missing or differs.
  let onDisk: string | undefined;
  try {
    onDisk = readFileSync(publicFile, 'utf8');
  } catch {
    onDisk = undefined;
  }
  if (onDisk !== publicPem) writeFileSync(publicFile, publicPem, { mode: 0o644 });
  return { privateKey, publicKey, publicPem, privateFile, publicFile, created };
}

/** Creates the private key file unless it exists; true when this call created it. */
function createIfMissing(privateFile: string): boolean {
  if (existsSync(privateFile)) return false;
  return createFileOnce(privateFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
}
