import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runnerPermissions } from '../../../adapters/kubernetes/rbac.js';
import { daemonConfigSchema } from '../../../daemon/config.js';
import type { Manifests } from '../../../daemon/manifests/index.js';
import { podPaths } from '../../../daemon/manifests/index.js';
import { repoRoot } from '../../support/fixtures.js';
import { danglingReferences, nameProblems, restrictedViolations } from '../../support/kubernetes-checks.js';
import { clusterSettings, exampleMarketplace, manifestsOf, ofKind, onlyOf, withEverySecret, withSurfAway } from './manifests-fixtures.js';

/** Every output the command can make for the example: each check below runs over all of them. */
const variants: [string, () => Manifests][] = [
  ['cluster.yaml', () => manifestsOf()],
  ['with a ServiceMonitor', () => manifestsOf(clusterSettings(), { monitor: 'servicemonitor' })],
  ['with a PodMonitor, HTTPS and a kubeconfig', () => manifestsOf(withEverySecret(), { monitor: 'podmonitor' })],
  ['the cluster of a party of its own (--context)', () => manifestsOf(withSurfAway(), { context: 'surf-cluster' })],
];

describe('dynamos manifests: the objects', () => {
  for (const [name, make] of variants) {
    describe(name, () => {
      const m = make();

      it('passes the Kubernetes schemas of kubernetes-models (validate)', () => {
        assert.ok(m.objects.length > 0);
        for (const o of m.objects) assert.doesNotThrow(() => o.validate(), `${o.kind} ${o.metadata?.name}`);
      });

      it('names every object, namespace and label as Kubernetes requires, each object once', () => {
        assert.deepEqual(nameProblems(m.objects), []);
      });

      it('refers only to objects it makes or the operator makes', () => {
        assert.deepEqual(danglingReferences(m.objects, m.operatorObjects), []);
      });

      it("binds the runner's Role, which grants exactly runnerPermissions, to the daemon's ServiceAccount", () => {
        const account = onlyOf(m, 'ServiceAccount');
        const roles = ofKind(m, 'Role');
        assert.ok(roles.length > 0);
        for (const role of roles) assert.deepEqual(role.rules, runnerPermissions, role.metadata?.namespace);
        for (const binding of ofKind(m, 'RoleBinding')) {
          assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata?.name, namespace: account.metadata?.namespace }]);
          assert.ok(roles.some((r) => r.metadata?.namespace === binding.metadata?.namespace && r.metadata?.name === binding.roleRef.name));
        }
        assert.equal(ofKind(m, 'RoleBinding').length, roles.length);
      });
    });
  }

  it('gives each party namespace of the daemon\'s cluster the runner\'s Role, and only those', () => {
    const m = manifestsOf();
    assert.deepEqual(ofKind(m, 'Role').map((r) => r.metadata?.namespace), ['uva', 'vu', 'rug', 'surf', 'othercompany']);
    assert.deepEqual(ofKind(m, 'Namespace').map((n) => n.metadata?.name), ['dynamos', 'uva', 'vu', 'rug', 'surf', 'othercompany']);
    assert.equal(m.objects[0]?.kind, 'Namespace', 'namespaces come first, so one apply makes everything');
  });

  it("runs one daemon that is replaced, not rolled (the decision log has one writer), meeting Pod Security \"restricted\"", () => {
    const d = onlyOf(manifestsOf(), 'Deployment');
    assert.equal(d.spec?.replicas, 1);
    assert.equal(d.spec?.strategy?.type, 'Recreate');
    const pod = d.spec?.template.spec;
    assert.ok(pod !== undefined);
    assert.deepEqual(restrictedViolations(pod), []);
    const [daemon] = pod.containers;
    assert.equal(daemon?.image, 'dynamos-ts:0.1.0');
    assert.deepEqual(daemon?.args, ['serve', '--settings', '/etc/dynamos/settings.yaml']);
    for (const probe of [daemon?.livenessProbe, daemon?.readinessProbe]) assert.deepEqual(probe?.httpGet, { path: '/healthz', port: 'http', scheme: 'HTTP' });
    assert.deepEqual(daemon?.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.ok(daemon?.resources?.requests?.['memory'] !== undefined && daemon.resources.limits?.['memory'] !== undefined);
  });

  it('hands the pod settings that load, naming only files the pod has', () => {
    const m = manifestsOf(withEverySecret());
    const data = onlyOf(m, 'ConfigMap').data ?? {};
    assert.equal(data['marketplace.yaml'], exampleMarketplace.text);
    const settings = daemonConfigSchema.parse(parse(data['settings.yaml'] ?? ''));
    const pod = onlyOf(m, 'Deployment').spec?.template.spec;
    const projected = pod?.volumes?.find((v) => v.projected !== undefined)?.projected?.sources ?? [];
    const mounted = projected.flatMap((s) => [...(s.configMap?.items ?? []), ...(s.secret?.items ?? [])]).map((i) => path.posix.join(podPaths.config, i.path));
    const files = [settings.marketplaceFile, settings.dataPlane.ca?.certFile, settings.dataPlane.ca?.keyFile, settings.kubernetes?.kubeconfig, settings.tls?.certFile, settings.tls?.keyFile, settings.tls?.clientCaFile];
    for (const file of files) assert.ok(file !== undefined && mounted.includes(file), `${file} is not mounted`);
    for (const file of [settings.decisionLogFile, settings.keysDir ?? '']) assert.ok(file.startsWith(`${podPaths.state}/`), file);
    assert.equal(settings.host, '0.0.0.0');
    assert.equal(settings.dataDir, undefined, "a data directory of the operator's machine");
    assert.deepEqual(settings.sites, daemonConfigSchema.parse(withEverySecret()).sites);
  });

  it('names every Secret the operator makes in docs/kubernetes.md', () => {
    const docs = readFileSync(path.join(repoRoot, 'docs', 'kubernetes.md'), 'utf8');
    const secrets = manifestsOf(withEverySecret()).operatorObjects.filter((o) => o.kind === 'Secret');
    assert.deepEqual(secrets.map((s) => s.name), ['dynamos-data-plane-ca', 'dynamos-admin-token', 'dynamos-kubeconfig', 'dynamos-api-tls']);
    for (const s of secrets) assert.ok(docs.includes(`\`${s.name}\``), `${s.name} is not in docs/kubernetes.md`);
  });
});

