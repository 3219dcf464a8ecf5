import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/fixtures.js';

const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Runs a command without a terminal or stdin, as CI does; throws with its output when it fails.
 * `npm` is asked with CI=true and no update check or audit, so it never prompts or phones home
 * beyond the registry.
 */
function run(file: string, args: readonly string[], cwd: string, timeoutMs = 150_000): SpawnSyncReturns<string> {
  const env = { ...process.env, CI: 'true', npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };
  const done = spawnSync(file, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  if (done.error !== undefined) throw done.error;
  if (done.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${done.status}:\n${done.stdout}\n${done.stderr}`);
  return done;
}

/** Where `dynamos` lands when the package is installed. */
interface Installed {
  readonly dir: string;
  /** The project it is installed into. */
  readonly project: string;
  readonly files: readonly string[];
  readonly bin: string;
}

/**
 * Packs this checkout as `npm publish` would, then installs the tarball with production
 * dependencies only into an empty project. Packs with --ignore-scripts: `prepare` would rebuild
 * dist/ in place under the other suites (and other checkouts' runs); the suite runs on the dist/
 * that `npm ci` (or `npm run build`) built.
 */
function packAndInstall(): Installed {
  assert.ok(existsSync(path.join(repoRoot, 'dist', 'daemon', 'main.js')), 'dist/ is built (npm ci or npm run build)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-pack-'));
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repoRoot).stdout) as { filename: string; files: { path: string }[] }[];
  const [tarball] = packed;
  assert.ok(tarball !== undefined);
  const project = path.join(dir, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'dynamos-install-check', private: true, version: '0.0.0' }));
  run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', path.join(dir, tarball.filename)], project);
  return { dir, project, files: tarball.files.map((f) => f.path), bin: path.join(project, 'node_modules', '.bin', 'dynamos') };
}

describe('the npm package, installed with production dependencies only', function () {
  // Packing, then an install from the npm cache (the registry when the cache misses).
  this.timeout(240_000);
  let installed: Installed;

  before(function () {
    this.timeout(240_000);
    installed = packAndInstall();
  });
  after(() => {
    if (installed !== undefined) rmSync(installed.dir, { recursive: true, force: true });
  });

  it('holds the built daemon, the job bundle, the runtime files and the licence, and no tests, sources or maps', () => {
    const { files } = installed;
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/daemon/main.js', 'dist/services/job/job-main.cjs', 'experiments/marketplaces/example.yaml', 'experiments/requests/wage-gap.json']) {
      assert.ok(files.includes(file), `the package has ${file}`);
    }
    const unwanted = files.filter((f) => /^test\/|\.test\.|\.map$|\.ts$|tsbuildinfo|^dist\/experiments\/bench\//.test(f) && !f.endsWith('.d.ts'));
    assert.deepEqual(unwanted, []);
    assert.deepEqual(files.filter((f) => !/^(dist|experiments)\//.test(f)).sort(), ['LICENSE', 'README.md', 'package.json']);
  });

  it('runs `dynamos --help` and `dynamos --version`', () => {
    const help = run(installed.bin, ['--help'], installed.dir);
    assert.match(help.stdout, /^Usage: dynamos \[options\] \[command\]/);
    assert.match(help.stdout, /^ {2}serve\b/m);
    assert.equal(run(installed.bin, ['--version'], installed.dir).stdout, `${version}\n`);
  });

  it('reads its bundled example marketplace, and loads DuckDB\'s native binding for this platform', () => {
    const example = path.join(installed.project, 'node_modules', 'dynamos-ts', 'experiments', 'marketplaces', 'example.yaml');
    assert.match(run(installed.bin, ['check-config', example], installed.dir).stdout, /^marketplace example, revision [0-9a-f]{12}: valid$/m);
    const probe = "const { DuckDBInstance } = await import('@duckdb/node-api'); const c = await (await DuckDBInstance.create(':memory:')).connect(); console.log((await c.runAndReadAll('SELECT 40 + 2 AS n')).getRows()[0][0]);";
    assert.equal(run(process.execPath, ['--input-type=module', '-e', probe], installed.project).stdout.trim(), '42');
  });
});

describe('dynamos --version', () => {
  it('prints the bare version of package.json', () => {
    const done = spawnSync(process.execPath, ['--import', 'tsx', 'daemon/main.ts', '--version'], { cwd: repoRoot, encoding: 'utf8' });
    assert.deepEqual([done.status, done.stdout, done.stderr], [0, `${version}\n`, '']);
  });
});
