/**
 * npm's `prepare`, run by `npm ci` and `npm install` in a checkout: builds dist/ when the build
 * tools (devDependencies) are installed, so `npm ci && npm test` works on a fresh clone. A
 * production install (`npm ci --omit=dev`) has no TypeScript compiler: it skips the build and
 * expects dist/ built elsewhere, as the Dockerfile's build stage does (docs/deployment.md#packaging).
 * Plain JavaScript: it must run before anything is compiled, and without tsx.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import process from 'node:process';

const require = createRequire(import.meta.url);
const installed = (name) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};

const missing = ['typescript', 'esbuild'].filter((name) => !installed(name));
if (missing.length > 0) {
  process.stderr.write(`prepare: ${missing.join(' and ')} not installed (a production install): dist/ is not built here\n`);
  process.exit(0);
}
// The npm that runs this script, whichever that is; `npm` on the PATH otherwise.
const npm = process.env['npm_execpath'];
const build = npm !== undefined && /\.[cm]?js$/.test(npm)
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
if (build.error !== undefined) process.stderr.write(`prepare: could not run the build: ${build.error.message}\n`);
process.exit(build.status ?? 1);
