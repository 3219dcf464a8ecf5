import path from 'node:path';
import { createDuckDBQueryInspector } from '../../adapters/duckdb/index.js';
import { parseRequestBody } from '../../daemon/api/request-body.js';
import { exampleMarketplaceFile } from '../../daemon/config.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { loadMarketplaceFile, validateMarketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { generateWageGapData } from '../../daemon/example-data/generate-wage-gap.js';
import { generateMarketplace } from '../marketplaces/generate-marketplace.js';
import { benchDecision } from './decision-bench.js';
import { benchDirectDuckDB } from './direct-duckdb.js';
import { benchEndToEnd } from './end-to-end-bench.js';
import { benchIsolation } from './isolation-bench.js';
import { benchJobStart } from './job-start-bench.js';
import { benchStreams } from './stream-bench.js';
import { ratio } from './stats.js';

export function requestBody(providers: string[], options: Record<string, boolean>, algorithm = 'average') {
  return {
    type: 'sqlDataRequest',
    user: { id: '12324', userName: 'analyst@uva.example' },
    dataProviders: providers,
    data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm, options, requestMetadata: {} },
  };
}

/** Issue 2's figures: end to end against direct DuckDB, job start, decisions, a million rows. */
export async function dataPlaneFigures(scratch: string, repeats: number, log: (line: string) => void): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {};
  log('job start (cold spawn to ready) …');
  figures['jobStart'] = { coldSpawnToReadyMs: await benchJobStart(repeats * 2), targetMs: 100, originalMs: 1700 };

  log('decision time …');
  const example = await loadMarketplaceFile(exampleMarketplaceFile(), scratch);
  if (!example.ok) throw new Error('the example marketplace does not load');
  const inspector = await createDuckDBQueryInspector();
  const request = await parseRequestBody(requestBody(['VU', 'UVA', 'RUG'], { aggregate: false }), example.marketplace, inspector);
  await inspector.close();
  const generated = validateMarketplace(generateMarketplace({ stewards: 1000, relationsPerSteward: 100, ttps: 3 }, exampleMarketplaceFile()), scratch);
  if (!generated.ok) throw new Error(`the generated marketplace is invalid: ${JSON.stringify(generated.problems.slice(0, 3))}`);
  const asked = (n: number, step: number) => ({ ...request, requester: 'r0@example.org', providers: Array.from({ length: n }, (_, i) => `S${String(i * step).padStart(4, '0')}`) });
  // `ms`: a question Analyze has not answered before under this policy; `repeatedMs`: one it has (from memory).
  const both = (m: typeof example.marketplace, r: typeof request, n: number) => ({ ms: benchDecision(m, r, n, 'anew'), repeatedMs: benchDecision(m, r, n, 'again') });
  figures['decision'] = {
    exampleMarketplace: { ...both(example.marketplace, request, 20_000), targetP99Ms: 0.2 },
    generated1000StewardsX100Relations: {
      tenProviders: { ...both(generated.marketplace, asked(10, 97), 20_000), targetP99Ms: 2 },
      hundredProviders: { ...both(generated.marketplace, asked(100, 9), 5_000), targetP99Ms: 2 },
    },
  };

  log('streams over the gRPC data plane on loopback, beside a raw socket …');
  figures['streams'] = await benchStreams(repeats);
  log('isolation of sites: an idle party while another\'s envelope is saturated …');
  figures['isolation'] = await benchIsolation(Math.max(5, repeats));

  log('generating 3 × 250,000 rows …');
  const data250k = path.join(scratch, 'rows-250k');
  await generateWageGapData(data250k, ['UVA', 'VU', 'RUG'], { rows: 250_000 });
  const settings = (dataDir: string) => ({ port: 0, marketplaceFile: exampleMarketplaceFile(), dataDir, logLevel: 'silent' as const, watchConfig: false, decisionLogFile: path.join(scratch, 'decisions.jsonl') });
  const daemon = await startDaemon(settings(data250k), { logger: silentLogger });
  try {
    log('dataThroughTtp, 2 providers × 250,000 rows, aggregate + average …');
    const ttp = await benchEndToEnd(daemon, requestBody(['VU', 'UVA'], { aggregate: true, graph: false }), repeats);
    const ttpDirect = await benchDirectDuckDB(data250k, ['VU', 'UVA'], repeats);
    log('computeToData, 1 provider × 250,000 rows, average …');
    const ctd = await benchEndToEnd(daemon, requestBody(['UVA'], { aggregate: false, graph: false }), repeats);
    const ctdDirect = await benchDirectDuckDB(data250k, ['UVA'], repeats);
    figures['endToEnd'] = {
      dataThroughTtp2x250kAverage: { ...ttp, targetMs: 1000, originalMs: 33_900, directDuckDBMs: ttpDirect, ratioToDirectDuckDB: ratio(ttp.latencyMs.median, ttpDirect.median), targetRatio: 3 },
      computeToData1x250kAverage: { ...ctd, targetMs: 500, originalMs: 14_000, directDuckDBMs: ctdDirect, ratioToDirectDuckDB: ratio(ctd.latencyMs.median, ctdDirect.median), targetRatio: 3 },
    };
  } finally {
    await daemon.close();
  }

  log('1,000,000 rows through dataThroughTtp (2 × 500,000) …');
  const data500k = path.join(scratch, 'rows-500k');
  await generateWageGapData(data500k, ['UVA', 'VU', 'RUG'], { rows: 500_000 });
  const big = await startDaemon(settings(data500k), { logger: silentLogger });
  try {
    const everyColumn = await benchEndToEnd(big, requestBody(['VU', 'UVA'], { aggregate: true }, 'count'), Math.max(1, Math.floor(repeats / 2)));
    const minimised = await benchEndToEnd(big, requestBody(['VU', 'UVA'], { aggregate: true }, 'average'), Math.max(1, Math.floor(repeats / 2)));
    figures['millionRows'] = {
      note: 'count sends every column of every row to the TTP; average sends only Geslacht and Salschal (data minimisation)',
      everyColumnCount: everyColumn,
      minimisedAverage: minimised,
      daemonPeakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await big.close();
  }
  return figures;
}
