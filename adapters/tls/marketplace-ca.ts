import 'reflect-metadata';
import { createHash, createPrivateKey, randomBytes, X509Certificate as NodeCertificate } from 'node:crypto';
import type { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { identityUri } from '../../knowledge/data-plane-identity.js';
import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError } from '../../knowledge/errors.js';

x509.cryptoProvider.set(globalThis.crypto);

/** A certificate and its private key, both PEM; the key is PKCS#8. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** How long the certificate is valid: 24 hours unless given, at most 30 days. */
  readonly validityMs?: number;
  /** The moment of issue; the clock unless given. */
  readonly now?: Date;
}

/** The marketplace's certificate authority for the mutual-TLS data plane. */
export interface MarketplaceCa {
  /** The CA certificate, PEM: what every party trusts. */
  readonly cert: string;
  /** SHA-256 of the CA certificate's DER, lower-case hex: what operators compare. */
  readonly fingerprint: string;
  /** A fresh key pair and a certificate naming `identity`, for both ends of a stream. */
  issue(identity: DataPlaneIdentity, opts?: IssueOptions): Promise<PemPair>;
}

export interface CreateCaOptions {
  /** The CA's common name. */
  readonly name?: string;
  /** 3650 unless given. */
  readonly validityDays?: number;
  /** The moment of creation; the clock unless given. */
  readonly now?: Date;
}

const hour = 3_600_000;
const day = 24 * hour;
const defaultLeafValidityMs = day;
const maxLeafValidityMs = 30 * day;
/** Certificates start this long before they are made, so a peer whose clock is behind accepts them. */
const clockSkewMs = 5 * 60_000;
const organization = 'DYNAMOS data plane';
const leafAlgorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
/** RFC 5280's upper bound on a common name; the identity itself is in the alternative name. */
const maxCommonNameLength = 64;

/** A self-signed CA: ECDSA P-256, may sign end-entity certificates only (path length 0). */
export async function createMarketplaceCa(opts: CreateCaOptions = {}): Promise<MarketplaceCa & { readonly key: string }> {
  const now = opts.now ?? new Date();
  const validityDays = opts.validityDays ?? 3650;
  if (!(Number.isFinite(validityDays) && validityDays > 0)) {
    throw new DynamosError('CONFIG_INVALID', `a CA must be valid for a positive number of days, not ${validityDays}`, { retryable: false });
  }
  const keys = await crypto.subtle.generateKey(leafAlgorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName(opts.name ?? 'DYNAMOS marketplace data-plane CA')] }, { O: [organization] }],
    notBefore: new Date(now.getTime() - clockSkewMs),
    notAfter: new Date(now.getTime() + validityDays * day),
    keys,
    signingAlgorithm: leafAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { ...signingCa(certificate, keys.privateKey, leafAlgorithm), key: await pkcs8Pem(keys.privateKey) };
}

/**
 * A CA from its certificate and key, as read from `certFile` and `keyFile` (named in messages).
 *
 * @throws DynamosError CONFIG_INVALID when the certificate is not a single, currently valid CA
 *   certificate, the key cannot be read or used, or the key is not the certificate's.
 */
export async function caFromPem(certPem: string, keyPem: string, files: { readonly certFile: string; readonly keyFile: string }, now = new Date()): Promise<MarketplaceCa> {
  const { certFile, keyFile } = files;
  const { certificate, asNodeSees } = parseCaCertificate(certPem, certFile, now);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (cause) {
    throw invalid(`${keyFile} does not hold a readable private key (PEM, unencrypted): ${(cause as Error).message}`, cause);
  }
  if (key.type !== 'private') throw invalid(`${keyFile} holds a ${key.type} key, not a private key`);
  if (!asNodeSees.checkPrivateKey(key)) {
    throw invalid(`${keyFile} does not hold the private key of the certificate in ${certFile}: they belong to different CAs`);
  }
  const algorithm = signingAlgorithmOf(key);
  if (algorithm === undefined) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    throw invalid(`${keyFile} holds a ${String(key.asymmetricKeyType)}${curve === undefined ? '' : ` ${curve}`} key; the CA key must be ECDSA P-256 or P-384, or RSA`);
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await crypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return signingCa(certificate, signingKey, algorithm);
}

/** The signing algorithm WebCrypto needs for a CA key, undefined for keys we do not sign with. */
function signingAlgorithmOf(key: KeyObject): { name: string; namedCurve?: string; hash: string } | undefined {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  if (curve === 'secp384r1') return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
  return undefined;
}