describe('dynamos manifests: parties in clusters of their own', () => {
  it("leaves a party of another context out of the daemon's cluster, and mounts the kubeconfig that reaches it", () => {
    const m = manifestsOf(withSurfAway());
    assert.ok(!ofKind(m, 'Namespace').some((n) => n.metadata?.name === 'surf'));
    assert.deepEqual(m.contexts, ['surf-cluster']);
    assert.ok(m.operatorObjects.some((o) => o.name === 'dynamos-kubeconfig'));
  });

  it("prints that cluster's namespaces, Roles and the daemon's ServiceAccount with a token, and nothing of the daemon", () => {
    const m = manifestsOf(withSurfAway(), { context: 'surf-cluster' });
    assert.deepEqual(m.objects.map((o) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`), [
      'Namespace /dynamos',
      'Namespace /surf',
      'ServiceAccount dynamos/dynamos',
      'Secret dynamos/dynamos-token',
      'Role surf/dynamos-runner',
      'RoleBinding surf/dynamos-runner',
    ]);
    assert.equal(onlyOf(m, 'Secret').metadata?.annotations?.['kubernetes.io/service-account.name'], 'dynamos');
  });
});

describe('dynamos manifests: namespaces', () => {
  it('puts the daemon\'s ServiceAccount in its own namespace, apart from every party\'s', () => {
    const m = manifestsOf();
    assert.equal(onlyOf(m, 'ServiceAccount').metadata?.namespace, 'dynamos');
    assert.deepEqual(ofKind(m, 'Role').map((r) => r.metadata?.namespace).filter((ns) => ns === 'dynamos'), []);
  });

  it('enforces Pod Security "restricted" in every namespace, as the daemon and the jobs meet it', () => {
    for (const n of ofKind(manifestsOf(), 'Namespace')) assert.equal(n.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted', n.metadata?.name);
  });

  it('warns of a steward whose jobs have no tables, and of a site no party has', () => {
    const s = clusterSettings();
    const { RUG: _rug, ...sites } = s.sites ?? {};
    const m = manifestsOf({ ...s, sites: { ...sites, Nobody: { cpus: 1 } } });
    assert.deepEqual(m.warnings, [
      'sites.Nobody: no party of the marketplace is called "Nobody"; its site is not used',
      'sites.RUG.kubernetes.tables: RUG holds tables, but its jobs get no volume to read them from',
    ]);
  });
});
