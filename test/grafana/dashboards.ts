/* eslint-disable @typescript-eslint/no-explicit-any -- dashboards are Grafana's JSON, read field by field */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/fixtures.js';

export const grafanaDir = path.join(repoRoot, 'grafana');
export const dashboardsDir = path.join(grafanaDir, 'dashboards');
export const provisioningDir = path.join(grafanaDir, 'provisioning');

export interface Dashboard {
  readonly file: string;
  readonly json: any;
}

/** One query of one panel (or of one template variable), with where it came from for messages. */
export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly datasourceUid: string;
  /** PromQL for Prometheus, InfluxQL for InfluxDB, as written in the dashboard. */
  readonly text: string;
  /** Grafana asks for one value at the end of the range (instant) instead of a series over it. */
  readonly instant: boolean;
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(dashboardsDir, file), 'utf8')) }));
}

/** Every panel, with the panels inside collapsed rows too. */
export function panelsOf(dashboard: Dashboard): any[] {
  return (dashboard.json.panels as any[]).flatMap((p) => [p, ...((p.panels as any[] | undefined) ?? [])]);
}

/** The queries of every panel of the dashboards, in PromQL (`expr`) or InfluxQL (`query`). */
export function panelQueries(dashboards: readonly Dashboard[]): PanelQuery[] {
  return dashboards.flatMap((d) =>
    panelsOf(d).flatMap((p) =>
      ((p.targets as any[] | undefined) ?? []).map((t) => ({
        dashboard: d.file,
        panel: `#${p.id} "${p.title}"`,
        refId: String(t.refId),
        datasourceUid: String(t.datasource?.uid ?? p.datasource?.uid),
        text: String(t.expr ?? t.query ?? ''),
        instant: t.instant === true,
      })),
    ),
  );
}

/** The queries of the template variables (Grafana's `label_values(...)` or `SHOW TAG VALUES ...`). */
export function variableQueries(dashboards: readonly Dashboard[]): PanelQuery[] {
  return dashboards.flatMap((d) =>
    ((d.json.templating?.list as any[] | undefined) ?? [])
      .filter((v) => v.type === 'query')
      .map((v) => ({ dashboard: d.file, panel: `variable $${v.name}`, refId: v.name, datasourceUid: String(v.datasource?.uid), text: String(v.definition ?? v.query), instant: true })),
  );
}

/** Names a query in an assertion message. */
export function describeQuery(q: PanelQuery): string {
  return `${q.dashboard} ${q.panel} ${q.refId}: ${q.text}`;
}

/** The parsed provisioning files, by path relative to grafana/provisioning. */
export function loadProvisioning(): Map<string, any> {
  const files = new Map<string, any>();
  for (const kind of readdirSync(provisioningDir)) {
    for (const file of readdirSync(path.join(provisioningDir, kind))) files.set(`${kind}/${file}`, parseYaml(readFileSync(path.join(provisioningDir, kind, file), 'utf8')));
  }
  return files;
}

export const prometheusUid = 'dynamos-prometheus';
export const influxUid = 'dynamos-influxdb';

/**
 * Replaces Grafana's variables in `text` with the values Grafana would put there, so the query
 * can be parsed or sent as is. Throws when a `$variable` is left that `values` does not know:
 * a dashboard using a variable the tests do not model would otherwise pass unchecked.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  let out = text;
  for (const name of names) out = out.replaceAll(`$${name}`, values[name] as string);
  const left = /\$\{?[A-Za-z_]\w*/.exec(out);
  if (left !== null) throw new Error(`unknown Grafana variable ${left[0]} in: ${text}`);
  return out;
}

/** Grafana's `label_values(<selector>, <label>)` of a Prometheus variable, split in its parts. */
export function labelValuesQuery(text: string): { selector: string; label: string } {
  const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text.trim());
  if (match === null) throw new Error(`not a label_values(selector, label) query: ${text}`);
  return { selector: match[1] as string, label: match[2] as string };
}
