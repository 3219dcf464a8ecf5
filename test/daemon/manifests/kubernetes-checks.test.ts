import assert from 'node:assert/strict';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { KubernetesObject } from '../../../daemon/manifests/index.js';
import { danglingReferences, isDnsLabel, isDnsSubdomain, nameProblems, restrictedViolations } from '../../support/kubernetes-checks.js';
import { manifestsOf, onlyOf } from './manifests-fixtures.js';

/** The example's daemon pod, a fresh copy to break. */
function daemonPod(): IPodSpec {
  const pod = onlyOf(manifestsOf(), 'Deployment').spec?.template.spec;
  assert.ok(pod !== undefined);
  return structuredClone(pod);
}

/** The checks of the other tests can fail: each finds what it is meant to find. */
describe('the checks the manifests tests rely on', () => {
  it('the schemas refuse a malformed object (validate)', () => {
    const role = new Role({ metadata: { name: 'r' }, rules: [{ verbs: 'get' as unknown as string[] }] });
    assert.throws(() => role.validate(), /verbs/);
  });

  it('tell DNS labels and subdomains from other names', () => {
    for (const good of ['uva', 'other-company', 'a1']) assert.ok(isDnsLabel(good), good);
    for (const bad of ['UVA', 'other_company', '-uva', 'uva-', '', 'a'.repeat(64), 'a.b']) assert.ok(!isDnsLabel(bad), bad);
    assert.ok(isDnsSubdomain('dynamos-data-plane-ca.v1'));
    assert.ok(!isDnsSubdomain('Dynamos..ca'));
  });

  it('find a bad name, namespace, label, port name and an object made twice', () => {
    const m = manifestsOf();
    const broken: KubernetesObject[] = [
      ...m.objects,
      new Namespace({ metadata: { name: 'Other_Company' } }),
      new Namespace({ metadata: { name: 'uva' } }),
    ];
    const deployment = structuredClone(onlyOf(m, 'Deployment').toJSON());
    const pod = deployment.spec?.template.spec;
    assert.ok(pod?.containers[0]?.ports?.[0] !== undefined);
    pod.containers[0].ports[0].name = 'the-http-port-of-the-daemon';
    const labelled = { ...deployment, metadata: { ...deployment.metadata, name: 'again', labels: { 'dynamos.io/party': 'Not a value!' } } };
    const problems = nameProblems([...broken, labelled as unknown as KubernetesObject]);
    assert.deepEqual(problems, [
      'Namespace Other_Company: "Other_Company" is not a valid Namespace name',
      'Namespace uva: defined twice',
      'Deployment dynamos/again: label dynamos.io/party has value "Not a value!"',
      'Deployment dynamos/again: port name "the-http-port-of-the-daemon"',
    ]);
  });

  it('find each way a pod breaks the "restricted" profile', () => {
    const pod = daemonPod();
    const container = pod.containers[0];
    assert.ok(container?.securityContext !== undefined && pod.securityContext !== undefined);
    delete pod.securityContext.runAsNonRoot;
    delete pod.securityContext.seccompProfile;
    container.securityContext = { capabilities: { add: ['SYS_ADMIN'] } };
    pod.volumes = [...(pod.volumes ?? []), { name: 'host', hostPath: { path: '/' } }];
    assert.deepEqual(restrictedViolations(pod), [
      'volume host is hostPath',
      'daemon: runAsNonRoot is not true',
      'daemon: seccomp profile undefined',
      'daemon: allowPrivilegeEscalation is not false',
      'daemon: does not drop ALL capabilities',
      'daemon: adds SYS_ADMIN',
    ]);
  });

  it('find a Secret, ConfigMap or claim that nobody makes, and a Service that selects nothing', () => {
    const m = manifestsOf();
    const withoutConfigMap = m.objects.filter((o) => o.kind !== 'ConfigMap' && o.kind !== 'Deployment');
    const deployment = onlyOf(m, 'Deployment');
    assert.deepEqual(danglingReferences([...withoutConfigMap, deployment], m.operatorObjects.filter((o) => o.name !== 'dynamos-data-plane-ca')), [
      'Deployment dynamos/dynamos: refers to ConfigMap dynamos/dynamos-settings, which is neither made here nor the operator\'s',
      'Deployment dynamos/dynamos: refers to Secret dynamos/dynamos-data-plane-ca, which is neither made here nor the operator\'s',
    ]);
    assert.deepEqual(danglingReferences(withoutConfigMap, m.operatorObjects), ['Service dynamos/dynamos: selects no pod made here']);
  });
});
