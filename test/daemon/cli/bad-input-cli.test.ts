import assert from 'node:assert/strict';
import type { ChildProcessByStdio } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { LocalIssuer } from '../../../daemon/local-issuer.js';
import { exampleData } from '../../support/example-data.js';
import { exampleMarketplaceFile, repoRoot } from '../../support/fixtures.js';

const main = path.join(repoRoot, 'daemon', 'main.ts');
/** tsx by its absolute location, so commands run from any directory. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs `dynamos ...args` to its end, as a user would, in `cwd`. */
function dynamos(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const run = spawnSync(process.execPath, ['--import', tsx, main, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Starts `dynamos ...args` with stdout and stderr piped. */
function start(args: readonly string[], cwd: string): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, ['--import', tsx, main, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What a user must never see: a stack frame, a raw zod error, an unhandled stream error. */
function assertNoRawError(stderr: string): void {
  assert.doesNotMatch(stderr, /ZodError|^\s+at |EPIPE|Unhandled 'error'/m, stderr);
}

/** Rows of a generated table, its header left out. */
const rowsOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').length - 1;

/** Live processes whose environment carries `entry` (Linux /proc). */
function processesWithEnv(entry: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry) && !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false; // ended while we looked, or not ours to read
      }
    })
    .map(Number);
}

describe('dynamos, given bad input or bad settings: one clear message, never a stack', function () {
  let tmp: string;
  beforeEach(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamos-bad-input-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('exits 2 with one line when the port is in use, and leaves no job process behind', async () => {
    const data = await exampleData(20);
    const taken = createServer().listen(0, '127.0.0.1');
    try {
      await once(taken, 'listening');
      const port = (taken.address() as AddressInfo).port;
      // Jobs inherit NODE_V8_COVERAGE and nothing else of ours: a value of this test's own marks them.
      const tag = `NODE_V8_COVERAGE=${path.join(tmp, 'coverage')}`;
      const args = ['serve', '--data-dir', data.dir, '--port', String(port), '--warm', '1', '--log-level', 'silent', '--decision-log', path.join(tmp, 'decisions.jsonl')];
      const run = dynamos(args, tmp, { ...process.env, NODE_V8_COVERAGE: path.join(tmp, 'coverage') });
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr, `cannot listen on 127.0.0.1:${port}: the port is in use\n`);
      assert.deepEqual(processesWithEnv(tag), []);
    } finally {
      taken.close();
      data.remove();
    }
  });

  it('ends quietly with status 0 when the reader of its output goes away (`| head -1`)', async () => {
    const check = start(['check-config', exampleMarketplaceFile], tmp);
    check.stdout.destroy(); // closed before the command writes: its first write meets EPIPE
    let stderr = '';
    check.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(check, 'close');
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });

  it('ends a token command quietly too, after saying on stderr what the token is', async () => {
    const keys = path.join(tmp, 'keys');
    await LocalIssuer.open(keys);
    const token = start(['token', '--user', 'analyst@uva.example', '--keys-dir', keys], tmp);
    token.stdout.destroy();
    let stderr = '';
    token.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(token, 'close');
    assert.equal(code, 0, stderr);
    assert.match(stderr, /^token for analyst@uva\.example \(no roles\) from .*issuer\.key\.pem, valid until \S+\n$/);
  });

  it('reports every bad value of a settings file with its path and exits 2', () => {
    const settings = path.join(tmp, 'settings.yaml');
    writeFileSync(settings, 'port: 70000\nstrategy: { name: utility, options: { holdDownMs: -5 } }\n');
    const run = dynamos(['serve', '--settings', settings], tmp);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^port: /m);
    assert.match(run.stderr, /^strategy\.options\.holdDownMs: /m);
    assertNoRawError(run.stderr);
  });

  const missing = [
    { flag: '--settings', says: (file: string) => `(file): cannot read the settings file (--settings) ${file}: no such file or directory` },
    { flag: '--config', says: (file: string) => `cannot read the marketplace config (marketplaceFile, --config) ${file}: no such file or directory` },
  ];
  for (const row of missing) {
    it(`exits 2 with one line naming ${row.flag} when its file does not exist`, () => {
      const run = dynamos(['serve', row.flag, 'nope.yaml', '--port', '0'], tmp);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr, `${row.says('nope.yaml')}\n`);
    });
  }

  const urls = [
    { flag: '--amqp-url', field: 'amqp.url', says: 'must be an amqp or amqps URL' },
    { flag: '--prometheus-url', field: 'metrics.prometheus.url', says: 'must be an http or https URL' },
    { flag: '--influx-url', field: 'influx.url', says: 'must be an http or https URL' },
  ];
  for (const row of urls) {
    it(`exits 2 naming ${row.field} when ${row.flag} is not a URL`, () => {
      const run = dynamos(['serve', row.flag, 'notaurl', '--port', '0'], tmp);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr, `the daemon config is invalid:\n${row.field}: ${row.says}\n`);
      assert.deepEqual(readdirSync(tmp), [], 'refused before anything was written');
    });
  }

  it('generate-data refuses to overwrite existing files, naming the first, and overwrites with --force', () => {
    const out = path.join(tmp, 'D');
    assert.equal(dynamos(['generate-data', '--rows', '50', '--out', out], tmp).status, 0);
    const refused = dynamos(['generate-data', '--rows', '5', '--out', out], tmp);
    assert.equal(refused.status, 2, refused.stderr);
    assert.equal(refused.stderr, `${path.join(out, 'UVA', 'Personen.csv')} exists (and 6 more of the files to write): --force overwrites\n`);
    assert.equal(rowsOf(path.join(out, 'UVA', 'Personen.csv')), 50);
    const forced = dynamos(['generate-data', '--rows', '5', '--out', out, '--force'], tmp);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(rowsOf(path.join(out, 'RUG', 'Aanstellingen.csv')), 5);
  });

  it('serve uses the data generate-data wrote, and refuses another --rows without --force', async () => {
    const dir = path.join(tmp, 'D');
    assert.equal(dynamos(['generate-data', '--rows', '500', '--out', dir], tmp).status, 0);
    const serve = start(['serve', '--data-dir', dir, '--port', '0', '--warm', '0', '--decision-log', path.join(tmp, 'decisions.jsonl')], tmp);
    let stdout = '';
    let stderr = '';
    serve.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    serve.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(serve, 'close');
    while (!/is serving/.test(stdout) && serve.exitCode === null) await Promise.race([once(serve.stdout, 'data'), exited]);
    serve.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /"message":"using the example data already in the data directory","rowsPerSteward":500/);
    assert.equal(rowsOf(path.join(dir, 'UVA', 'Personen.csv')), 500);

    const other = dynamos(['serve', '--data-dir', dir, '--rows', '30', '--port', '0', '--log-level', 'warn', '--decision-log', path.join(tmp, 'decisions.jsonl')], tmp);
    assert.equal(other.status, 2, other.stderr);
    assert.equal(other.stderr, `${dir} holds example data of 500 rows per steward, not the 30 rows asked for: pass --force to replace it with 30 rows, or leave out --rows to use it\n`);
    assert.equal(rowsOf(path.join(dir, 'UVA', 'Personen.csv')), 500);
  });
});
