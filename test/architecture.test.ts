import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './support/fixtures.js';

/**
 * docs/architecture.md: who may import whom. Each rule names a part of the tree and the parts it may import
 * from; the first rule matching a file applies.
 */
const rules: readonly { readonly from: string; readonly may: readonly string[] }[] = [
  { from: 'knowledge/', may: ['knowledge/'] },
  { from: 'proto/', may: ['proto/'] },
  { from: 'services/', may: ['services/', 'proto/', 'knowledge/'] },
  // The local runner issues its jobs' data-plane certificates from the marketplace CA.
  { from: 'adapters/local/', may: ['adapters/local/', 'adapters/tls/', 'services/', 'proto/', 'knowledge/'] },
  // The cluster runner shares the local runner's result collector and certificates, and starts the same jobs.
  { from: 'adapters/kubernetes/', may: ['adapters/kubernetes/', 'adapters/local/', 'adapters/tls/', 'services/', 'proto/', 'knowledge/'] },
  { from: 'adapters/', may: ['knowledge/'] },
  { from: 'daemon/mape/', may: ['daemon/mape/', 'knowledge/'] },
  { from: 'daemon/loop/', may: ['daemon/loop/', 'daemon/mape/', 'knowledge/'] },
  { from: 'daemon/api/', may: ['daemon/api/', 'daemon/loop/', 'daemon/mape/', 'knowledge/'] },
  // The replay runs the daemon's own decision step (daemon/mape) and records with its loop's recorder.
  { from: 'replay/', may: ['replay/', 'daemon/mape/', 'daemon/loop/', 'knowledge/'] },
  // The composition root wires everything, the replay included; nothing of ours imports experiments/.
  { from: 'daemon/', may: ['daemon/', 'adapters/', 'replay/', 'knowledge/'] },
  { from: 'experiments/', may: ['experiments/', 'replay/', 'daemon/', 'adapters/', 'services/', 'proto/', 'knowledge/'] },
];
const sourceDirs = ['knowledge', 'proto', 'services', 'adapters', 'daemon', 'replay', 'experiments'];

/** Files in our tree that each import of `file` resolves to. */
function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

/** Every import that breaks a rule, as "file → imported". */
export function violations(files: ReadonlyMap<string, readonly string[]>): string[] {
  const found: string[] = [];
  for (const [file, imports] of files) {
    const rule = rules.find((r) => file.startsWith(r.from));
    if (rule === undefined) continue;
    for (const target of imports) {
      const own = rule.may.some((p) => target.startsWith(p)) || target.startsWith(rule.from);
      if (!own) found.push(`${file} → ${target}`);
    }
  }
  return found;
}

function sourceFiles(): Map<string, string[]> {
  const files = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(repoRoot, dir))) {
      const rel = path.posix.join(dir, name);
      if (statSync(path.join(repoRoot, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.ts')) files.set(rel, importsOf(rel, readFileSync(path.join(repoRoot, rel), 'utf8')));
    }
  };
  for (const dir of sourceDirs) walk(dir);
  return files;
}

/** Files that cite documents outside the repository (the design and style notes it was started from). */
export function outsideCitations(files: ReadonlyMap<string, string>): string[] {
  // The original's sample data beside a checkout (../shared/datasets) is data a test may read, not a document.
  const outside = new RegExp(['DESIGN ' + '§', '\\(' + 'STYLE[:)]', '\\.\\./' + 'shared/(notes|DESIGN|STYLE)'].join('|'));
  return [...files].flatMap(([file, text]) => text.split('\n').flatMap((line, i) => (outside.test(line) ? [`${file}:${i + 1}`] : [])));
}

function textFiles(dirs: readonly string[], extensions: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(repoRoot, dir))) {
      const rel = path.posix.join(dir, name);
      if (statSync(path.join(repoRoot, rel)).isDirectory()) walk(rel);
      else if (extensions.some((e) => name.endsWith(e))) files.set(rel, readFileSync(path.join(repoRoot, rel), 'utf8'));
    }
  };
  for (const dir of dirs) walk(dir);
  return files;
}

describe('architecture (docs/architecture.md)', () => {
  it('cites only what is in the repository: code and docs point into docs/, not to notes outside it', () => {
    const files = textFiles([...sourceDirs, 'test', 'scripts', 'docs'], ['.ts', '.md', '.js', '.cjs']);
    files.set('README.md', readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));
    assert.ok(files.size > 100);
    assert.deepEqual(outsideCitations(files), []);
    assert.deepEqual(outsideCitations(new Map([['x.ts', 'a\n * the rule (' + 'STYLE: fakes)\n see ../' + 'shared/notes\n ../' + 'shared/datasets/dynamos']])), ['x.ts:2', 'x.ts:3']);
  });

  it('keeps every import inside the dependency direction', () => {
    const files = sourceFiles();
    assert.ok(files.size > 50, `expected the whole tree, found ${files.size} files`);
    assert.deepEqual(violations(files), []);
  });

  it('catches a broken arrow', () => {
    const files = new Map([
      ['knowledge/x.ts', ['daemon/mape/plan.js']],
      ['daemon/mape/plan.ts', ['adapters/local/index.js']],
      ['services/job/run-job.ts', ['daemon/config.js', 'knowledge/errors.js']],
      ['adapters/prometheus/source.ts', ['services/registry.js']],
    ]);
    assert.deepEqual(violations(files), [
      'knowledge/x.ts → daemon/mape/plan.js',
      'daemon/mape/plan.ts → adapters/local/index.js',
      'services/job/run-job.ts → daemon/config.js',
      'adapters/prometheus/source.ts → services/registry.js',
    ]);
  });

  it('imports nothing of the tests from the product', () => {
    const intoTests = [...sourceFiles()].flatMap(([file, imports]) => imports.filter((i) => i.startsWith('test/')).map((i) => `${file} → ${i}`));
    assert.deepEqual(intoTests, []);
  });
});
