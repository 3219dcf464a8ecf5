import assert from 'node:assert/strict';
import { siteSettingsSchema, sitesSettingsSchema } from '../../../../knowledge/site-settings.js';
import { freeSubnet } from '../../../../adapters/local/sites/net-commands.js';
import { maxInterfaceName, ownerPatterns, ownerPid, siteNames } from '../../../../adapters/local/sites/site-names.js';
import { tokenBucket } from '../../../../adapters/local/sites/site-network.js';

function issuesOf(input: unknown): string[] {
  const result = sitesSettingsSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('site settings', () => {
  it('takes a site\'s bounds, each optional, with no network by default, and no sites by default', () => {
    assert.deepEqual(sitesSettingsSchema.parse(undefined), {});
    assert.deepEqual(sitesSettingsSchema.parse({ SURF: { cpus: 0.5, memoryMiB: 2048, linkMbit: 200, network: true }, VU: {} }), {
      SURF: { cpus: 0.5, memoryMiB: 2048, linkMbit: 200, network: true },
      VU: { network: false },
    });
  });

  it('refuses a link rate without a network of its own, naming the field', () => {
    assert.deepEqual(issuesOf({ SURF: { linkMbit: 8 } }), ['SURF.linkMbit: a link rate needs a link of its own: set network: true']);
  });

  it('refuses unknown keys and bounds the kernel cannot hold, each with its path', () => {
    const issues = issuesOf({ SURF: { cpus: 0.001, memoryMiB: 32, linkMbit: 0, network: true, latencyMs: 5 }, '': {} });
    assert.ok(issues.some((i) => i.startsWith('SURF.cpus: must be at least 0.01')), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('SURF.memoryMiB:')), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('SURF.linkMbit:')), issues.join('\n'));
    assert.ok(issues.some((i) => /latencyMs/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => /Invalid key in record/.test(i)), issues.join('\n'));
    assert.throws(() => siteSettingsSchema.parse({ memoryMiB: 100.5 }));
  });
});

describe('site names', () => {
  it('keeps interface names within Linux\'s 15 characters and every name safe as a file name', () => {
    const names = siteNames('3f1c9a2e-runner', ['SURF', 'uva/../etc', 'Ümlaut party with a very long name indeed', ...Array.from({ length: 120 }, (_, i) => `P${i}`)], 4_194_304);
    assert.ok(names.bridge.length <= maxInterfaceName, names.bridge);
    for (const [party, p] of names.parties) {
      assert.ok(p.hostVeth.length <= maxInterfaceName, `${party}: ${p.hostVeth}`);
      assert.match(p.namespace, /^[a-z0-9-]+$/);
      assert.match(p.cgroup, /^site-[a-z0-9-]+$/);
      assert.equal(ownerPid(ownerPatterns.namespace, p.namespace), 4_194_304);
    }
    assert.equal(names.parties.get('uva/../etc')?.cgroup, 'site-uva-etc');
    assert.equal(ownerPid(ownerPatterns.cgroupTop, names.cgroupTop), 4_194_304);
    assert.equal(ownerPid(ownerPatterns.linkAlias, names.linkAlias), 4_194_304);
  });

  it('keeps parties apart whose names sanitise alike, and runners apart by their id', () => {
    const names = siteNames('r', ['UVA', 'uva', 'U.V.A']);
    const labels = [...names.parties.values()].map((p) => p.namespace);
    assert.equal(new Set(labels).size, 3, labels.join(' '));
    assert.notEqual(siteNames('r1', ['UVA']).bridge, siteNames('r2', ['UVA']).bridge);
  });

  it('recognises only its own names', () => {
    assert.equal(ownerPid(ownerPatterns.cgroupTop, 'dynamos-123-0a1b2c3d-job'), undefined, 'a job memory group is not a site group');
    assert.equal(ownerPid(ownerPatterns.namespace, 'cni-1234'), undefined);
    assert.equal(ownerPid(ownerPatterns.linkAlias, undefined), undefined);
  });
});

describe('site network addressing and shaping', () => {
  it('picks a 10.213.x.0/24 that no route or address of the machine overlaps', () => {
    assert.equal(freeSubnet(['192.0.2.0/24', '10.213.7.1/32'], 7), 8);
    assert.equal(freeSubnet(['10.213.0.0/16'], 0), undefined, 'a wider route covers every candidate');
    assert.equal(freeSubnet(['10.0.0.0/8'], 3), undefined);
    assert.equal(freeSubnet(['10.213.255.0/24'], 255), 0, 'wraps around');
    assert.equal(freeSubnet(['0.0.0.0/0', 'nonsense'], 5), 5, 'default routes and junk are ignored');
  });

  it('gives tbf a bucket of 10 ms of the rate, at least 64 KiB, and the rate in kbit', () => {
    assert.deepEqual(tokenBucket(8), ['tbf', 'rate', '8000kbit', 'burst', '65536', 'latency', '50ms']);
    assert.deepEqual(tokenBucket(200), ['tbf', 'rate', '200000kbit', 'burst', '250000', 'latency', '50ms']);
    assert.equal(tokenBucket(0.0001)[2], '1kbit');
  });
});
