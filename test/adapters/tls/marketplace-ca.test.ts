import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { caCertFileName, caKeyFileName, createMarketplaceCa, loadMarketplaceCa, openMarketplaceCa } from '../../../adapters/tls/index.js';
import { identityOfPeerCertificate } from '../../../knowledge/data-plane-identity.js';
import { DynamosError } from '../../../knowledge/errors.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { testCa } from '../../support/certificates.js';

const day = 86_400_000;

interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: 'debug', message, fields }),
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
    child: () => logger,
  };
  return { logger, lines };
}

/** Asserts a CONFIG_INVALID that is not retryable and whose message names `file` and matches `what`. */
async function refused(promise: Promise<unknown>, file: string, what: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DynamosError, String(error));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.retryable, false);
    assert.ok(error.message.includes(file), `${error.message} should name ${file}`);
    assert.match(error.message, what);
    return true;
  });
}

describe('marketplace CA', () => {
  let dir: string;
  let caDir: string;
  let certFile: string;
  let keyFile: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dynamos-ca-'));
    caDir = path.join(dir, 'keys');
    certFile = path.join(caDir, caCertFileName);
    keyFile = path.join(caDir, caKeyFileName);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes a CA's files as an operator would, the key owner-only. */
  function writePair(cert: string, key: string): void {
    rmSync(caDir, { recursive: true, force: true });
    mkdirSync(caDir, { mode: 0o700 });
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key, { mode: 0o600 });
  }

  describe('createMarketplaceCa and issue', () => {
    it('makes a self-signed CA that may sign end-entity certificates only', async () => {
      const ca = await createMarketplaceCa({ name: 'Test marketplace' });
      const cert = new x509.X509Certificate(ca.cert);
      assert.equal(cert.subject, 'CN=Test marketplace, O=DYNAMOS data plane');
      assert.equal(cert.issuer, cert.subject);
      assert.ok(await cert.verify({ publicKey: cert.publicKey, signatureOnly: true }));
      const constraints = cert.getExtension(x509.BasicConstraintsExtension);
      assert.deepEqual([constraints?.ca, constraints?.pathLength, constraints?.critical], [true, 0, true]);
      const usage = cert.getExtension(x509.KeyUsagesExtension);
      assert.deepEqual([usage?.usages, usage?.critical], [x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true]);
      assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension));
      assert.ok(Math.abs(cert.notAfter.getTime() - Date.now() - 3650 * day) < day);
      assert.equal(ca.fingerprint, new X509Certificate(ca.cert).fingerprint256.replaceAll(':', '').toLowerCase());
      assert.ok(new X509Certificate(ca.cert).checkPrivateKey(createPrivateKey(ca.key)));
      assert.match(ca.key, /^-----BEGIN PRIVATE KEY-----/);
    });

    it('issues leaf certificates naming the identity, for server and client alike', async () => {
      const ca = await createMarketplaceCa();
      const now = new Date('2030-01-01T00:00:00Z');
      const issued = await ca.issue({ kind: 'party', party: 'VU Amsterdam' }, { now, validityMs: 3_600_000 });
      const leaf = new x509.X509Certificate(issued.cert);
      const caCert = new x509.X509Certificate(ca.cert);
      assert.equal(leaf.subject, 'CN=VU Amsterdam, O=DYNAMOS data plane');
      assert.equal(leaf.issuer, caCert.subject);
      assert.ok(await leaf.verify({ publicKey: caCert.publicKey, signatureOnly: true }));
      assert.ok(new X509Certificate(issued.cert).checkIssued(new X509Certificate(ca.cert)));
      assert.ok(new X509Certificate(issued.cert).checkPrivateKey(createPrivateKey(issued.key)));
      assert.match(issued.key, /^-----BEGIN PRIVATE KEY-----/);
      assert.equal(leaf.notBefore.getTime(), now.getTime() - 5 * 60_000);
      assert.equal(leaf.notAfter.getTime(), now.getTime() + 3_600_000);
      const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON();
      assert.deepEqual(names, [{ type: 'url', value: 'spiffe://dynamos/party/VU%20Amsterdam' }]);
      assert.deepEqual(identityOfPeerCertificate(new X509Certificate(issued.cert).subjectAltName), { kind: 'party', party: 'VU Amsterdam' });
      const constraints = leaf.getExtension(x509.BasicConstraintsExtension);
      assert.deepEqual([constraints?.ca, constraints?.critical], [false, true]);
      const usage = leaf.getExtension(x509.KeyUsagesExtension);
      assert.deepEqual([usage?.usages, usage?.critical], [x509.KeyUsageFlags.digitalSignature, true]);
      assert.deepEqual([...(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
      const authority = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
      assert.equal(authority, caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
      assert.ok(leaf.getExtension(x509.SubjectKeyIdentifierExtension));
      const serial = Buffer.from(leaf.serialNumber, 'hex');
      assert.equal(serial.length, 16);
      assert.ok(((serial[0] ?? 0) & 0x80) === 0, 'a positive serial');
    });

    it('names the collector, defaults to a day, and makes a fresh key and serial each time', async () => {
      const ca = await createMarketplaceCa();
      const now = new Date(Math.floor(Date.now() / 1000) * 1000); // certificates keep whole seconds
      const [a, b] = await Promise.all([ca.issue({ kind: 'collector' }, { now }), ca.issue({ kind: 'collector' }, { now })]);
      const leaf = new x509.X509Certificate(a.cert);
      assert.equal(leaf.subject, 'CN=dynamos result collector, O=DYNAMOS data plane');
      assert.deepEqual(identityOfPeerCertificate(new X509Certificate(a.cert).subjectAltName), { kind: 'collector' });
      assert.equal(leaf.notAfter.getTime(), now.getTime() + day);
      assert.notEqual(a.key, b.key);
      assert.notEqual(leaf.serialNumber, new x509.X509Certificate(b.cert).serialNumber);
    });

    it('refuses a validity beyond 30 days, or none', async () => {
      const ca = await createMarketplaceCa();
      const party = { kind: 'party', party: 'SURF' } as const;
      await ca.issue(party, { validityMs: 30 * day });
      for (const validityMs of [30 * day + 1, 0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(ca.issue(party, { validityMs }), (e: unknown) => e instanceof DynamosError && e.code === 'CONFIG_INVALID' && /30 days/.test(e.message), String(validityMs));
      }
      await assert.rejects(createMarketplaceCa({ validityDays: 0 }), (e: unknown) => e instanceof DynamosError && e.code === 'CONFIG_INVALID');
    });

    it('never lets a leaf outlive its CA, and refuses to issue once the CA expired', async () => {
      const made = new Date('2030-01-01T00:00:00Z');
      const ca = await createMarketplaceCa({ now: made, validityDays: 1 });
      const caEnd = new x509.X509Certificate(ca.cert).notAfter;
      const late = await ca.issue({ kind: 'party', party: 'SURF' }, { now: new Date(made.getTime() + 20 * 3_600_000) });
      assert.equal(new x509.X509Certificate(late.cert).notAfter.getTime(), caEnd.getTime());
      await assert.rejects(ca.issue({ kind: 'party', party: 'SURF' }, { now: new Date(made.getTime() + 2 * day) }), /expired/);
    });
  });

  describe('openMarketplaceCa', () => {
    it('creates the CA on first start, owner-only, and loads the same one afterwards', async () => {
      const { logger, lines } = recordingLogger();
      const first = await openMarketplaceCa(caDir, { logger });
      assert.equal(statSync(caDir).mode & 0o777, 0o700);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.equal(statSync(certFile).mode & 0o077 & 0o022, 0, 'the certificate is not writable by others');
      assert.deepEqual(readdirSync(caDir).sort(), [caKeyFileName, caCertFileName].sort(), 'no temp files left');
      assert.equal(readFileSync(certFile, 'utf8'), first.cert);
      assert.equal(first.fingerprint, new X509Certificate(first.cert).fingerprint256.replaceAll(':', '').toLowerCase());
      assert.equal(lines.filter((l) => l.level === 'info' && l.fields?.['fingerprint'] === first.fingerprint).length, 1, JSON.stringify(lines));
      assert.ok(!('key' in first), 'the key stays on disk');

      const before = { cert: statSync(certFile), key: statSync(keyFile), keyText: readFileSync(keyFile, 'utf8') };
      const again = recordingLogger();
      const second = await openMarketplaceCa(caDir, { logger: again.logger });
      assert.equal(second.fingerprint, first.fingerprint);
      assert.deepEqual(again.lines, []);
      assert.equal(statSync(certFile).ino, before.cert.ino);
      assert.equal(statSync(keyFile).ino, before.key.ino);
      assert.equal(readFileSync(keyFile, 'utf8'), before.keyText);
      const issued = await second.issue({ kind: 'party', party: 'SURF' });
      assert.ok(new X509Certificate(issued.cert).checkIssued(new X509Certificate(first.cert)));
      assert.ok(await new x509.X509Certificate(issued.cert).verify({ publicKey: new x509.X509Certificate(first.cert).publicKey, signatureOnly: true }));
    });

    it('gives starts that race one CA: the losers load the winner', async () => {
      const { logger, lines } = recordingLogger();
      const opened = await Promise.all([1, 2, 3, 4].map(() => openMarketplaceCa(caDir, { logger })));
      assert.equal(new Set(opened.map((ca) => ca.fingerprint)).size, 1);
      assert.equal(opened[0]?.fingerprint, new X509Certificate(readFileSync(certFile)).fingerprint256.replaceAll(':', '').toLowerCase());
      assert.equal(lines.filter((l) => l.level === 'info').length, 1, 'one start created it');
      assert.deepEqual(readdirSync(caDir).sort(), [caKeyFileName, caCertFileName].sort());
    });

    it('refuses one file without the other and creates nothing', async () => {
      const ca = await createMarketplaceCa();
      writePair(ca.cert, ca.key);
      rmSync(keyFile);
      await refused(openMarketplaceCa(caDir, { logger: silentLogger }), keyFile, /is missing/);
      assert.deepEqual(readdirSync(caDir), [caCertFileName]);
      writePair(ca.cert, ca.key);
      rmSync(certFile);
      await refused(openMarketplaceCa(caDir, { logger: silentLogger }), certFile, /is missing/);
      assert.deepEqual(readdirSync(caDir), [caKeyFileName]);
    });

    it('refuses files that are not a CA of the right kind, naming the file, and leaves them alone', async () => {
      const ca = await createMarketplaceCa();
      const other = await createMarketplaceCa();
      const leaf = await ca.issue({ kind: 'party', party: 'SURF' });
      const expired = await createMarketplaceCa({ now: new Date(Date.now() - 3 * day), validityDays: 1 });
      const future = await createMarketplaceCa({ now: new Date(Date.now() + 3 * day) });
      const cases: { name: string; cert: string; key: string; file: () => string; what: RegExp }[] = [
        { name: 'unparseable certificate', cert: 'not a certificate\n', key: ca.key, file: () => certFile, what: /no PEM certificate/ },
        { name: 'broken certificate', cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key: ca.key, file: () => certFile, what: /readable certificate/ },
        { name: 'two certificates', cert: ca.cert + other.cert, key: ca.key, file: () => certFile, what: /2 certificates/ },
        { name: 'unparseable key', cert: ca.cert, key: 'not a key\n', file: () => keyFile, what: /readable private key/ },
        { name: 'key of another CA', cert: ca.cert, key: other.key, file: () => keyFile, what: /not hold the private key of the certificate/ },
        { name: 'certificate not a CA', cert: leaf.cert, key: leaf.key, file: () => certFile, what: /not a CA certificate/ },
        { name: 'expired CA', cert: expired.cert, key: expired.key, file: () => certFile, what: /expired at/ },
        { name: 'CA not valid yet', cert: future.cert, key: future.key, file: () => certFile, what: /not valid until/ },
      ];
      for (const c of cases) {
        writePair(c.cert, c.key);
        await refused(openMarketplaceCa(caDir, { logger: silentLogger }), c.file(), c.what).catch((error: Error) => {
          throw new Error(`${c.name}: ${error.message}`);
        });
        assert.equal(readFileSync(certFile, 'utf8'), c.cert, c.name);
        assert.equal(readFileSync(keyFile, 'utf8'), c.key, c.name);
        assert.deepEqual(readdirSync(caDir).sort(), [caKeyFileName, caCertFileName].sort(), c.name);
      }
    });

    it('refuses a key others can read, as the daemon\'s other keys, and leaves it as it is', async () => {
      const ca = await createMarketplaceCa();
      writePair(ca.cert, ca.key);
      chmodSync(keyFile, 0o644);
      await assert.rejects(openMarketplaceCa(caDir, { logger: silentLogger }), (e: unknown) => e instanceof DynamosError && e.code === 'CONFIG_INVALID' && e.message.includes(`${keyFile} can be read or written by others (mode 644; chmod 600 it)`));
      assert.equal(statSync(keyFile).mode & 0o777, 0o644, 'the mode is the operator\'s to change');
    });
  });

  describe('loadMarketplaceCa', () => {
    it('loads an operator CA and issues certificates it signs', async () => {
      const ca = await createMarketplaceCa();
      writePair(ca.cert, ca.key);
      const loaded = await loadMarketplaceCa({ certFile, keyFile });
      assert.equal(loaded.fingerprint, ca.fingerprint);
      const issued = await loaded.issue({ kind: 'party', party: 'UVA' });
      assert.ok(new X509Certificate(issued.cert).checkIssued(new X509Certificate(ca.cert)));
    });

    it('signs with an operator CA of another kind (RSA, no key identifier)', async () => {
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
      const keys = await crypto.subtle.generateKey(rsa, true, ['sign', 'verify']);
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        name: 'CN=Operator CA',
        notBefore: new Date(Date.now() - day),
        notAfter: new Date(Date.now() + day),
        keys,
        signingAlgorithm: rsa,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
      });
      const key = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
      writePair(cert.toString('pem'), key);
      const issued = await (await loadMarketplaceCa({ certFile, keyFile })).issue({ kind: 'party', party: 'SURF' });
      assert.ok(new X509Certificate(issued.cert).verify(new X509Certificate(cert.toString('pem')).publicKey));
      assert.equal(new x509.X509Certificate(issued.cert).getExtension(x509.AuthorityKeyIdentifierExtension), null);
    });

    it('refuses a missing file, naming it, and never creates one', async () => {
      const missingCert = path.join(dir, 'absent', 'ca.pem');
      const missingKey = path.join(dir, 'absent', 'ca-key.pem');
      await refused(loadMarketplaceCa({ certFile: missingCert, keyFile: missingKey }), missingCert, /does not exist/);
      const ca = await testCa();
      writePair(ca.cert, ca.key);
      await refused(loadMarketplaceCa({ certFile, keyFile: missingKey }), missingKey, /does not exist/);
      assert.deepEqual(readdirSync(dir).filter((n) => n === 'absent'), []);
    });
  });
});
