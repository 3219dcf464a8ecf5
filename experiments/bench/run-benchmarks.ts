/**
 * `npm run bench`: the figures of issue 2, medians and ratios measured in one run, written as
 * JSON to bench-results/latest.json and printed. Runs from the build (dist/), as users do.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseRequestBody } from '../../daemon/api/request-body.js';
import { exampleMarketplaceFile } from '../../daemon/config.js';
import { packageRoot } from '../../daemon/package-root.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { createDuckDBQueryInspector } from '../../adapters/duckdb/index.js';
import { loadMarketplaceFile, validateMarketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { generateWageGapData } from '../datasets/generate-wage-gap.js';
import { generateMarketplace } from '../marketplaces/generate-marketplace.js';
import { benchDecision } from './decision-bench.js';
import { benchDirectDuckDB } from './direct-duckdb.js';
import { benchEndToEnd } from './end-to-end-bench.js';
import { benchJobStart } from './job-start-bench.js';
import { ratio } from './stats.js';

const repeats = Number(process.env['BENCH_REPEATS'] ?? 7);

function body(providers: string[], options: Record<string, boolean>, algorithm = 'average') {
  return {
    type: 'sqlDataRequest',
    user: { id: '12324', userName: 'analyst@uva.example' },
    dataProviders: providers,
    data_request: {
      type: 'sqlDataRequest',
      query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr',
      algorithm,
      options,
      requestMetadata: {},
    },
  };
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'dynamos-bench-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const figures: Record<string, unknown> = {
      machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      date: new Date().toISOString(),
      repeats,
    };

    log('job start (cold spawn to ready) …');
    figures['jobStart'] = { coldSpawnToReadyMs: await benchJobStart(repeats * 2), targetMs: 100, originalMs: 1700 };

    log('decision time …');
    const example = await loadMarketplaceFile(exampleMarketplaceFile(), scratch);
    if (!example.ok) throw new Error('the example marketplace does not load');
    const inspector = await createDuckDBQueryInspector();
    const request = await parseRequestBody(body(['VU', 'UVA', 'RUG'], { aggregate: false }), example.marketplace, inspector);
    const generated = validateMarketplace(generateMarketplace({ stewards: 1000, relationsPerSteward: 100, ttps: 3 }, exampleMarketplaceFile()), scratch);
    if (!generated.ok) throw new Error(`the generated marketplace is invalid: ${JSON.stringify(generated.problems.slice(0, 3))}`);
    const wide = { ...request, requester: 'r0@example.org', providers: Array.from({ length: 10 }, (_, i) => `S${String(i * 97).padStart(4, '0')}`) };
    await inspector.close();
    figures['decision'] = {
      exampleMarketplace: { ms: benchDecision(example.marketplace, request, 20_000), targetP99Ms: 0.2 },
      generated1000StewardsX100Relations: {
        tenProviders: { ms: benchDecision(generated.marketplace, wide, 20_000), targetP99Ms: 2 },
        hundredProviders: { ms: benchDecision(generated.marketplace, { ...wide, providers: Array.from({ length: 100 }, (_, i) => `S${String(i * 9).padStart(4, '0')}`) }, 5_000), targetP99Ms: 2 },
      },
    };

    log('generating 3 × 250,000 rows …');
    const data250k = path.join(scratch, 'rows-250k');
    await generateWageGapData(data250k, ['UVA', 'VU', 'RUG'], { rows: 250_000 });
    const daemon = await startDaemon({ port: 0, marketplaceFile: exampleMarketplaceFile(), dataDir: data250k, logLevel: 'silent' }, { logger: silentLogger });
    try {
      log('dataThroughTtp, 2 providers × 250,000 rows, aggregate + average …');
      const ttp = await benchEndToEnd(daemon, body(['VU', 'UVA'], { aggregate: true, graph: false }), repeats);
      const ttpDirect = await benchDirectDuckDB(data250k, ['VU', 'UVA'], repeats);
      log('computeToData, 1 provider × 250,000 rows, average …');
      const ctd = await benchEndToEnd(daemon, body(['UVA'], { aggregate: false, graph: false }), repeats);
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
    const big = await startDaemon({ port: 0, marketplaceFile: exampleMarketplaceFile(), dataDir: data500k, logLevel: 'silent' }, { logger: silentLogger });
    try {
      const everyColumn = await benchEndToEnd(big, body(['VU', 'UVA'], { aggregate: true }, 'count'), Math.max(1, Math.floor(repeats / 2)));
      const minimised = await benchEndToEnd(big, body(['VU', 'UVA'], { aggregate: true }, 'average'), Math.max(1, Math.floor(repeats / 2)));
      figures['millionRows'] = {
        note: 'count sends every column of every row to the TTP; average sends only Geslacht and Salschal (data minimisation)',
        everyColumnCount: everyColumn,
        minimisedAverage: minimised,
        daemonPeakRssBytes: process.resourceUsage().maxRSS * 1024,
      };
    } finally {
      await big.close();
    }

    const out = path.join(packageRoot(), 'bench-results');
    await mkdir(out, { recursive: true });
    const text = JSON.stringify(figures, null, 2);
    await writeFile(path.join(out, 'latest.json'), text);
    process.stdout.write(`${text}\n`);
    log(`written to ${path.join(out, 'latest.json')}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