/** The CA certificate, parsed by both libraries: Node's (OpenSSL's) is the one TLS will use. */
function parseCaCertificate(pem: string, certFile: string, now: Date): { certificate: x509.X509Certificate; asNodeSees: NodeCertificate } {
  let blocks: x509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(pem).filter((b) => b.type === 'CERTIFICATE');
  } catch (cause) {
    throw invalid(`${certFile} is not PEM: ${(cause as Error).message}`, cause);
  }
  const [block] = blocks;
  if (block === undefined) throw invalid(`${certFile} holds no PEM certificate`);
  if (blocks.length > 1) throw invalid(`${certFile} holds ${blocks.length} certificates; it must hold the CA certificate alone`);
  let certificate: x509.X509Certificate;
  let asNodeSees: NodeCertificate;
  try {
    certificate = new x509.X509Certificate(block.rawData);
    asNodeSees = new NodeCertificate(Buffer.from(block.rawData));
  } catch (cause) {
    throw invalid(`${certFile} does not hold a readable certificate: ${(cause as Error).message}`, cause);
  }
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (constraints?.ca !== true) throw invalid(`${certFile} is not a CA certificate (its basic constraints do not say cA=true), so it cannot sign the data plane's certificates`);
  const usage = certificate.getExtension(x509.KeyUsagesExtension);
  if (usage !== null && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw invalid(`${certFile} is a CA certificate whose key usage does not allow signing certificates (keyCertSign)`);
  }
  if (now.getTime() >= certificate.notAfter.getTime()) {
    throw invalid(`${certFile} is a CA certificate that expired at ${certificate.notAfter.toISOString()}; replace the CA (and re-issue what it signed)`);
  }
  if (now.getTime() < certificate.notBefore.getTime()) {
    throw invalid(`${certFile} is a CA certificate not valid until ${certificate.notBefore.toISOString()}; check this machine's clock`);
  }
  return { certificate, asNodeSees };
}

function signingCa(certificate: x509.X509Certificate, signingKey: webcrypto.CryptoKey, signingAlgorithm: { name: string; hash: string }): MarketplaceCa {
  // A leaf's authority key identifier must equal the CA's subject key identifier, or OpenSSL
  // refuses the chain; a CA without one gets leaves without one.
  const caKeyId = certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  return {
    cert: certificate.toString('pem'),
    fingerprint: createHash('sha256').update(new Uint8Array(certificate.rawData)).digest('hex'),
    issue: async (identity, opts = {}) => {
      const now = opts.now ?? new Date();
      const validityMs = opts.validityMs ?? defaultLeafValidityMs;
      if (!(Number.isFinite(validityMs) && validityMs > 0 && validityMs <= maxLeafValidityMs)) {
        throw new DynamosError('CONFIG_INVALID', `a data-plane certificate must be valid for more than 0 ms and at most 30 days (${maxLeafValidityMs} ms), not ${validityMs} ms`, { retryable: false });
      }
      if (Number.isNaN(now.getTime())) throw new DynamosError('CONFIG_INVALID', 'cannot issue a data-plane certificate at an invalid date', { retryable: false });
      if (now.getTime() >= certificate.notAfter.getTime()) {
        throw new DynamosError('CONFIG_INVALID', `the data-plane CA expired at ${certificate.notAfter.toISOString()}; replace it`, { retryable: false });
      }
      const uri = identityUri(identity);
      const keys = await crypto.subtle.generateKey(leafAlgorithm, true, ['sign', 'verify']);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerial(),
        subject: [{ CN: [commonName(identity.kind === 'party' ? identity.party : 'dynamos result collector')] }, { O: [organization] }],
        issuer: certificate.subjectName,
        notBefore: new Date(now.getTime() - clockSkewMs),
        // A leaf outliving its CA would fail verification anyway; say so in the certificate.
        notAfter: new Date(Math.min(now.getTime() + validityMs, certificate.notAfter.getTime())),
        publicKey: keys.publicKey,
        signingKey,
        signingAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          // A sidecar both serves streams and opens them.
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }]),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
          ...(caKeyId === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(caKeyId)]),
        ],
      });
      return { cert: leaf.toString('pem'), key: await pkcs8Pem(keys.privateKey) };
    },
  };
}

/** 16 random bytes, top bit clear (a positive INTEGER) and next bit set (no leading zero to strip). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function commonName(name: string): string {
  const codePoints = [...name];
  return codePoints.length <= maxCommonNameLength ? name : codePoints.slice(0, maxCommonNameLength).join('');
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function invalid(message: string, cause?: unknown): DynamosError {
  return new DynamosError('CONFIG_INVALID', message, { retryable: false, cause });
}
