import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AlgorithmName } from '../../knowledge/catalog.js';
import { algorithmNames, isAlgorithmName } from '../../knowledge/catalog.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { QueryInspector } from '../../knowledge/ports/query-inspector.js';
import type { SerializedQuery } from '../../knowledge/query-tables.js';
import type { Problem } from '../../knowledge/problems.js';
import { formatPath, problemsFromZod } from '../../knowledge/problems.js';
import type { SurfaceRefusal } from '../../knowledge/sql-surface.js';
import { marketplaceIndex } from '../mape/marketplace-index.js';
import type { RequestLimits } from './request-limits.js';
import { defaultRequestLimits, requestLimitProblems } from './request-limits.js';
import { foldIdentifier } from '../../knowledge/sql-surface.js';

/**
 * The original DYNAMOS request body (`POST /api/v1/requestApproval`), accepted unchanged. Unknown
 * keys are refused, as the original's agents refused them inside `data_request`.
 */
export const requestApprovalSchema = z.strictObject({
  type: z.string().min(1),
  user: z.strictObject({
    id: z.union([z.string(), z.number()]).optional(),
    ID: z.union([z.string(), z.number()]).optional(),
    userName: z.string().min(1),
  }),
  dataProviders: z.array(z.string().min(1)).min(1, 'name at least one data provider'),
  data_request: z.strictObject({
    type: z.string().min(1),
    // DuckDB's C API ends a text at a NUL byte: the text checked and the text run must be one.
    query: z.string().min(1).refine((q) => !q.includes('\0'), 'must not contain a NUL character'),
    algorithm: z.string().default('none'),
    algorithmColumns: z.record(z.string(), z.string()).optional(),
    options: z.record(z.string(), z.boolean()).default({}),
    requestMetadata: z.record(z.string(), z.unknown()).default({}),
  }),
});

export type RequestApprovalBody = z.input<typeof requestApprovalSchema>;

/**
 * Turns a body into a DataRequest, or throws REQUEST_INVALID listing every problem with its path:
 * first the limits on depth and length (alone, as nothing else may read a body past them), then
 * the shape, then names the marketplace does not know (request type, stewards, options,
 * algorithm), then the query (one SELECT, as DuckDB's parser reads it).
 */
export async function parseRequestBody(body: unknown, m: Marketplace, inspector: QueryInspector, limits: RequestLimits = defaultRequestLimits): Promise<DataRequest> {
  const beyondLimits = requestLimitProblems(body, limits);
  if (beyondLimits.length > 0) throw invalid(beyondLimits);
  const parsed = requestApprovalSchema.safeParse(body);
  if (!parsed.success) throw invalid(problemsFromZod(parsed.error));
  const b = parsed.data;
  const problems: Problem[] = [];
  const report = (path: PropertyKey[], message: string) => problems.push({ path: formatPath(path), message });

  const type = Object.hasOwn(m.requestTypes, b.type) ? m.requestTypes[b.type] : undefined;
  if (type === undefined) report(['type'], `unknown request type "${b.type}" (known: ${Object.keys(m.requestTypes).join(', ')})`);
  if (b.data_request.type !== b.type) report(['data_request', 'type'], `must equal type ("${b.type}")`);
  b.dataProviders.forEach((p, i) => {
    if (!Object.hasOwn(m.dataStewards, p)) report(['dataProviders', i], `unknown data steward "${p}" (known: ${Object.keys(m.dataStewards).join(', ')})`);
    else if (b.dataProviders.indexOf(p) !== i) report(['dataProviders', i], `"${p}" is listed twice`);
  });
  if (!isAlgorithmName(b.data_request.algorithm)) {
    report(['data_request', 'algorithm'], `unknown algorithm "${b.data_request.algorithm}" (known: ${algorithmNames.join(', ')})`);
  }
  const flags = Object.values(type?.optionalServices ?? {});
  for (const option of Object.keys(b.data_request.options)) {
    if (type !== undefined && !flags.includes(option)) {
      report(['data_request', 'options', option], `unknown option for ${b.type} (known: ${flags.join(', ') || 'none'})`);
    }
  }
  const query = await inspector.inspect(b.data_request.query);
  if (query.kind === 'syntaxError') report(['data_request', 'query'], `does not parse: ${query.message}`);
  const refused = refusalsOf(query, m);
  if (refused.length > 0) throw rejected(refused, problems);
  if (problems.length > 0) throw invalid(problems);

  return {
    id: jobIdFor(b.user.userName),
    requester: b.user.userName,
    requesterId: String(b.user.id ?? b.user.ID ?? ''),
    type: b.type,
    providers: b.dataProviders,
    query: b.data_request.query,
    tables: query.kind === 'select' ? query.tables : [],
    algorithm: b.data_request.algorithm as AlgorithmName,
    options: b.data_request.options,
    metadata: b.data_request.requestMetadata,
  };
}

/** The original's job name: the user name's local part, a dash, eight random hex digits. */
export function jobIdFor(userName: string): string {
  const local = (userName.split('@')[0] ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `${local || 'request'}-${randomBytes(4).toString('hex')}`;
}

/**
 * What the closed SQL surface refuses in the query (docs/security.md), and every table it names
 * that no dataset of the marketplace has: a requester's SQL reads the stewards' tables and nothing
 * else.
 */
function refusalsOf(query: SerializedQuery, m: Marketplace): SurfaceRefusal[] {
  if (query.kind === 'syntaxError') return [];
  if (query.kind === 'notSelect') return [{ kind: 'construct', name: 'statement', message: 'must be a single SELECT statement (the steward runs nothing else)' }];
  if (query.statements !== 1) return [{ kind: 'construct', name: 'statements', message: `must be a single SELECT statement, found ${query.statements}` }];
  const known = marketplaceIndex(m).datasetTables;
  const unknown = query.tables.filter((t) => !known.has(foldIdentifier(t)));
  return [
    ...query.refused,
    ...unknown.map((t): SurfaceRefusal => ({ kind: 'table', name: t, message: `table ${t} is not a table of this marketplace (known: ${[...known.values()].join(', ')})` })),
  ];
}

function rejected(refused: readonly SurfaceRefusal[], others: readonly Problem[]): DynamosError {
  const problems = [...refused.map((r) => ({ path: 'data_request.query', message: r.message })), ...others];
  return new DynamosError('QUERY_REJECTED', `query refused: ${refused.map((r) => r.message).join('; ')}`, {
    retryable: false,
    details: { refused: refused.map(({ kind, name }) => ({ kind, name })), problems },
  });
}

function invalid(problems: readonly Problem[]): DynamosError {
  const summary = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return new DynamosError('REQUEST_INVALID', `invalid request: ${summary}`, { retryable: false, details: { problems } });
}
