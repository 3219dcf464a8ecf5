import assert from 'node:assert/strict';
import { describeIdentity, identityFromUri, identityOfPeerCertificate, identityUri, sameIdentity } from '../../knowledge/data-plane-identity.js';
import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { DynamosError } from '../../knowledge/errors.js';

const party = (name: string): DataPlaneIdentity => ({ kind: 'party', party: name });
const collector: DataPlaneIdentity = { kind: 'collector' };

describe('data-plane identity', () => {
  it('spells parties and the collector as SPIFFE-style URIs', () => {
    assert.equal(identityUri(party('SURF')), 'spiffe://dynamos/party/SURF');
    assert.equal(identityUri(party('VU Amsterdam')), 'spiffe://dynamos/party/VU%20Amsterdam');
    assert.equal(identityUri(collector), 'spiffe://dynamos/collector');
  });

  it('reads back every name a marketplace may use', () => {
    for (const name of ['SURF', 'uva-2', 'a_b.c', 'VU Amsterdam', 'x/y', 'a,b', 'q?#%', 'Zürich', '日本', 'a"b\\c', '100%']) {
      assert.deepEqual(identityFromUri(identityUri(party(name))), party(name), name);
    }
    assert.deepEqual(identityFromUri('spiffe://dynamos/collector'), collector);
  });

  it('refuses a party name that cannot be spelled', () => {
    assert.throws(() => identityUri(party('')), (e: unknown) => e instanceof DynamosError && e.code === 'CONFIG_INVALID');
    assert.throws(() => identityUri(party('a\ud800b')), (e: unknown) => e instanceof DynamosError && e.code === 'CONFIG_INVALID');
  });

  it('accepts only the exact spelling it makes', () => {
    for (const uri of [
      '',
      'spiffe://dynamos/party/',
      'spiffe://dynamos/party/a/b',
      'spiffe://dynamos/party/a%2fb',
      'spiffe://dynamos/party/a b',
      'spiffe://dynamos/party/%E0%A4%A',
      'spiffe://dynamos/party/SURF?x',
      'spiffe://dynamos/party/SURF#x',
      'spiffe://dynamos/collector/',
      'spiffe://dynamos/collector/x',
      'spiffe://dynamos/requester/SURF',
      'spiffe://dynamos',
      'SPIFFE://dynamos/party/SURF',
      'spiffe://DYNAMOS/party/SURF',
      'spiffe://other/party/SURF',
      'https://dynamos/party/SURF',
      ' spiffe://dynamos/party/SURF',
    ]) {
      assert.equal(identityFromUri(uri), undefined, uri);
    }
  });

  it('describes and compares identities', () => {
    assert.equal(describeIdentity(party('SURF')), 'party SURF');
    assert.equal(describeIdentity(collector), 'the result collector');
    assert.ok(sameIdentity(party('SURF'), party('SURF')));
    assert.ok(sameIdentity(collector, { kind: 'collector' }));
    assert.ok(!sameIdentity(party('SURF'), party('surf')));
    assert.ok(!sameIdentity(party('SURF'), collector));
    assert.ok(!sameIdentity(collector, party('SURF')));
  });
});

describe('identityOfPeerCertificate', () => {
  it('finds the identity among the other names, as Node writes them', () => {
    assert.deepEqual(identityOfPeerCertificate('URI:spiffe://dynamos/party/SURF'), party('SURF'));
    assert.deepEqual(identityOfPeerCertificate('DNS:foo, URI:spiffe://dynamos/party/VU%20Amsterdam, IP Address:127.0.0.1, email:a@b'), party('VU Amsterdam'));
    assert.deepEqual(identityOfPeerCertificate('DNS:x, URI:spiffe://dynamos/collector'), collector);
    assert.deepEqual(identityOfPeerCertificate('URI:https://example.org/a, URI:spiffe://dynamos/party/UVA'), party('UVA'));
  });

  it('reads values Node quotes as JSON strings', () => {
    // Node 20 quotes a value holding a comma, quote, backslash or non-ASCII character.
    assert.deepEqual(identityOfPeerCertificate('URI:"spiffe://dynamos/party/SURF"'), party('SURF'));
    assert.deepEqual(identityOfPeerCertificate('DNS:"a\\u002c URI:spiffe://dynamos/party/EVIL", URI:spiffe://dynamos/party/UVA'), party('UVA'));
    assert.deepEqual(identityOfPeerCertificate('DirName:"CN=x\\u002cO=y", URI:spiffe://dynamos/party/UVA, DNS:"\\u00e9"'), party('UVA'));
  });

  it('refuses a certificate without an identity of ours', () => {
    for (const text of [undefined, '', 'DNS:localhost', 'IP Address:127.0.0.1', 'URI:spiffe://other/party/SURF', 'DNS:spiffe://dynamos/party/SURF']) {
      assert.equal(identityOfPeerCertificate(text), undefined, String(text));
    }
  });

  it('refuses two different identities, but not the same one twice', () => {
    assert.equal(identityOfPeerCertificate('URI:spiffe://dynamos/party/SURF, URI:spiffe://dynamos/party/UVA'), undefined);
    assert.equal(identityOfPeerCertificate('URI:spiffe://dynamos/party/SURF, URI:spiffe://dynamos/collector'), undefined);
    assert.deepEqual(identityOfPeerCertificate('URI:spiffe://dynamos/party/SURF, URI:"spiffe://dynamos/party/SURF"'), party('SURF'));
  });

  it('refuses a name in our trust domain spelled some other way', () => {
    for (const text of [
      'URI:spiffe://dynamos/party/SURF, URI:spiffe://dynamos/party/a b',
      'URI:spiffe://dynamos/party/SURF, URI:"spiffe://dynamos/party/a\\u002cb"',
      'URI:spiffe://dynamos/party/SURF, URI:SPIFFE://DYNAMOS/party/SURF',
      'URI:spiffe://dynamos/party/SURF, URI:spiffe://dynamos:443/party/SURF',
      'URI:spiffe://dynamos/admin',
    ]) {
      assert.equal(identityOfPeerCertificate(text), undefined, text);
    }
  });

  it('refuses text it cannot read', () => {
    for (const text of ['URI', 'URI:"spiffe://dynamos/party/SURF', 'URI:"spiffe://dynamos/party/SURF"x', 'URI:"\\x"', 'URI:spiffe://dynamos/party/SURF,URI:x', 'URI:spiffe://dynamos/party/SURF, ']) {
      assert.equal(identityOfPeerCertificate(text), undefined, text);
    }
  });
});
