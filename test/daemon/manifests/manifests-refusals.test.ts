import assert from 'node:assert/strict';
import type { DaemonConfigInput } from '../../../daemon/config.js';
import type { ManifestsInput } from '../../../daemon/manifests/index.js';
import { buildManifests } from '../../../daemon/manifests/index.js';
import { DynamosError } from '../../../knowledge/errors.js';
import type { Problem } from '../../../knowledge/problems.js';
import { clusterSettings, exampleMarketplace, manifestsOf, withSurfAway } from './manifests-fixtures.js';

/** The problems `buildManifests` refuses the settings with, as `path: message`. */
function refusals(settings: DaemonConfigInput, opts: Partial<Omit<ManifestsInput, 'settings' | 'marketplace'>> = {}): string[] {
  try {
    manifestsOf(settings, opts);
  } catch (error) {
    assert.ok(error instanceof DynamosError && error.code === 'CONFIG_INVALID', String(error));
    return (error.details?.['problems'] as Problem[]).map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('the settings were accepted');
}

const base = clusterSettings();
const kubernetes = base.kubernetes ?? { image: 'dynamos-ts:0.1.0' };

describe('dynamos manifests: what it refuses, with the path of each problem', () => {
  const rows: [rule: string, settings: DaemonConfigInput, paths: string[], opts?: { context: string }][] = [
    ['cluster mode needs the kubernetes settings', { ...base, kubernetes: undefined }, ['kubernetes']],
    ['the settings schema: a namespace is a DNS label, the image is named', { ...base, kubernetes: { ...kubernetes, image: '', namespace: 'Bad_NS' }, sites: { UVA: { kubernetes: { namespace: 'UVA' } } } }, ['sites.UVA.kubernetes.namespace', 'kubernetes.image', 'kubernetes.namespace']],
    ["the daemon's name starts with a letter (its Service's name)", { ...base, kubernetes: { ...kubernetes, daemonName: '1dynamos' } }, ['kubernetes.daemonName']],
    ['a party in another context needs a kubeconfig', { ...withSurfAway(), kubernetes: { ...kubernetes, kubeconfig: undefined } }, ['kubernetes.kubeconfig']],
    ['a credential does not go into a ConfigMap', { ...base, adminToken: 'a-long-enough-admin-token' }, ['adminToken']],
    ['the Service and probes need a fixed port', { ...base, port: 0 }, ['port']],
    ['an issuer key file is not in the pod', { ...base, auth: { issuers: [{ issuer: 'https://idp.example', audience: 'dynamos', keys: ['/etc/keys/idp.pem'] }] } }, ['auth.issuers[0].keys[0]']],
    ['--context names a context some site names', base, ['--context'], { context: 'elsewhere' }],
    ["each party has a namespace of its own, and not the daemon's (as the runner refuses at start)", { ...base, sites: { ...base.sites, VU: { kubernetes: { namespace: 'uva' } }, RUG: { kubernetes: { namespace: 'dynamos' } } } }, ['sites.VU.kubernetes.namespace', 'sites.RUG.kubernetes.namespace']],
  ];
  for (const [rule, settings, paths, opts] of rows) {
    it(rule, () => {
      assert.deepEqual(refusals(settings, opts).map((p) => p.slice(0, p.indexOf(': '))), paths);
    });
  }

  it('reports every problem at once', () => {
    const all = refusals({ ...base, port: 0, adminToken: 'a-long-enough-admin-token', kubernetes: { ...kubernetes, daemonName: '9' } }, { context: 'nowhere' });
    assert.deepEqual(all.map((p) => p.slice(0, p.indexOf(': '))), ['kubernetes.daemonName', 'port', 'adminToken', '--context']);
  });

  it('says what to do instead', () => {
    assert.deepEqual(refusals({ ...base, adminToken: 'a-long-enough-admin-token' }), [
      'adminToken: the settings travel in a ConfigMap, which is no place for a credential: remove it and put it in the Secret dynamos-admin-token (key token) instead',
    ]);
  });

  it('refuses a marketplace that would not fit in a ConfigMap', () => {
    const huge = { ...exampleMarketplace, text: `# ${'x'.repeat(1024 * 1024)}\n${exampleMarketplace.text}` };
    assert.throws(() => buildManifests({ settings: base, marketplace: huge }), (error: DynamosError) => /^marketplaceFile: .*1 MiB/m.test(error.message));
  });
});
