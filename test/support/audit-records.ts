import { generateKeyPairSync } from 'node:crypto';
import type { AuditSigner } from '../../knowledge/audit/checkpoint.js';
import { auditSigner } from '../../knowledge/audit/checkpoint.js';
import type { UnsealedRecord } from '../../knowledge/audit/decision-log.js';

/** A signer over a fresh Ed25519 key, as the daemon's audit key pair would give. */
export function testSigner(): AuditSigner {
  return auditSigner(generateKeyPairSync('ed25519').privateKey);
}

/** A decided request as the request loop would hand it to the decision log. */
export function decision(requestId: string, archetype = 'computeToData'): UnsealedRecord {
  return {
    at: 1_700_000_000_000,
    requestId,
    requester: 'analyst@uva.example',
    requestType: 'sqlDataRequest',
    providers: ['VU', 'UVA'],
    inputsDigest: 'a'.repeat(64),
    policyRevision: '0123456789ab',
    strategy: 'dynamos',
    candidates: [],
    choice: { archetype },
    reason: 'rule 2',
    chains: [],
    outcome: { kind: 'completed', latencyMs: 120, bytes: 46, cpuSeconds: 0.2, energyJoules: 2 },
  };
}
