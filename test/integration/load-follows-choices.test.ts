/* eslint-disable @typescript-eslint/no-explicit-any -- /healthz is JSON read field by field; each assertion states the shape it expects */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SitesStatus } from '../../adapters/local/sites/index.js';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon, localRunnerOf } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { processesOfRunner } from '../support/processes.js';
import { asRequester } from '../support/tokens.js';
import { ipOutput } from '../adapters/local/sites/site-test-support.js';
import { skipUnlessRoot } from '../support/fake-cgroup-tree.js';

const periodMs = 1_000;
const loadThreshold = 0.8;
const holdDownMs = 10_000;
const parties = ['SURF', 'otherCompany', 'VU', 'UVA', 'RUG'] as const;

/** What the knowledge base took in, in its order: the loop's readings and the requests' choices. */
type Moment = { readonly kind: 'reading'; readonly at: number; readonly cpu: Readonly<Record<string, number>> } | { readonly kind: 'choice'; readonly at: number; readonly ttp: string | undefined };

/** An aggregated request of VU's and UVA's data: only a TTP can aggregate, so every answer names one. */
const body = {
  type: 'sqlDataRequest',
  user: { id: '1', userName: 'analyst@uva.example' },
  dataProviders: ['VU', 'UVA'],
  data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options: { aggregate: true }, requestMetadata: {} },
};

