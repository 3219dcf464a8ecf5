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
