import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { CommandOutput } from '../../../daemon/cli/check-config.js';
import type { ManifestsOptions } from '../../../daemon/cli/manifests.js';
import { printManifests } from '../../../daemon/cli/manifests.js';
import { repoRoot } from '../../support/fixtures.js';
import { clusterSettingsFile } from './manifests-fixtures.js';

/** Runs the command in this process, collecting what it prints. */
async function manifests(opts: ManifestsOptions): Promise<{ status: number; out: string; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const output: CommandOutput = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const status = await printManifests(opts, output);
  return { status, out: out.join('\n'), err };
}

describe('dynamos manifests (the command)', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'dynamos-manifests-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const write = async (name: string, text: string) => {
    const file = path.join(tmp, name);
    await writeFile(file, text);
    return file;
  };

  it('prints multi-document YAML that kubectl can read, from a real process, and exits 0', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'daemon/main.ts', 'manifests', '--settings', clusterSettingsFile, '--monitor', 'servicemonitor'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    const docs = parseAllDocuments(run.stdout);
    assert.ok(Array.isArray(docs));
    for (const doc of docs) assert.deepEqual(doc.errors, []);
    const kinds = docs.map((d) => (d.toJS() as { kind: string }).kind);
    assert.deepEqual([...new Set(kinds)], ['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'PersistentVolumeClaim', 'Service', 'Deployment', 'ServiceMonitor']);
    assert.match(run.stdout, /^# {3}Secret dynamos\/dynamos-data-plane-ca \(keys tls\.crt, tls\.key\): /m);
  });

  it('adds a PodMonitor when asked, and leaves monitors out by default', async () => {
    const pod = await manifests({ settings: clusterSettingsFile, monitor: 'podmonitor' });
    assert.match(pod.out, /^kind: PodMonitor$/m);
    const none = await manifests({ settings: clusterSettingsFile });
    assert.doesNotMatch(none.out, /^kind: (Pod|Service)Monitor$/m);
  });

  it('exits 2 naming each bad setting by its path, and prints no manifests', async () => {
    const file = await write('bad.yaml', ['kubernetes: { image: "", namespace: Dynamos }', 'sites: { UVA: { kubernetes: { namespace: UVA, context: "" } } }', 'port: 0'].join('\n'));
    const run = await manifests({ settings: file });
    assert.equal(run.status, 2);
    assert.equal(run.out, '');
    assert.deepEqual(run.err.map((line) => line.slice(0, line.indexOf(': '))), ['sites.UVA.kubernetes.namespace', 'sites.UVA.kubernetes.context', 'kubernetes.image', 'kubernetes.namespace']);
  });

  it('exits 2 on settings without cluster mode, or a context no site names', async () => {
    const local = await manifests({ settings: await write('local.yaml', 'port: 8080\n') });
    assert.equal(local.status, 2);
    assert.deepEqual(local.err, ['kubernetes: cluster mode needs the kubernetes settings, at least kubernetes.image (docs/kubernetes.md)']);
    const context = await manifests({ settings: clusterSettingsFile, context: 'elsewhere' });
    assert.equal(context.status, 2);
    assert.deepEqual(context.err, ['--context: no site names context "elsewhere" (no site names a context)']);
  });

  it('exits 2 on a marketplace it cannot read or that is invalid, saying which', async () => {
    const missing = await manifests({ settings: clusterSettingsFile, config: path.join(tmp, 'nope.yaml') });
    assert.equal(missing.status, 2);
    assert.deepEqual(missing.err, [`--config: cannot read the marketplace config ${path.join(tmp, 'nope.yaml')}: no such file or directory`]);
    const invalid = await manifests({ settings: clusterSettingsFile, config: await write('market.yaml', 'version: 1\nname: x\nextra: 1\n') });
    assert.equal(invalid.status, 2);
    assert.equal(invalid.err[0], `the marketplace config ${path.join(tmp, 'market.yaml')} is invalid:`);
    assert.ok(invalid.err.includes('extra: unknown key'), invalid.err.join('\n'));
  });

  it('warns on stderr of credentials the ConfigMap would carry, and still prints', async () => {
    const file = await write('amqp.yaml', `kubernetes: { image: dynamos-ts:0.1.0 }\namqp: { url: "amqp://dynamos:secret@rabbitmq:5672" }\n`);
    const run = await manifests({ settings: file });
    assert.equal(run.status, 0, run.err.join('\n'));
    assert.ok(run.err.some((line) => line.startsWith('warning: amqp.url: holds a credential')), run.err.join('\n'));
    assert.match(run.out, /^kind: Deployment$/m);
  });
});
