/**
 * `npm run replay:update`: regenerates the golden traces and their decisions on purpose, after a
 * change that is meant to change decisions. Review the diff before committing it.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { goldenDecisions, goldenDir, goldenScenarios, goldenTraceLines } from '../replay/traces/golden-traces.js';

for (const scenario of goldenScenarios) {
  const trace = path.join(goldenDir, `${scenario}.jsonl`);
  writeFileSync(trace, `${goldenTraceLines(scenario).join('\n')}\n`);
}
// Recorded traces (from `serve --record`) are kept as they are; only their decisions are renewed.
for (const file of readdirSync(goldenDir).filter((f) => f.endsWith('.jsonl') && !f.endsWith('.decisions.jsonl'))) {
  const trace = path.join(goldenDir, file);
  const out = trace.replace(/\.jsonl$/, '.decisions.jsonl');
  const before = existsSync(out);
  writeFileSync(out, await goldenDecisions(trace));
  console.log(`${before ? 'updated' : 'created'} ${path.relative(process.cwd(), out)}`);
}
