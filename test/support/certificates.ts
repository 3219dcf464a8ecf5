import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const day = 86_400_000;

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  readonly cert: string;
  readonly key: string;
}

/** A certificate authority that issues server and client certificates for a test. */
export interface TestCa extends IssuedCertificate {
  /** A server certificate for 127.0.0.1. */
  server(): Promise<IssuedCertificate>;
  /** A client certificate: subject `CN=<commonName>` with one `O` per organization (the roles). */
  client(commonName: string, organizations?: readonly string[], validity?: { readonly notBefore: Date; readonly notAfter: Date }): Promise<IssuedCertificate>;
}

let serial = 1;

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A fresh CA (self-signed, valid a day either side of now). */
export async function testCa(name = 'DYNAMOS test CA'): Promise<TestCa> {
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    name: `CN=${name}`,
    notBefore: new Date(now - day),
    notAfter: new Date(now + day),
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const issue = async (subject: string, extensions: x509.Extension[], validity = { notBefore: new Date(now - day), notAfter: new Date(now + day) }): Promise<IssuedCertificate> => {
    const own = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (serial++).toString(16).padStart(2, '0'),
      subject,
      issuer: ca.subject,
      ...validity,
      signingKey: keys.privateKey,
      publicKey: own.publicKey,
      signingAlgorithm: algorithm,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), ...extensions],
    });
    return { cert: cert.toString('pem'), key: await keyPem(own.privateKey) };
  };
  return {
    cert: ca.toString('pem'),
    key: await keyPem(keys.privateKey),
    server: () =>
      issue('CN=127.0.0.1', [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])]),
    client: (commonName, organizations = [], validity) =>
      issue([`CN=${commonName}`, ...organizations.map((o) => `O=${o}`)].join(', '), [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])], validity),
  };
}
