import type { CommandOutput } from './check-config.js';

interface ResultView {
  computedBy: string;
  providers: string[];
  columns: { name: string; type: string }[];
  rows: unknown[][];
  rowCount: number;
  graph?: string;
}

interface ReplyBody {
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  jobId?: string;
  archetype?: string;
  ttp?: string | null;
  authorisedProviders?: string[];
  deniedProviders?: { provider: string; reason: string; message: string }[];
  results?: ResultView[];
  failures?: { party: string; code: string; message: string }[];
  decision?: { strategy: string; reason: string };
  timings?: { decisionMs: number; executeMs: number; totalMs: number };
}

const maxRowsShown = 20;

/** A requestApproval answer for people: who was asked, what was decided and why, the results. */
export function printReply(status: number, body: ReplyBody, out: CommandOutput): void {
  const view: ReplyBody = body.jobId === undefined && body.details !== undefined ? { ...(body.details as ReplyBody), ...body } : body;
  out.out(`HTTP ${status}${view.jobId ? `, job ${view.jobId}` : ''}`);
  if (view.code !== undefined) out.out(`${view.code}: ${view.message ?? ''}`);
  for (const p of (view.details?.['problems'] as { path: string; message: string }[] | undefined) ?? []) out.out(`  ${p.path}: ${p.message}`);
  if (view.authorisedProviders !== undefined) out.out(`authorised: ${view.authorisedProviders.join(', ') || 'none'}`);
  for (const d of view.deniedProviders ?? []) out.out(`denied:     ${d.provider} (${d.reason}) ${d.message}`);
  if (view.archetype !== undefined) {
    out.out(`archetype:  ${view.archetype}${view.ttp ? ` at ${view.ttp}` : ''}`);
    if (view.decision) out.out(`decision:   ${view.decision.strategy} strategy, ${view.decision.reason}`);
  }
  for (const r of view.results ?? []) {
    out.out('');
    out.out(`result computed by ${r.computedBy} on the data of ${r.providers.join(', ')} (${r.rowCount} rows):`);
    for (const line of table(r)) out.out(`  ${line}`);
    if (r.graph !== undefined) out.out(`  (an SVG chart of ${r.graph.length} bytes is in the JSON answer: use --json)`);
  }
  for (const f of view.failures ?? []) out.out(`failed:     ${f.party} (${f.code}) ${f.message}`);
  if (view.timings) {
    const t = view.timings;
    out.out('');
    out.out(`timings:    decision ${t.decisionMs} ms, jobs ${t.executeMs} ms, total ${t.totalMs} ms`);
  }
}

function table(r: ResultView): string[] {
  const header = r.columns.map((c) => c.name);
  const shown = r.rows.slice(0, maxRowsShown).map((row) => row.map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...shown.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const lines = [line(header), ...shown.map(line)];
  if (r.rows.length > maxRowsShown) lines.push(`… ${r.rows.length - maxRowsShown} more rows (use --json for all)`);
  return lines;
}

function cell(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(3);
  return String(value);
}
