/* eslint-disable @typescript-eslint/no-explicit-any -- dashboards and provisioning are Grafana's JSON and YAML */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { Dashboard } from './dashboards.js';
import { dashboardsDir, describeQuery, influxUid, labelValuesQuery, loadDashboards, loadProvisioning, panelQueries, panelsOf, prometheusUid, substitute, variableQueries } from './dashboards.js';
import { parsePromQL } from './promql.js';

/** What Grafana would put for its variables; any value parses, Prometheus is not asked here. */
const grafanaValues = { __rate_interval: '1m', __interval: '15s', __range: '1h', instance: '.+', party: '.+' };

/** Every way a PromQL expression of the dashboards fails to parse, naming dashboard, panel and expression. */
function promqlProblems(dashboards: readonly Dashboard[]): string[] {
  const variables = variableQueries(dashboards).filter((q) => q.datasourceUid === prometheusUid);
  const queries = [...panelQueries(dashboards).filter((q) => q.datasourceUid === prometheusUid), ...variables.map((q) => ({ ...q, text: labelValuesQuery(q.text).selector }))];
  return queries.flatMap((q) => parsePromQL(substitute(q.text, grafanaValues)).errors.map((e) => `${describeQuery(q)} does not parse: ${e}`));
}

describe('Grafana dashboards and provisioning (files)', () => {
  const dashboards = loadDashboards();
  const provisioning = loadProvisioning();
  const datasources = (provisioning.get('datasources/dynamos.yaml')?.datasources ?? []) as any[];

  it('has the control loop, parties and experiments dashboards, each valid JSON with a fixed uid', () => {
    assert.deepEqual(readdirSync(dashboardsDir).sort(), ['control-loop.json', 'experiments.json', 'parties.json']);
    assert.deepEqual(dashboards.map((d) => d.json.uid), ['dynamos-control-loop', 'dynamos-experiments', 'dynamos-parties']);
    for (const d of dashboards) assert.ok(d.json.schemaVersion >= 36 && d.json.schemaVersion <= 41, `${d.file}: schemaVersion ${d.json.schemaVersion}`);
  });

  it('reads the daemon dashboards from Prometheus (the control loop\'s decisions from InfluxDB) and the experiments dashboard from InfluxDB', () => {
    const sources = (file: string) => [...new Set(panelQueries(dashboards.filter((d) => d.file === file)).map((q) => q.datasourceUid))];
    assert.deepEqual([sources('control-loop.json'), sources('parties.json'), sources('experiments.json')], [[prometheusUid, influxUid], [prometheusUid], [influxUid]]);
  });

  it('gives every panel of a dashboard its own id', () => {
    for (const d of dashboards) {
      const ids = panelsOf(d).map((p) => p.id);
      assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], `${d.file}: duplicate panel ids`);
      assert.ok(ids.every((id) => Number.isInteger(id) && id > 0), `${d.file}: every id a positive integer`);
    }
  });

  it('uses only timeseries, stat, table and row panels, placed inside the 24-column grid', () => {
    for (const d of dashboards) {
      for (const p of panelsOf(d)) {
        assert.ok(['timeseries', 'stat', 'table', 'row'].includes(p.type), `${d.file} #${p.id}: type ${p.type}`);
        assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${d.file} #${p.id}: gridPos ${JSON.stringify(p.gridPos)}`);
        if (p.type !== 'row') assert.ok(p.targets.length > 0 && typeof p.description === 'string', `${d.file} #${p.id}: queries and a description`);
      }
    }
  });

  it('refers to data sources only by a uid the provisioning defines, with the matching type', () => {
    const defined = new Map(datasources.map((s) => [s.uid as string, s.type as string]));
    assert.deepEqual([...defined], [[prometheusUid, 'prometheus'], [influxUid, 'influxdb']]);
    for (const d of dashboards) {
      for (const p of panelsOf(d).filter((x) => x.type !== 'row')) {
        for (const ds of [p.datasource, ...p.targets.map((t: any) => t.datasource)]) {
          assert.equal(defined.get(ds?.uid), ds?.type, `${d.file} #${p.id}: data source ${JSON.stringify(ds)}`);
        }
      }
      for (const v of d.json.templating.list) assert.equal(defined.get(v.datasource?.uid), v.datasource?.type, `${d.file} variable $${v.name}`);
    }
  });

  it('reads data source URLs from $PROMETHEUS_URL and $INFLUXDB_URL, InfluxDB through InfluxQL on database dynamos', () => {
    assert.equal(provisioning.get('datasources/dynamos.yaml').apiVersion, 1);
    assert.deepEqual(datasources.map((s) => s.url), ['$PROMETHEUS_URL', '$INFLUXDB_URL']);
    const influx = datasources.find((s) => s.uid === influxUid);
    assert.deepEqual([influx.jsonData.version, influx.jsonData.dbName], ['InfluxQL', 'dynamos']);
  });

  it('provisions the dashboards from a file provider', () => {
    const [provider, ...others] = provisioning.get('dashboards/dynamos.yaml').providers as any[];
    assert.deepEqual(others, []);
    assert.deepEqual([provider.type, provider.folder, provider.options.path], ['file', 'DYNAMOS', '$DYNAMOS_DASHBOARDS_DIR']);
  });

  it('gives every experiments query the trace and strategy it shows, every daemon query the daemon picked, and every decisions query the time range', () => {
    for (const q of panelQueries(dashboards)) {
      if (q.dashboard === 'experiments.json') assert.match(q.text, /"trace" =~ \/\^\$trace\$\/ AND "strategy" =~ \/\^\$strategy\$\/ AND \$timeFilter/, describeQuery(q));
      else if (q.datasourceUid === influxUid) assert.match(q.text, /FROM "decisions" WHERE \$timeFilter/, describeQuery(q));
      else assert.match(q.text, /instance=~"\$instance"/, describeQuery(q));
    }
  });

  it('has PromQL that Prometheus\'s grammar parses, in every panel and variable', () => {
    assert.deepEqual(promqlProblems(dashboards), []);
  });

  it('has a PromQL check that names the dashboard, panel and expression it fails on', () => {
    const broken: Dashboard = { file: 'broken.json', json: { panels: [{ id: 7, title: 'Bad', datasource: { uid: prometheusUid }, targets: [{ refId: 'A', expr: 'sum(rate(x[$__rate_interval])' }] }], templating: { list: [] } } };
    const [problem, ...more] = promqlProblems([broken]);
    assert.deepEqual(more, []);
    assert.match(problem ?? '', /^broken\.json #7 "Bad" A: sum\(rate\(x\[\$__rate_interval\]\) does not parse: offset \d+/);
  });

  it('refuses a Grafana variable the tests do not give a value for', () => {
    assert.throws(() => substitute('rate(x{job=~"$job"}[$__rate_interval])', grafanaValues), /unknown Grafana variable \$job/);
  });
});
