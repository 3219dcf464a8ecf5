import assert from 'node:assert/strict';
import type { ChildProcessByStdio } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { readTraceFile } from '../../../replay/traces/trace-file.js';
import type { TraceEvent } from '../../../replay/traces/trace-format.js';
import { exampleData } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { exampleMarketplaceFile, repoRoot } from '../../support/fixtures.js';
import { bearerFromKeysDir } from '../../support/tokens.js';

const main = path.join(repoRoot, 'daemon', 'main.ts');
/** tsx by its absolute location, so commands run from any directory. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('dynamos serve --record', function () {
  let data: ExampleData;
  before(async () => (data = await exampleData(200)));
  after(() => data.remove());

  it('exits 2 before serving when the trace cannot be written, naming the path and leaving no file', () => {
    const target = path.join(data.dir, 'no-such-dir', 'x.jsonl');
    const run = spawnSync(process.execPath, ['--import', tsx, main, 'serve', '--record', target, '--port', '0', '--config', exampleMarketplaceFile, '--data-dir', data.dir], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.ok(run.stderr.includes(`cannot record the run to ${target}: the directory ${path.dirname(target)} does not exist`), run.stderr);
    assert.doesNotMatch(run.stdout, /is serving/);
    assert.equal(existsSync(target), false);
  });

  it('exits 2 on the default example too, for a directory that does not exist', () => {
    const run = spawnSync(process.execPath, ['--import', tsx, main, 'serve', '--record', '/nonexistent/dir/x.jsonl', '--port', '0'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /\/nonexistent\/dir\/x\.jsonl/);
  });

  it('records a request and its outcome, and closes the trace on SIGTERM', async () => {
    const file = path.join(data.dir, 'run.jsonl');
    const serve = spawn(
      process.execPath,
      ['--import', tsx, main, 'serve', '--config', exampleMarketplaceFile, '--data-dir', data.dir, '--port', '0', '--warm', '1', '--log-level', 'silent', '--decision-log', path.join(data.dir, 'decisions.jsonl'), '--record', file],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await recordOneRequest(serve, file, path.join(data.dir, 'keys'));
    } finally {
      if (serve.exitCode === null) serve.kill('SIGKILL'); // only when the test failed midway
    }
  });
});

/** Serves until it says where and what it records, sends the original request (signed with the daemon's key in `keysDir`), stops it with SIGTERM, reads the trace. */
async function recordOneRequest(serve: ChildProcessByStdio<null, Readable, Readable>, file: string, keysDir: string): Promise<void> {
  let out = '';
  serve.stdout.on('data', (d: Buffer) => (out += d.toString()));
  while (!/at (http:\/\/\S+)/.test(out) || !/recording the run to/.test(out)) await once(serve.stdout, 'data');
  const url = /at (http:\/\/\S+)/.exec(out)?.[1] as string;
  assert.ok(out.includes(`recording the run to ${file}`), out);

  const headers = await bearerFromKeysDir(keysDir, 'analyst@uva.example');
  const response = await fetch(`${url}/api/v1/requestApproval`, { method: 'POST', body: readFileSync(path.join(repoRoot, 'experiments/requests/wage-gap.json'), 'utf8'), headers });
  const answer = (await response.json()) as { jobId: string; archetype: string };
  assert.equal(response.status, 200);
  serve.kill('SIGTERM');
  const [code] = await once(serve, 'exit');
  assert.equal(code, 0);

  const reader = await readTraceFile(file);
  const events: TraceEvent[] = [];
  for await (const event of reader.events()) events.push(event);
  const kinds = events.filter((e) => (e.kind === 'request' && e.id === answer.jobId) || (e.kind === 'outcome' && e.requestId === answer.jobId));
  assert.deepEqual(kinds.map((e) => e.kind === 'outcome' ? `outcome ${e.archetype}` : e.kind), ['request', `outcome ${answer.archetype}`]);
}
