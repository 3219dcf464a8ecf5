import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mergeServeOptions } from '../../daemon/cli/serve.js';
import { daemonConfigSchema } from '../../daemon/config.js';
import { loadSettingsFile } from '../../daemon/settings-file.js';
import { repoRoot } from '../support/fixtures.js';

const deployments = path.join(repoRoot, 'experiments', 'deployments');

describe('deployment settings files', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'dynamos-settings-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const write = async (name: string, text: string) => {
    const file = path.join(tmp, name);
    await writeFile(file, text);
    return file;
  };

  it('every shipped example under experiments/deployments is valid', async () => {
    const files = (await readdir(deployments)).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 2, `expected example settings in ${deployments}`);
    for (const file of files) {
      const result = await loadSettingsFile(path.join(deployments, file));
      assert.ok(result.ok, `${file}: ${result.ok ? '' : JSON.stringify(result.problems)}`);
    }
  });

  it('fills the defaults of what a file leaves out', async () => {
    const result = await loadSettingsFile(await write('short.yaml', 'strategy: { name: utility }\n'));
    assert.ok(result.ok);
    const config = daemonConfigSchema.parse(result.settings);
    assert.equal(config.port, 8080);
    assert.equal(config.loop.periodMs, 15_000);
    assert.deepEqual(config.metrics, { source: 'local' });
    assert.ok(config.strategy.name === 'utility');
    assert.equal(config.strategy.options.holdDownMs, 60_000);
  });

  it('reports every problem at once, each with its path, unknown keys included', async () => {
    const file = await write('bad.yaml', ['port: 70000', 'loop: { periodMs: -1 }', 'strategy: { name: utility, options: { holdDown: 5 } }', 'metrix: {}'].join('\n'));
    const result = await loadSettingsFile(file);
    assert.ok(!result.ok);
    const paths = result.problems.map((p) => p.path).sort();
    assert.deepEqual(paths, ['loop.periodMs', 'metrix', 'port', 'strategy.options.holdDown']);
  });

  it('refuses YAML that does not parse, or that repeats a key, and a file that is missing', async () => {
    const broken = await loadSettingsFile(await write('broken.yaml', 'port: [8080\n'));
    assert.ok(!broken.ok);
    assert.equal(broken.problems[0]?.path, '(yaml)');
    const twice = await loadSettingsFile(await write('twice.yaml', 'port: 1\nport: 2\n'));
    assert.ok(!twice.ok);
    assert.match(twice.problems[0]?.message ?? '', /unique/i);
    const missing = await loadSettingsFile(path.join(tmp, 'nowhere.yaml'));
    assert.ok(!missing.ok);
    assert.equal(missing.problems[0]?.path, '(file)');
  });

  it('lets a flag win over the file and leaves what no flag names', () => {
    const file = { port: 9000, strategy: { name: 'threshold' as const }, amqp: { url: 'amqp://127.0.0.1:5672', queue: 'mine' }, runner: { warmProcesses: 5 } };
    const merged = daemonConfigSchema.parse(mergeServeOptions(file, { strategy: 'utility', amqpUrl: 'amqp://127.0.0.1:5673', prometheusUrl: 'http://127.0.0.1:9090' }));
    assert.equal(merged.port, 9000);
    assert.equal(merged.strategy.name, 'utility');
    assert.equal(merged.amqp?.url, 'amqp://127.0.0.1:5673');
    assert.equal(merged.amqp?.queue, 'mine', 'the file’s queue survives a flag that only names the URL');
    assert.equal(merged.runner.warmProcesses, 5);
    assert.equal(merged.metrics.source, 'prometheus');
  });
});
