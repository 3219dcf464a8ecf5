import { auditSigner } from '../knowledge/audit/checkpoint.js';
import { FileDecisionLog } from '../knowledge/audit/log-file.js';
import { interruptedRecordFor, unfinishedRequests } from '../knowledge/audit/unfinished-requests.js';
import type { Clock } from '../knowledge/ports/clock.js';
import type { Logger } from '../knowledge/ports/logger.js';
import type { DaemonConfig } from './config.js';
import { keysDirOf } from './config.js';
import { loadOrCreateKeyPair } from './key-pair.js';

/** The public half of the key that signs the decision log, as the daemon prints and serves it. */
export interface AuditKey {
  readonly keyId: string;
  readonly publicFile: string;
  readonly publicPem: string;
}

/**
 * Opens the daemon's decision log with its signing key: the Ed25519 pair `audit` in the keys
 * directory, created on first start. Logs where the public key is, so an auditor can take a copy.
 *
 * @throws DynamosError CONFIG_INVALID when the key cannot be read or made, another daemon holds
 *   the log, or the log's end shows tampering (knowledge/audit/log-end.ts).
 */
export async function openDecisionLog(
  config: Pick<DaemonConfig, 'decisionLogFile' | 'keysDir' | 'audit'>,
  deps: { readonly logger: Logger; readonly clock: Clock },
): Promise<{ log: FileDecisionLog; key: AuditKey }> {
  const pair = loadOrCreateKeyPair(keysDirOf(config), 'audit');
  const signer = auditSigner(pair.privateKey);
  const log = await FileDecisionLog.open(config.decisionLogFile, { signer, checkpointEvery: config.audit.checkpointEvery, ...deps });
  if (log.opening.kind === 'recovered') await closeInterrupted(log, deps);
  const key = { keyId: signer.keyId, publicFile: pair.publicFile, publicPem: pair.publicPem };
  deps.logger.info('decision log open, signed with the audit key', {
    file: config.decisionLogFile,
    opened: log.opening.kind,
    head: log.head(),
    keyId: key.keyId,
    publicKeyFile: key.publicFile,
    publicKey: key.publicPem,
    keyCreated: pair.created,
  });
  return { log, key };
}

/**
 * After a daemon died, every request it left in flight gets its `interrupted` record, so every
 * request that got a `started` record has an end in the log.
 */
async function closeInterrupted(log: FileDecisionLog, deps: { readonly logger: Logger; readonly clock: Clock }): Promise<void> {
  const unfinished = await unfinishedRequests(log.file);
  for (const started of unfinished) await log.append(interruptedRecordFor(started, deps.clock.now()));
  if (unfinished.length > 0) {
    deps.logger.warn('the last run ended with requests in flight: each now has an interrupted record', { requests: unfinished.map((r) => r.requestId) });
  }
}
