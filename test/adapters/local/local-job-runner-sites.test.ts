import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { SimulatedClock } from 'xstate';
import type { LocalJobRunnerConfig } from '../../../adapters/local/config.js';
import { LocalJobRunner } from '../../../adapters/local/local-job-runner.js';
import type { SitesSettingsInput, SitesStatus } from '../../../adapters/local/sites/index.js';
import { analyze } from '../../../daemon/mape/analyze.js';
import { plan } from '../../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import { knowledgeOf } from '../../../knowledge/knowledge-snapshot.js';
import type { Deployment } from '../../../knowledge/ports/job-runner.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { exampleData, expectedAverages } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { dataRequest, exampleConfig, marketplaceFrom } from '../../support/fixtures.js';
import { jobTempDirsOfThisProcess, processesOfRunner } from '../../support/processes.js';
import { ipOutput } from './sites/site-test-support.js';
import { skipUnlessRoot } from '../../support/fake-cgroup-tree.js';

/** Where a job process was when it got its job: its cgroup per v1 controller (or v2's), and its network namespace. */
interface Whereabouts {
  readonly party: string;
  readonly pid: number;
  readonly cgroups: ReadonlyMap<string, string>;
  readonly netnsInode: number;
}

function whereabouts(party: string, pid: number): Whereabouts {
  const cgroups = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers = '', at = ''] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    for (const controller of controllers === '' ? ['unified'] : controllers.split(',')) cgroups.set(controller, at);
  }
  return { party, pid, cgroups, netnsInode: statSync(`/proc/${pid}/ns/net`).ino };
}

const namespaceInode = (namespace: string) => statSync(`/run/netns/${namespace}`).ino;

/** The hungry query of the memory tests: ten to the fifth distinct strings per person. */
const tens = 'WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10))';
const hungry = `${tens} SELECT count(DISTINCT p.Unieknr || a.x || b.x || c.x || d.x || e.x) AS n FROM Personen p, t a, t b, t c, t d, t e`;

