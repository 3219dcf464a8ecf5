import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { jobCommand } from '../../adapters/kubernetes/job-manifest.js';
import { exampleMarketplaceFile } from '../../daemon/config.js';
import { repoRoot } from '../support/fixtures.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** The Dockerfile's stages and their instructions: comments dropped, continued lines joined. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of joined) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest };
    if (instruction.keyword === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name = '', value = ''] = rest.split('=');
      args.set(name, value);
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return { args, stages };
}

/** A COPY's sources and destination; `from` is the stage it copies from, if any. */
function copyOf(instruction: Instruction): { from: string | undefined; sources: string[]; dest: string } {
  const words = instruction.args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
}

/** Whether .dockerignore keeps `source` out of the build context (its patterns, root-relative). */
function ignored(source: string, patterns: readonly string[]): boolean {
  const normal = path.posix.normalize(source).replace(/\/$/, '');
  return patterns.some((pattern) => {
    const glob = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
    return glob.test(normal);
  });
}

describe('the Dockerfile (checked as text: there is no Docker engine here to build it)', () => {
  const { args, stages } = parseDockerfile(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  const ignorePatterns = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const runtime = stages.at(-1) as Stage;
  const build = stages.find((s) => s.name === 'build');
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { files: string[]; scripts: Record<string, string> };
  const copies = (stage: Stage | undefined) => (stage?.instructions ?? []).filter((i) => i.keyword === 'COPY').map(copyOf);
  const last = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;

  it('builds from Node 20 slim in every stage', () => {
    const image = (from: string) => from.replace(/^\$\{(\w+)\}$/, (_, name: string) => args.get(name) ?? from);
    assert.deepEqual(stages.map((s) => s.name), ['build', 'deps', undefined]);
    for (const stage of stages) assert.match(image(stage.from), /^node:20-(bookworm-)?slim$/);
  });

  it('copies from the build context only files that exist and that .dockerignore lets in', () => {
    const sources = stages.flatMap((s) => copies(s).filter((c) => c.from === undefined).flatMap((c) => c.sources));
    assert.ok(sources.length > 10);
    assert.deepEqual(sources.filter((s) => !existsSync(path.join(repoRoot, s))), [], 'missing in the repository');
    assert.deepEqual(sources.filter((s) => ignored(s, ignorePatterns)), [], 'kept out of the context by .dockerignore');
  });

  it('has an ignore check that can fail', () => {
    assert.deepEqual(['test/x.test.ts', 'node_modules', 'dist/daemon', 'daemon', 'a.log', 'experiments/requests'].filter((s) => ignored(s, ignorePatterns)), ['test/x.test.ts', 'node_modules', 'dist/daemon', 'a.log']);
  });

  it('gives the build stage every directory the build compiles, and the prepare script npm ci runs', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const copied = new Set(copies(build).flatMap((c) => c.sources));
    const prepareScript = /^node (\S+)$/.exec(pkg.scripts['prepare'] ?? '')?.[1];
    const needed = [...tsconfig.include, 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', prepareScript ?? 'the prepare script'];
    assert.deepEqual(needed.filter((n) => !copied.has(n)), []);
    assert.ok(build?.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && !/--omit=dev/.test(i.args)));
  });

  it('runs as user 1000 from /app, the daemon by default, with production dependencies only', () => {
    assert.equal(last(runtime, 'WORKDIR'), '/app');
    assert.match(last(runtime, 'USER') ?? '', /^1000(:1000)?$/);
    assert.deepEqual(JSON.parse(last(runtime, 'ENTRYPOINT') ?? 'null'), ['node', 'dist/daemon/main.js']);
    assert.equal((JSON.parse(last(runtime, 'CMD') ?? '[]') as string[])[0], 'serve');
    const deps = stages.find((s) => s.name === 'deps');
    assert.ok(deps?.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args)));
    assert.deepEqual(copies(runtime).filter((c) => c.from !== undefined).map((c) => `${c.from}:${c.sources.join(',')}`), ['deps:/src/node_modules', 'build:/src/dist']);
  });

  it('puts into the runtime stage what the package ships beside dist/: what the daemon reads at run time', () => {
    const copied = copies(runtime).filter((c) => c.from === undefined).flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));
    const shipped = pkg.files.filter((f) => !f.startsWith('!') && !f.startsWith('dist')).map((f) => f.replace(/\/$/, ''));
    assert.deepEqual(shipped.filter((f) => !copied.includes(f)), []);
    assert.ok(copied.includes(path.relative(repoRoot, exampleMarketplaceFile()).split(path.sep).join('/')), 'the default marketplace');
    assert.ok(copied.includes('LICENSE'));
  });

  it('starts jobs with the file the cluster runner names, from the same working directory', () => {
    const [node, entry = ''] = jobCommand;
    assert.equal(node, 'node');
    assert.match(entry, /^dist\//, 'inside dist/, which the runtime stage copies to /app/dist');
    assert.ok((pkg.scripts['build:job'] ?? '').includes(`--outfile=${entry} `), `npm run build:job writes ${entry}`);
  });
});
