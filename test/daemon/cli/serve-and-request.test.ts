import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exampleData } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { exampleMarketplaceFile, repoRoot } from '../../support/fixtures.js';

const main = path.join(repoRoot, 'daemon', 'main.ts');
/** tsx by its absolute location, so commands run from any directory. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Every job process any runner on this machine has now, by its command-line tag. */
function taggedJobProcesses(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--dynamos-runner=') && !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

function dynamos(args: string[], cwd = repoRoot) {
  const run = spawnSync(process.execPath, ['--import', tsx, main, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('dynamos serve, request and demo, as a user runs them', function () {
  let data: ExampleData;
  before(async () => (data = await exampleData(300)));
  after(() => data.remove());

  it('serves, answers `dynamos request` signed with its local issuer, and leaves no job process behind on SIGTERM', async () => {
    const before = taggedJobProcesses();
    // Both commands run in one directory with the default decision log, as the README's two terminals do: the key is found in data/keys.
    const cwd = data.dir;
    const serve: ChildProcess = spawn(
      process.execPath,
      ['--import', tsx, main, 'serve', '--config', exampleMarketplaceFile, '--data-dir', data.dir, '--port', '0', '--warm', '1', '--log-level', 'silent'],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    serve.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    while (!/at (http:\/\/\S+)/.test(out)) await once(serve.stdout as NodeJS.ReadableStream, 'data');
    const url = /at (http:\/\/\S+)/.exec(out)?.[1] as string;

    const request = dynamos(['request', path.join(repoRoot, 'experiments/requests/wage-gap.json'), '--url', url], cwd);
    assert.equal(request.status, 0, request.stderr);
    assert.match(request.stderr, /^signed in as analyst@uva\.example with the local issuer's key \(data\/keys\/issuer\.key\.pem\)$/m);
    assert.match(request.stdout, /^HTTP 200, job analyst-[0-9a-f]{8}$/m);
    assert.match(request.stdout, /^archetype: {2}computeToData$/m);
    assert.match(request.stdout, /^denied: {5}RUG \(NO_RELATION\)/m);
    assert.match(request.stdout, /^result computed by UVA on the data of UVA \(2 rows\):$/m);

    const json = dynamos(['request', path.join(repoRoot, 'experiments/requests/wage-gap-through-ttp.json'), '--url', url, '--json'], cwd);
    assert.equal(JSON.parse(json.stdout).archetype, 'dataThroughTtp');

    serve.kill('SIGTERM');
    const [code] = await once(serve, 'exit');
    assert.equal(code, 0);
    assert.deepEqual(taggedJobProcesses().filter((pid) => !before.includes(pid)), []);
  });

  it('exits 2 with every problem when the marketplace config is bad', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-serve-'));
    try {
      const bad = path.join(dir, 'bad.yaml');
      writeFileSync(bad, readFileSync(exampleMarketplaceFile, 'utf8').replace('weight: 100', 'weight: heavy').replace('[SURF, otherCompany]', '[SURF, nobody]'));
      const run = dynamos(['serve', '--config', bad, '--port', '0']);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /archetypes\.computeToData\.weight: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says where no daemon answers', () => {
    const run = dynamos(['request', 'experiments/requests/wage-gap.json', '--url', 'http://127.0.0.1:9']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no daemon answers at http:\/\/127\.0\.0\.1:9/);
  });

  it('runs the demo: the example marketplace on generated data, both archetypes, then stops', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'dynamos-demo-'));
    try {
      const run = dynamos(['demo', '--rows', '200'], cwd);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /archetype: {2}computeToData/);
      assert.match(run.stdout, /archetype: {2}dataThroughTtp at SURF/);
      assert.deepEqual(readdirSync(path.join(cwd, 'data', 'example')).sort(), ['RUG', 'UVA', 'VU', 'generated.json']);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