describe('load follows choices: the utility strategy on parties with sites of their own', function () {
  this.timeout(60_000);
  let data: ExampleData | undefined;
  let daemon: RunningDaemon | undefined;
  let status: SitesStatus | undefined;
  const timeline: Moment[] = [];

  before(async function () {
    skipUnlessRoot(this, 'site cgroups and network namespaces');
    data = await exampleData(2_000);
    // Both TTPs allowed, so there is a choice between them.
    const marketplaceFile = path.join(data.dir, 'marketplace.yaml');
    writeFileSync(marketplaceFile, readFileSync(exampleMarketplaceFile, 'utf8').replaceAll('allowedComputeProviders: [SURF]', 'allowedComputeProviders: [SURF, otherCompany]'));
    daemon = await startDaemon(
      {
        port: 0,
        marketplaceFile,
        dataDir: data.dir,
        decisionLogFile: path.join(data.dir, 'decisions.jsonl'),
        watchConfig: false,
        // Enough waiting processes that back-to-back requests do not wait for one to start.
        runner: { warmProcesses: 4, warmProcessesPerNetworkedSite: 2 },
        metrics: { source: 'local' },
        loop: { periodMs, loadThreshold },
        // Latency and energy weigh nothing: what jobs taught about each TTP differs by chance, and this is about load.
        strategy: { name: 'utility', options: { holdDownMs, toleranceBand: 0.01, loadThreshold, weights: { latency: 0, energy: 0, loadHeadroom: 1, policyPreference: 0 } } },
        // Every party has a site, so each reads its own CPU and none sees the rest of the machine's load
        // (this machine's other work included). SURF is small, so one burner fills it however busy
        // the machine is. otherCompany has a core: a burst of requests shows in its load, but cannot
        // take it over the 95 % cap, which would rightly end the hold-down at once.
        sites: { SURF: { cpus: 0.25, network: true, linkMbit: 200 }, otherCompany: { cpus: 1, network: true, linkMbit: 200 }, VU: {}, UVA: {}, RUG: {} },
      },
      { logger: silentLogger },
    );
    status = (await localRunnerOf(daemon).siteEnvelopes()).status();
    if (!status.enforced) {
      console.log(`    (skipped: ${status.reason})`);
      this.skip();
    }
    daemon.knowledge.onChange((_, event) => {
      if (event.kind === 'metricsRead') {
        const cpu = Object.fromEntries(event.reading.samples.filter((s) => s.signal === 'cpu').map((s) => [s.party, s.value]));
        timeline.push({ kind: 'reading', at: event.reading.at, cpu });
      } else if (event.kind === 'choiceMade') timeline.push({ kind: 'choice', at: event.at, ttp: event.ttp });
    });
  });

  afterEach(function () {
    // What the strategy saw and did, to read when a test failed.
    if (this.currentTest?.state === 'failed') for (const m of timeline) console.log(`      ${JSON.stringify(m)}`);
  });

  after(async () => {
    const runnerId = daemon === undefined ? undefined : localRunnerOf(daemon).runnerId;
    await daemon?.close();
    data?.remove();
    if (runnerId !== undefined) assert.deepEqual(processesOfRunner(runnerId), [], 'no job process outlives the daemon');
    const namespaces = ipOutput(['netns', 'list']);
    for (const [party, site] of Object.entries(status?.sites ?? {})) {
      assert.ok(site.network === undefined || !namespaces.includes(site.network.namespace), `${party}'s namespace is gone`);
    }
  });

  const readings = () => timeline.filter((m): m is Extract<Moment, { kind: 'reading' }> => m.kind === 'reading');
  const latestReading = () => readings().at(-1);

  /** Sends the request; resolves with the TTP its answer names. */
  async function request(): Promise<string> {
    const live = daemon as RunningDaemon;
    const response = await fetch(`${live.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(body), headers: await asRequester(live, body) });
    const json = (await response.json()) as { ttp?: string; message?: string };
    assert.equal(response.status, 200, json.message);
    return json.ttp as string;
  }

  /** Waits for a reading that passes `test`, taken after `after` (ms, the daemon's clock). */
  async function readingWhere(what: string, test: (cpu: Readonly<Record<string, number>>) => boolean, after = 0, timeoutMs = 15_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = readings().find((r) => r.at > after && test(r.cpu));
      if (found !== undefined) return found;
      if (Date.now() > until) throw new Error(`no reading where ${what} within ${timeoutMs} ms; the last: ${JSON.stringify(latestReading())}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** How many loop readings the knowledge base took in strictly between two moments. */
  const readingsBetween = (from: number, to: number) => readings().filter((r) => r.at > from && r.at < to).length;

  it('shows each site, its cgroups and its namespace in /healthz', async () => {
    const health = (await (await fetch(`${(daemon as RunningDaemon).url}/healthz`)).json()) as any;
    const sites = health.dataPlane.sites;
    assert.equal(sites.enforced, true);
    assert.deepEqual(Object.keys(sites.sites).sort(), [...parties].sort());
    assert.equal(sites.sites.SURF.cpus, 0.25);
    assert.equal(sites.sites.SURF.linkMbit, 200);
    assert.match(sites.sites.SURF.network.namespace, /^dynamos-\d+-[0-9a-f]{6}-surf$/);
    assert.ok(sites.sites.VU.cgroups.length > 0 && sites.sites.VU.network === undefined);
    assert.match(sites.bridge.address, /^10\.213\.\d+\.1\/24$/);
    assert.ok(sites.notes.some((n: string) => /latency is not emulated/.test(n)));
    assert.equal(health.dataPlane.transport, 'gRPC over mutual TLS');
  });

  it('sends SURF\'s requests to otherCompany once SURF is busy, and back only after the hold-down', async () => {
    const live = daemon as RunningDaemon;
    const idle = await readingWhere('every party has a reading', (cpu) => parties.every((p) => cpu[p] !== undefined));
    assert.equal(await request(), 'SURF', 'with every party idle, SURF (first in the marketplace) is chosen');

    let burner: ChildProcess | undefined;
    try {
      burner = spawn(process.execPath, ['-e', 'for(;;);'], { stdio: 'ignore' });
      const burnerPid = burner.pid as number;
      await (await localRunnerOf(live).siteEnvelopes()).place('SURF', burnerPid);
      const busy = await readingWhere(`SURF's cpu is at or over ${loadThreshold}`, (cpu) => (cpu['SURF'] ?? 0) >= loadThreshold, idle.at);
      for (const party of parties.filter((p) => p !== 'SURF')) assert.ok((busy.cpu[party] ?? 1) < loadThreshold, `${party} stays low while SURF burns: ${busy.cpu[party]}`);
      assert.equal(await request(), 'otherCompany', 'the first request after the reading goes to otherCompany');
      const switched = timeline.findLast((m) => m.kind === 'choice') as Moment;
      const periodsToSwitch = readingsBetween(busy.at, switched.at);
      assert.ok(periodsToSwitch <= 1, `switched ${periodsToSwitch} loop periods after the reading`);
      const since = Object.values(live.knowledge.current().choices).find((c) => c.ttp === 'otherCompany')?.since;
      assert.ok(since !== undefined, 'the switch starts a hold-down');

      burner.kill('SIGKILL');
      await once(burner, 'exit');
      const calm = await readingWhere(`SURF's cpu is under ${loadThreshold} again`, (cpu) => (cpu['SURF'] ?? 1) < loadThreshold, busy.at);
      const quiet = await readingWhere('otherCompany is idle', (cpu) => (cpu['otherCompany'] ?? 1) < 0.02, switched.at);

      // Requests one after another until one goes back to SURF: a burst through otherCompany meanwhile.
      const burstFrom = live.knowledge.current().at;
      const until = since + holdDownMs + 20_000;
      let back: string | undefined;
      while (back === undefined && Date.now() < until) if ((await request()) === 'SURF') back = 'SURF';
      assert.equal(back, 'SURF', 'requests went back to SURF');

      const choices = timeline.filter((m): m is Extract<Moment, { kind: 'choice' }> => m.kind === 'choice' && m.at >= since);
      const firstBack = choices.find((c) => c.ttp === 'SURF') as Moment;
      assert.ok(firstBack.at - since >= holdDownMs, `went back ${firstBack.at - since} ms after the switch, within the hold-down of ${holdDownMs} ms`);
      const heldWhileCalm = choices.filter((c) => c.at > calm.at && c.at < since + holdDownMs);
      assert.ok(heldWhileCalm.length > 0 && heldWhileCalm.every((c) => c.ttp === 'otherCompany'), 'with SURF calm again, the hold-down kept requests at otherCompany');
      const burstReadings = readings().filter((r) => r.at > burstFrom && r.at < firstBack.at);
      const burstPeak = Math.max(...burstReadings.map((r) => r.cpu['otherCompany'] ?? 0));
      assert.ok(burstPeak > (quiet.cpu['otherCompany'] ?? 0), `a burst through otherCompany raises its cpu: ${quiet.cpu['otherCompany']} before, ${burstPeak} during`);
      const periodsBack = readingsBetween(since + holdDownMs, firstBack.at);
      console.log(
        `      (SURF cpu ${busy.cpu['SURF']?.toFixed(2)} burning, others ${parties.filter((p) => p !== 'SURF').map((p) => `${p} ${busy.cpu[p]?.toFixed(2)}`).join(', ')}; ` +
          `switched ${periodsToSwitch} loop periods after the reading; back ${((firstBack.at - since) / 1000).toFixed(1)} s after the switch, ${periodsBack} loop periods after the hold-down; ` +
          `otherCompany cpu ${quiet.cpu['otherCompany']?.toFixed(2)} before the burst of ${choices.filter((c) => c.at >= burstFrom && c.at < firstBack.at).length} requests, up to ${burstPeak.toFixed(2)} during)`,
      );
    } finally {
      if (burner?.pid !== undefined && burner.exitCode === null && burner.signalCode === null) process.kill(burner.pid, 'SIGKILL');
    }
  });
});
