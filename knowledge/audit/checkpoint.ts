import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import type { DecisionRecord } from './decision-record.js';

/**
 * Why the daemon signed a checkpoint: it opened a log that ended cleanly (or a new one), another
 * `every` records were written, it shut down, or it opened a log that did not end cleanly
 * (`recovery`: the records written since the last checkpoint are signed now, late).
 */
export const checkpointReasons = ['open', 'every', 'close', 'recovery'] as const;
export type CheckpointReason = (typeof checkpointReasons)[number];

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex');

const checkpointBodySchema = z.strictObject({
  /** 1, 2, 3, … in the log: a gap shows a removed checkpoint. */
  n: z.number().int().positive(),
  /** The `seq` of the newest record so far: how many records the log holds. */
  records: z.number().int().min(0),
  /** That record's hash (the genesis hash for none): the chain head being signed. */
  head: sha256Hex,
  at: z.number(),
  keyId: z.string().min(1),
  reason: z.enum(checkpointReasons),
  /** The daemon's interval when it signed: more unsigned records than this means checkpoints were removed. */
  every: z.number().int().positive(),
});

/** What a checkpoint signs. */
export type CheckpointBody = z.infer<typeof checkpointBodySchema>;

/** A checkpoint as one line of the decision log: `{"checkpoint":{…},"signature":"<base64>"}`. */
export interface Checkpoint {
  readonly checkpoint: CheckpointBody;
  readonly signature: string;
}

const checkpointSchema = z.strictObject({ checkpoint: checkpointBodySchema, signature: z.string().min(1) });

/** The chain head with a fresh signature, as `GET /api/v1/audit/head` serves it. */
export interface SignedHead {
  readonly seq: number;
  readonly hash: string;
  readonly at: number;
  readonly keyId: string;
  readonly signature: string;
}

/**
 * Signs with the daemon's Ed25519 key. Each signed message starts with its own tag, so a signed
 * head can never pass for a checkpoint, nor the reverse.
 */
export interface AuditSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(message: Buffer): Buffer;
}

const checkpointTag = 'dynamos audit checkpoint v1\n';
const headTag = 'dynamos audit head v1\n';

/** A key's short id: the first 16 hex digits of the sha256 of its SPKI DER form. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** A signer over an Ed25519 private key. */
export function auditSigner(privateKey: KeyObject): AuditSigner {
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), publicKey, sign: (message) => sign(null, message, privateKey) };
}

/** Signs the chain head at `records` as a checkpoint line of the log. */
export function signCheckpoint(body: Omit<CheckpointBody, 'keyId'>, signer: AuditSigner): Checkpoint {
  const checkpoint = { ...body, keyId: signer.keyId };
  return { checkpoint, signature: signer.sign(Buffer.from(checkpointTag + canonicalJson(checkpoint))).toString('base64') };
}

/** Whether `key` signed exactly this checkpoint. */
export function checkpointSignatureValid(c: Checkpoint, key: KeyObject): boolean {
  return signatureValid(checkpointTag + canonicalJson(c.checkpoint), c.signature, key);
}

export function signHead(head: { readonly seq: number; readonly hash: string }, at: number, signer: AuditSigner): SignedHead {
  const body = { seq: head.seq, hash: head.hash, at, keyId: signer.keyId };
  return { ...body, signature: signer.sign(Buffer.from(headTag + canonicalJson(body))).toString('base64') };
}

/** Whether `key` signed this head: what an auditor checks before trusting a head they were sent. */
export function signedHeadValid(head: SignedHead, key: KeyObject): boolean {
  const { signature, ...body } = head;
  return signatureValid(headTag + canonicalJson(body), signature, key);
}

function signatureValid(message: string, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(message), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** One line of a decision log, told apart by its shape. */
export type LogLine =
  | { readonly kind: 'record'; readonly record: DecisionRecord }
  | { readonly kind: 'checkpoint'; readonly checkpoint: Checkpoint }
  | { readonly kind: 'malformed'; readonly why: string };

/** Reads a line as a decision record (`seq`, `prevHash`, `hash`) or a checkpoint; anything else is malformed. */
export function parseLogLine(text: string): LogLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', why: 'not JSON (a line cut short, or not a decision log)' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'malformed', why: 'not a JSON object' };
  if ('checkpoint' in value) {
    const parsed = checkpointSchema.safeParse(value);
    if (parsed.success) return { kind: 'checkpoint', checkpoint: parsed.data };
    const issue = parsed.error.issues[0];
    return { kind: 'malformed', why: `a checkpoint of the wrong shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})` };
  }
  const r = value as Partial<Record<keyof DecisionRecord, unknown>>;
  if (Number.isInteger(r.seq) && typeof r.hash === 'string' && typeof r.prevHash === 'string') return { kind: 'record', record: value as DecisionRecord };
  return { kind: 'malformed', why: 'neither a decision record (seq, prevHash, hash) nor a checkpoint' };
}