describe('LocalJobRunner: jobs inside their party\'s site', function () {
  this.timeout(60_000);
  let data: ExampleData;
  const runners: LocalJobRunner[] = [];

  before(async function () {
    skipUnlessRoot(this, 'site cgroups and network namespaces');
    data = await exampleData(400);
  });
  after(() => data?.remove());
  afterEach(async () => {
    for (const runner of runners.splice(0)) {
      const status = (await runner.siteEnvelopes()).status();
      await runner.close();
      assert.deepEqual(processesOfRunner(runner.runnerId), [], 'no job process outlives its runner');
      assertSitesGone(status);
    }
    assert.deepEqual(jobTempDirsOfThisProcess(), [], 'no job temp directory is left behind');
  });

  /** A runner with these sites; skips the test, saying why, when they do not hold here. */
  async function runnerWith(ctx: Mocha.Context, sites: SitesSettingsInput, config: LocalJobRunnerConfig = {}): Promise<{ runner: LocalJobRunner; status: SitesStatus }> {
    const runner = new LocalJobRunner({ warmProcesses: 1, ...config }, { logger: silentLogger, clock: new SimulatedClock(), sites });
    runners.push(runner);
    const status = (await runner.siteEnvelopes()).status();
    if (!status.enforced) {
      console.log(`    (skipped: ${status.reason})`);
      ctx.skip();
    }
    return { runner, status };
  }

  function deploymentFor(overrides: Partial<DataRequest>): Deployment {
    const k = knowledgeOf(marketplaceFrom(exampleConfig(), data.dir), 0);
    const p = plan(k, analyze(k, dataRequest(overrides)), dynamosStrategy);
    assert.equal(p.kind, 'deploy');
    return { requestId: dataRequest(overrides).id, jobs: p.kind === 'deploy' ? p.jobs : [], deadlineMs: 60_000 };
  }

  /** Records where each job was the moment it got its job (before it could end). */
  function watchAssignments(runner: LocalJobRunner): Whereabouts[] {
    const seen: Whereabouts[] = [];
    runner.events.on('jobAssigned', ({ party, pid }: { party: string; pid: number }) => seen.push(whereabouts(party, pid)));
    return seen;
  }

  it('runs a dataThroughTtp request with the TTP and a steward in networked sites: right result, each job in its namespace and cgroups', async function () {
    const { runner, status } = await runnerWith(this, {
      SURF: { cpus: 0.5, memoryMiB: 1024, linkMbit: 100, network: true },
      VU: { cpus: 1, linkMbit: 50, network: true },
      UVA: { cpus: 1 },
    });
    const seen = watchAssignments(runner);
    const result = await runner.run(deploymentFor({ providers: ['VU', 'UVA'], options: { aggregate: true } }));

    assert.deepEqual(result.jobs.map((j) => [j.party, j.status]).sort(), [['SURF', 'succeeded'], ['UVA', 'succeeded'], ['VU', 'succeeded']]);
    assert.equal(result.results[0]?.computedBy, 'SURF');
    assert.deepEqual(result.results[0]?.table.rows, expectedAverages(data.dir, ['VU', 'UVA']));
    assert.deepEqual(seen.map((w) => w.party).sort(), ['SURF', 'UVA', 'VU']);
    const hostNetns = statSync('/proc/self/ns/net').ino;
    for (const job of seen) {
      const site = status.sites[job.party];
      const expectedNetns = site?.network === undefined ? hostNetns : namespaceInode(site.network.namespace);
      assert.equal(job.netnsInode, expectedNetns, `${job.party}'s job ran in ${site?.network === undefined ? 'the host\'s network' : site.network.namespace}`);
      const label = `site-${job.party.toLowerCase()}`;
      // v1: the memory group is the job's own, inside the site's; cpu and cpuacct are the site's own.
      const memory = job.cgroups.get('memory') ?? job.cgroups.get('unified') ?? '';
      assert.match(memory, new RegExp(`/${label}/job-\\d+$`), `${job.party}'s job has its memory group inside its site's`);
      for (const controller of status.cgroupVersion === 'v1' ? ['cpu', 'cpuacct'] : []) {
        assert.match(job.cgroups.get(controller) ?? '', new RegExp(`/${label}$`), `${job.party}'s job is under its site's ${controller}`);
      }
    }
    const vu = status.sites['VU']?.network;
    assert.ok(vu !== undefined && (await runner.siteEnvelopes()).listenAddress('VU') === vu.address);
  });

  it('tells a job stopped by its site\'s memory limit from one stopped by its own', async function () {
    // DuckDB's own limit set high, so the OS limits are what stop the jobs.
    const { runner } = await runnerWith(this, { UVA: { memoryMiB: 128 }, VU: { memoryMiB: 512 } }, { jobMemoryMiB: 256, jobMemoryLimit: '4GB' });
    const bySite = await runner.run(deploymentFor({ providers: ['UVA'], algorithm: 'none', query: hungry, options: {} }));
    assert.deepEqual(bySite.jobs.map((j) => [j.status, j.error?.code]), [['failed', 'JOB_OUT_OF_MEMORY']]);
    assert.equal(bySite.jobs[0]?.error?.message, 'UVA\'s site passed its memory limit of 128 MiB (all its jobs together) and the operating system stopped this job');
    const byItself = await runner.run(deploymentFor({ providers: ['VU'], algorithm: 'none', query: hungry, options: {} }));
    assert.deepEqual(byItself.jobs.map((j) => [j.status, j.error?.code]), [['failed', 'JOB_OUT_OF_MEMORY']]);
    assert.equal(byItself.jobs[0]?.error?.message, 'the job passed its memory limit of 256 MiB and the operating system stopped it');
  });
});

/** No namespace, veth, bridge or cgroup of these sites is left. */
function assertSitesGone(status: SitesStatus): void {
  const namespaces = ipOutput(['netns', 'list']);
  const links = ipOutput(['-br', 'link']);
  for (const [party, site] of Object.entries(status.sites)) {
    if (site.network !== undefined) {
      assert.ok(!namespaces.includes(site.network.namespace), `${party}'s namespace is gone`);
      assert.ok(!links.includes(site.network.hostInterface), `${party}'s veth is gone`);
    }
    for (const dir of site.cgroups ?? []) assert.equal(existsSync(dir), false, `${dir} is gone`);
  }
  if (status.bridge !== undefined) assert.ok(!links.includes(`${status.bridge.name} `), 'the bridge is gone');
}
