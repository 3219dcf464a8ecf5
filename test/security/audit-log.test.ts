import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { auditVerify } from '../../daemon/cli/audit.js';
import { loadOrCreateKeyPair } from '../../daemon/key-pair.js';
import type { SignedHead } from '../../knowledge/audit/checkpoint.js';
import { auditSigner, signCheckpoint, signedHeadValid } from '../../knowledge/audit/checkpoint.js';
import { FileDecisionLog } from '../../knowledge/audit/log-file.js';
import type { DynamosError } from '../../knowledge/errors.js';
import { decision, testSigner } from '../support/audit-records.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile, repoRoot } from '../support/fixtures.js';
import { outputUntil } from '../support/processes.js';
import type { WrittenLog } from '../support/log-tampering.js';
import { appendForged, isCheckpoint, rewriteAndRehash, textOf, writeLog } from '../support/log-tampering.js';

/** tsx by its absolute location, so child processes run TypeScript from any directory. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs `dynamos audit verify` as its function: the exit status and what it printed. */
async function verifyFile(file: string, opts: { keys: string[]; head?: string }) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await auditVerify(file, opts, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

/**
 * An audit log that cannot be quietly cut (docs/security.md, docs/designs/008-signed-audit-log.md):
 * each way of tampering with a written log is caught by `audit verify` and named; a killed daemon
 * neither blocks the next start for long nor hides its unsigned records; two daemons never write
 * one log.
 */
describe('security: the signed decision log', () => {
  let dir: string;
  let keyFile: string;
  let written: WrittenLog;
  const signer = testSigner();
  before(async () => (written = await writeLog(signer)));
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-audit-security-'));
    keyFile = path.join(dir, 'audit.pub.pem');
    writeFileSync(keyFile, signer.publicKey.export({ type: 'spki', format: 'pem' }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = (lines: readonly string[]) => {
    const file = path.join(dir, 'decisions.jsonl');
    writeFileSync(file, textOf(lines));
    return file;
  };
  const lastHash = () => written.hashes[6] as string;

  describe('`dynamos audit verify FILE --key PUB [--head HASH]`', () => {
    it('exits 0 on an untampered log with checkpoints, saying it ends with the shutdown checkpoint', async () => {
      const run = await verifyFile(logFile(written.closed), { keys: [keyFile] });
      assert.equal(run.status, 0, run.err);
      assert.match(run.out, /7 records, 4 signed checkpoints, intact; ends with the daemon's shutdown checkpoint \(line 11\); head: record 7/);
    });

    // Each row: what was done to the log, the --head given, and the line and kind printed first.
    const tampering: { what: string; lines: () => string[]; head?: () => string; printed: RegExp }[] = [
      { what: 'the last records dropped, without --head', lines: () => written.closed.slice(0, 7), printed: /decisions\.jsonl:6: unsigned-tail: 2 record\(s\) after the last signed checkpoint/ },
      { what: 'the last records dropped back to a checkpoint, without --head', lines: () => written.closed.slice(0, 9), printed: /decisions\.jsonl:9: open-end: the log ends at checkpoint 3/ },
      { what: 'the last records dropped, with --head', lines: () => written.closed.slice(0, 9), head: lastHash, printed: /decisions\.jsonl:9: tail-cut: the published head .* is not in the log, which ends at record 6: records were cut from its end/ },
      { what: 'one record rewritten and every later hash recomputed', lines: () => rewriteAndRehash(written.closed, 4, (r) => ({ ...r, choice: { archetype: 'dataThroughTtp', ttp: 'SURF' } })), printed: /decisions\.jsonl:9: rewritten: checkpoint 3 signed record 6 .* a record after checkpoint 2 \(line 5\) was rewritten/ },
      { what: 'a forged, correctly chained record appended', lines: () => appendForged(written.closed), printed: /decisions\.jsonl:12: forged-append: record 8 follows the daemon's shutdown checkpoint/ },
      { what: 'the file emptied', lines: () => [], printed: /decisions\.jsonl:1: empty: the log is empty/ },
      { what: 'the checkpoints stripped', lines: () => written.closed.filter((l) => !isCheckpoint(l)), printed: /decisions\.jsonl:1: no-checkpoint: none of the 7 records is signed/ },
      { what: 'a checkpoint signature forged', lines: () => written.closed.map((l, i) => (i === 8 ? forgedSignature(l) : l)), printed: /decisions\.jsonl:9: forged-checkpoint: checkpoint 3's signature does not verify/ },
    ];
    for (const t of tampering) {
      it(`exits 1 and names it when ${t.what}`, async () => {
        const run = await verifyFile(logFile(t.lines()), { keys: [keyFile], ...(t.head === undefined ? {} : { head: t.head() }) });
        assert.equal(run.status, 1, run.out);
        assert.match(run.err.split('\n')[0] ?? '', t.printed, run.err);
      });
    }

    it("exits 1 on a killed daemon's log without --head, saying why, and 0 against the head it published", async () => {
      const file = logFile(written.killed);
      const alone = await verifyFile(file, { keys: [keyFile] });
      assert.equal(alone.status, 1);
      assert.match(alone.err, /decisions\.jsonl:10: unsigned-tail: .*the daemon is still running or did not stop cleanly; verify against a published head with --head/);
      assert.equal((await verifyFile(file, { keys: [keyFile], head: lastHash() })).status, 0);
    });

    const usage: { what: string; opts: () => { keys: string[]; head?: string }; file?: string; says: RegExp }[] = [
      { what: 'without --key', opts: () => ({ keys: [] }), says: /needs the daemon's public key: --key FILE \(PEM\).*GET \/api\/v1\/audit\/key.*audit\.pub\.pem/ },
      { what: 'with a key file that is not a key', opts: () => ({ keys: [path.join(dir, 'decisions.jsonl')] }), says: /cannot read the key .*decisions\.jsonl/ },
      { what: 'with a --head that is not a hash', opts: () => ({ keys: [keyFile], head: 'abc' }), says: /--head abc: expected the 64 hex digits/ },
      { what: 'on a log that does not exist', opts: () => ({ keys: [keyFile] }), file: 'missing.jsonl', says: /cannot read .*missing\.jsonl/ },
    ];
    for (const u of usage) {
      it(`exits 2 ${u.what}`, async () => {
        const file = u.file === undefined ? logFile(written.closed) : path.join(dir, u.file);
        const run = await verifyFile(file, u.opts());
        assert.equal(run.status, 2);
        assert.match(run.err, u.says);
      });
    }
  });

  it('a killed daemon: its lock is taken over at once, its unsigned records show until the next start signs them as a recovery', async () => {
    const pair = loadOrCreateKeyPair(path.join(dir, 'keys'), 'audit');
    const file = path.join(dir, 'decisions.jsonl');
    const holder = spawn(process.execPath, ['--import', tsx, path.join(repoRoot, 'test', 'support', 'audit-log-holder.ts'), file, pair.privateFile, '5', '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [, pid, head] = (await outputUntil(holder, /ready.*\n/)).trim().split(' ');
      const open = () => FileDecisionLog.open(file, { signer: auditSigner(pair.privateKey), checkpointEvery: 3 });
      await assert.rejects(open(), (e: DynamosError) => e.code === 'CONFIG_INVALID' && e.message.includes(`the decision log ${file} is in use by pid ${pid}`));

      holder.kill('SIGKILL');
      await once(holder, 'exit');
      const unsigned = await verifyFile(file, { keys: [pair.publicFile] });
      assert.match(unsigned.err, /unsigned-tail: 2 record\(s\) after the last signed checkpoint/);
      assert.equal((await verifyFile(file, { keys: [pair.publicFile], head: head as string })).status, 0, 'vouched for by the head it published');
      // The holder is gone: its lock is taken over at once, not after it goes stale.
      const restarted = await open();
      assert.deepEqual([restarted.opening.kind, restarted.opening.signedLate], ['recovered', 2]);
      assert.equal((await restarted.append(decision('after-restart'))).seq, 6);
      await restarted.close();
      const clean = await verifyFile(file, { keys: [pair.publicFile] });
      assert.equal(clean.status, 0, clean.err);
      assert.match(clean.out, /note: recovery: the daemon did not stop cleanly before this start; records 4–5 .* were signed when the daemon started again/);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  describe('two daemons on one log, as a user starts them', function () {
    let data: ExampleData;
    before(async () => (data = await exampleData(50)));
    after(() => data.remove());
    const serveArgs = (log: string, level = 'silent') => ['--import', tsx, path.join(repoRoot, 'daemon', 'main.ts'), 'serve', '--config', exampleMarketplaceFile, '--data-dir', data.dir, '--port', '0', '--warm', '0', '--log-level', level, '--decision-log', log];

    it('cuts a torn last line at start, serves the key and a signed head, refuses a second daemon with exit 2 naming the first, and leaves a log that verifies', async () => {
      const log = path.join(dir, 'decisions.jsonl');
      const pair = loadOrCreateKeyPair(path.join(dir, 'keys'), 'audit');
      writeFileSync(log, `${textOf((await writeLog(auditSigner(pair.privateKey), 4, 3)).closed)}{"at":1700000000000,"requestId":"torn`);
      const first = spawn(process.execPath, serveArgs(log, 'warn'), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let logged = '';
      first.stderr?.on('data', (d: Buffer) => (logged += d.toString()));
      try {
        const out = await outputUntil(first, /-----END PUBLIC KEY-----/);
        const cut = logged.split('\n').find((l) => l.includes('line cut short'));
        assert.match(cut ?? logged, /"keptIn":"[^"]*decisions\.jsonl\.torn-[^"]*".*"lastRecord":4/);
        const url = /at (http:\/\/\S+)/.exec(out)?.[1] as string;
        const publicFile = path.join(dir, 'keys', 'audit.pub.pem');
        assert.ok(out.includes(readFileSync(publicFile, 'utf8').trim()), 'the public key is printed at start');
        assert.match(out, /signed with audit key [0-9a-f]{16} \(.*keys\/audit\.pub\.pem; GET \/api\/v1\/audit\/key serves it\)/);

        const served = await fetch(`${url}/api/v1/audit/key`);
        assert.equal(await served.text(), readFileSync(publicFile, 'utf8'));
        const head = (await (await fetch(`${url}/api/v1/audit/head`)).json()) as SignedHead;
        assert.deepEqual([head.seq, signedHeadValid(head, createPublicKey(readFileSync(publicFile, 'utf8')))], [4, true]);

        const second = spawnSync(process.execPath, serveArgs(log), { cwd: dir, encoding: 'utf8', timeout: 120_000 });
        assert.equal(second.status, 2, second.stderr);
        assert.match(second.stderr, new RegExp(`the decision log ${log} is in use by pid ${first.pid} on .*: one daemon writes a log\\. Stop that daemon, or give this one its own log`));
        assert.equal((await verifyFile(log, { keys: [publicFile], head: head.hash })).status, 0, 'the running log, against its published head');

        first.kill('SIGTERM');
        assert.equal((await once(first, 'exit'))[0], 0);
        const closed = await verifyFile(log, { keys: [publicFile] });
        assert.equal(closed.status, 0, closed.err);
        assert.match(closed.out, /4 records, 5 signed checkpoints, intact; ends with the daemon's shutdown checkpoint/);

        const edited = path.join(dir, 'edited.jsonl');
        writeFileSync(edited, `${readFileSync(log, 'utf8')}{}\n`);
        const refused = spawnSync(process.execPath, serveArgs(edited), { cwd: dir, encoding: 'utf8', timeout: 120_000 });
        assert.equal(refused.status, 2, refused.stderr);
        assert.match(refused.stderr, /the decision log .*edited\.jsonl cannot be continued: the line after record 4 is neither a decision record .* would silently restart the numbering/);
      } finally {
        first.kill('SIGKILL');
      }
    });
  });
});

/** The checkpoint line signed again by a forger's own key, under the daemon's key id. */
function forgedSignature(line: string): string {
  const c = JSON.parse(line) as ReturnType<typeof signCheckpoint>;
  return JSON.stringify({ checkpoint: c.checkpoint, signature: signCheckpoint(c.checkpoint, testSigner()).signature });
}
