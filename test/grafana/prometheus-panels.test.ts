import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { parseExposition } from '../daemon/telemetry/exposition.js';
import { setTargetGroup } from '../daemon/telemetry/prometheus-targets.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { requireTestServerEnv } from '../support/servers/server-env.js';
import { analyst, bearer } from '../support/tokens.js';
import type { PanelQuery } from './dashboards.js';
import { describeQuery, labelValuesQuery, loadDashboards, panelQueries, prometheusUid, substitute, variableQueries } from './dashboards.js';
import { pollUntil } from './poll.js';
import { parsePromQL } from './promql.js';

const dashboards = loadDashboards();
const panels = panelQueries(dashboards).filter((q) => q.datasourceUid === prometheusUid);
const variables = variableQueries(dashboards).filter((q) => q.datasourceUid === prometheusUid);

const request = (providers: string[], options: Record<string, boolean>) => ({
  type: 'sqlDataRequest',
  user: { id: '1', userName: 'analyst@uva.example' },
  dataProviders: providers,
  data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options, requestMetadata: {} },
});

/** The names of the series in the daemon's /metrics (histograms as `_bucket`, `_sum`, `_count`). */
async function exposedNames(daemon: RunningDaemon): Promise<Set<string>> {
  return new Set(parseExposition(await (await fetch(`${daemon.url}/metrics`)).text()).samples.map((s) => s.name));
}

describe('Grafana PromQL panels against a running daemon (embedded default)', function () {
  let data: ExampleData;
  let daemon: RunningDaemon;

  before(async function () {
    this.timeout(120_000);
    data = await exampleData(100);
    daemon = await startDaemon(
      {
        port: 0,
        marketplaceFile: exampleMarketplaceFile,
        dataDir: data.dir,
        decisionLogFile: `${data.dir}/decisions.jsonl`,
        runner: { warmProcesses: 1 },
        watchConfig: false,
        // The utility strategy scores its choices, so the utility panel has a series to show.
        strategy: { name: 'utility' },
        // One read at start feeds the load panels; later reads would measure this busy machine.
        loop: { periodMs: 3_600_000 },
      },
      { logger: silentLogger },
    );
    const read = await pollUntil(async () => ((await exposedNames(daemon)).has('dynamos_party_signal') ? true : undefined));
    assert.ok(read, 'the background loop read the parties\' load');
    // In the embedded default every party is this machine, and a test machine is busy (starting
    // job processes, other suites): at 100 % CPU the utility strategy would refuse every party.
    // The world these requests meet is a calm one.
    const parties = [...Object.keys(daemon.marketplace().dataStewards), ...Object.keys(daemon.marketplace().computeProviders)];
    const at = Date.now();
    daemon.knowledge.apply({ kind: 'metricsRead', reading: { at, failures: [], samples: parties.flatMap((party) => [{ party, signal: 'cpu', value: 0.2, at }, { party, signal: 'memory', value: 0.3, at }] as const) } });
    // Answered under each archetype, and one denied (RUG has no agreement with the requester).
    const asked: [string[], Record<string, boolean>, number][] = [[['UVA'], { aggregate: false }, 200], [['VU', 'UVA'], { aggregate: true }, 200], [['RUG'], { aggregate: false }, 403]];
    for (const [providers, options, status] of asked) {
      const answer = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(request(providers, options)), headers: await bearer(daemon, analyst) });
      assert.equal(answer.status, status, await answer.text());
    }
  });
  after(async () => {
    await daemon?.close();
    data?.remove();
  });

  it('names only metrics the daemon\'s /metrics has series of', async () => {
    const exposed = await exposedNames(daemon);
    const missing = [...panels, ...variables.map((v) => ({ ...v, text: labelValuesQuery(v.text).selector }))].flatMap((q) =>
      parsePromQL(q.text.replace(/\$\w+/g, '1m')).metricNames.filter((name) => !exposed.has(name)).map((name) => `${describeQuery(q)} names ${name}`),
    );
    assert.deepEqual(missing, []);
    assert.ok(panels.length >= 20, `the dashboards have their PromQL panels (${panels.length})`);
  });

  describe('queried in a real Prometheus scraping that daemon', function () {
    let prom: string;
    let targets: string;
    let instance: string;
    const run = randomUUID();

    before(async function () {
      prom = requireTestServerEnv(this, 'PROM_URL');
      targets = requireTestServerEnv(this, 'PROM_TARGETS_FILE');
      instance = new URL(daemon.url).host;
      await setTargetGroup(targets, instance, { targets: [instance], labels: { test_run: run } });
      // rate() and increase() need two scrapes after the requests; Prometheus scrapes every second.
      const scraped = await pollUntil(async () => ((await series(`count_over_time(dynamos_requests_total{instance="${instance}"}[1m]) >= 3`)) > 0 ? true : undefined), 60_000);
      assert.ok(scraped, `Prometheus scraped ${instance} three times`);
    });
    after(async () => {
      if (targets !== undefined && instance !== undefined) await setTargetGroup(targets, instance, undefined);
    });

    /** What Grafana would send for the variables, the daemon picked by its instance. */
    const asGrafanaSendsIt = (q: PanelQuery) => substitute(q.text, { __rate_interval: '10s', __interval: '2s', __range: '2m', instance, party: '.+' });

    /** Series the query returns: instant at now, or over the last two minutes like a panel. */
    async function series(expr: string, instant = true): Promise<number> {
      const now = Date.now() / 1000;
      const url = instant
        ? `${prom}/api/v1/query?query=${encodeURIComponent(expr)}&time=${now}`
        : `${prom}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${now - 120}&end=${now}&step=2`;
      const body = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: unknown[] } };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data?.result.length ?? 0;
    }

    it('returns at least one series for every panel query', async function () {
      this.timeout(120_000);
      const empty: string[] = [];
      for (const q of panels) {
        const expr = asGrafanaSendsIt(q);
        const found = await pollUntil(async () => ((await series(expr, q.instant)) > 0 ? true : undefined), 20_000);
        if (found === undefined) empty.push(`${describeQuery(q)} returned no series (sent: ${expr})`);
      }
      assert.deepEqual(empty, []);
    });

    it('offers values for every template variable', async () => {
      const empty: string[] = [];
      for (const v of variables) {
        const { selector, label } = labelValuesQuery(asGrafanaSendsIt(v));
        const url = `${prom}/api/v1/label/${label}/values?match[]=${encodeURIComponent(selector)}`;
        const values = await pollUntil(async () => {
          const body = (await (await fetch(url)).json()) as { data?: string[] };
          return (body.data?.length ?? 0) > 0 ? body.data : undefined;
        });
        if (values === undefined) empty.push(`${describeQuery(v)} offered no value`);
      }
      assert.deepEqual(empty, []);
    });
  });
});
