import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileDecisionLog } from '../../../knowledge/audit/log-file.js';
import { lockStaleMs } from '../../../knowledge/audit/log-lock.js';
import type { DynamosError } from '../../../knowledge/errors.js';
import { decision, testSigner } from '../../support/audit-records.js';

describe('one writer per decision log', () => {
  const signer = testSigner();
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-log-lock-'));
    file = path.join(dir, 'decisions.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const open = () => FileDecisionLog.open(file, { signer });

  /** A lock as a daemon that has since died left it: its directory, aged `ageMs`, and its holder file. */
  function lockLeftBy(pid: number, ageMs: number): void {
    mkdirSync(`${file}.lock`);
    writeFileSync(`${file}.lock.holder`, JSON.stringify({ pid, host: os.hostname(), since: '2030-01-01T12:00:00.000Z' }));
    const at = new Date(Date.now() - ageMs);
    utimesSync(`${file}.lock`, at, at);
  }
  /** The pid of a process that has exited. */
  const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

  it('refuses a second open of the same log in the same process, and the first keeps writing', async () => {
    const first = await open();
    await assert.rejects(open(), (e: DynamosError) => e.code === 'CONFIG_INVALID' && e.message.includes(file) && new RegExp(`open already in this process \\(pid ${process.pid}\\)`).test(e.message));
    assert.equal((await first.append(decision('r1'))).seq, 1);
    await first.close();
  });

  it('releases the lock at close, so a later open works', async () => {
    await (await open()).close();
    const again = await open();
    assert.equal(again.opening.kind, 'continued');
    await again.close();
  });

  it('takes over at once the fresh lock of a holder of this machine that is gone (killed with SIGKILL)', async () => {
    lockLeftBy(deadPid(), 0);
    const log = await open();
    assert.equal(log.opening.kind, 'created');
    await assert.rejects(open(), (e: DynamosError) => new RegExp(`open already in this process \\(pid ${process.pid}\\)`).test(e.message), 'and holds it');
    await log.close();
  });

  it('refuses while the fresh lock of a holder it cannot tell dead is held, saying when it expires', async () => {
    lockLeftBy(process.ppid, 0);
    await assert.rejects(open(), (e: DynamosError) => e.code === 'CONFIG_INVALID' && new RegExp(`in use by pid ${process.ppid} on ${os.hostname()}.*expires`).test(e.message));
  });

  it('takes over the lock of a holder that stopped refreshing it (killed with SIGKILL)', async () => {
    lockLeftBy(deadPid(), lockStaleMs + 1_000);
    const log = await open();
    assert.equal(log.opening.kind, 'created');
    await log.close();
  });

  it('names a live holder on another host, and what to do', async () => {
    mkdirSync(`${file}.lock`);
    writeFileSync(`${file}.lock.holder`, JSON.stringify({ pid: 4242, host: 'steward-vm', since: '2030-01-01T12:00:00.000Z' }));
    await assert.rejects(open(), (e: DynamosError) => /in use by pid 4242 on steward-vm, since 2030-01-01T12:00:00.000Z: one daemon writes a log\. Stop that daemon, or give this one its own log \(--decision-log FILE/.test(e.message));
  });
});
