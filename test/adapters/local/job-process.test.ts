import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { JobProcess } from '../../../adapters/local/job-process.js';
import { processesOfRunner } from '../../support/processes.js';

describe('JobProcess: one single-use job process', () => {
  const runnerId = `test-${randomUUID()}`;
  afterEach(() => assert.deepEqual(processesOfRunner(runnerId), []));

  it('hands the same message to every caller waiting for it', async () => {
    const job = new JobProcess({ runnerId, env: {} });
    const [first, second] = await Promise.all([job.message('ready'), job.message('ready')]);
    assert.deepEqual([first.type, second.type], ['ready', 'ready']);
    assert.ok(job.readyAt !== undefined && job.readyAt >= job.spawnedAt);
    job.kill();
    assert.deepEqual(await job.exited, { code: null, signal: 'SIGKILL' });
  });

  it('rejects a wait for a message the process died without sending, saying how it died', async () => {
    const job = new JobProcess({ runnerId, env: {} });
    await job.ready;
    const accepting = job.message('accepting');
    job.kill();
    await assert.rejects(accepting, /exited \(signal SIGKILL\) before "accepting"/);
    assert.equal(job.alive, false);
  });

  it('starts under a launch prefix that execs Node in place, keeping its pid, its process group and its IPC channel', async () => {
    // env(1) execs its command as `ip netns exec` does (a site's namespace), and needs no privileges.
    const job = new JobProcess({ runnerId, env: {}, launchPrefix: ['/usr/bin/env'] });
    await job.ready;
    const stat = (await import('node:fs')).readFileSync(`/proc/${job.pid}/stat`, 'utf8');
    const [, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    assert.equal(Number(pgrp), job.pid, 'the job leads its own process group, so a kill ends all of it');
    assert.ok(processesOfRunner(runnerId).includes(job.pid as number), 'the pid is the job\'s own (node), not the launcher\'s');
    job.kill();
    assert.deepEqual(await job.exited, { code: null, signal: 'SIGKILL' });
  });

  it('passes on none of the daemon\'s environment but what it allows', async () => {
    process.env['DYNAMOS_TEST_SECRET'] = 'hunter2';
    const job = new JobProcess({ runnerId, env: { EXTRA: '1' } });
    try {
      await job.ready;
      const environ = (await import('node:fs')).readFileSync(`/proc/${job.pid}/environ`, 'utf8').split('\0');
      assert.ok(!environ.some((v) => v.startsWith('DYNAMOS_TEST_SECRET=')));
      assert.ok(!environ.some((v) => v.startsWith('NODE_EXTRA_CA_CERTS=')));
      assert.ok(environ.includes('EXTRA=1'));
    } finally {
      delete process.env['DYNAMOS_TEST_SECRET'];
      job.kill();
      await job.exited;
    }
  });
});
