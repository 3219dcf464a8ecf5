import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { Problem } from '../problems.js';
import { formatPath, problemsFromZod } from '../problems.js';
import { checkReferences } from './check-references.js';
import type { MarketplaceConfig } from './marketplace-schema.js';
import { marketplaceSchema } from './marketplace-schema.js';

/** A validated marketplace, ready for analyze and plan. */
export interface Marketplace extends MarketplaceConfig {
  /** Changes whenever any part of the config changes: decisions record it. */
  readonly revision: string;
  /** Directory that relative table files resolve against. */
  readonly dataDir: string;
}

export type MarketplaceResult =
  | { readonly ok: true; readonly marketplace: Marketplace }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Validates a parsed config (YAML or JSON value): structure first, then every reference. Reports
 * all problems at once. Pure: reads no files.
 */
export function validateMarketplace(value: unknown, dataDir: string): MarketplaceResult {
  const parsed = marketplaceSchema.safeParse(value);
  const reserved = reservedKeys(value, []);
  if (!parsed.success) return { ok: false, problems: [...reserved, ...withMigrationHints(problemsFromZod(parsed.error))] };
  if (reserved.length > 0) return { ok: false, problems: reserved };
  const problems = checkReferences(parsed.data);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, marketplace: { ...parsed.data, revision: revisionOf(parsed.data), dataDir: path.resolve(dataDir) } };
}

/**
 * `sensitiveColumns` (columns removed after the query) became `anonymization` (rules applied at the
 * source, before it): say how to move, rather than only that the key is unknown.
 */
function withMigrationHints(problems: readonly Problem[]): Problem[] {
  return problems.map((p) =>
    p.message === 'unknown key' && /(^|\.)sensitiveColumns$/.test(p.path)
      ? { path: p.path, message: 'sensitiveColumns was replaced by anonymization: write each column as `<column>: remove` (or pseudonymize, or {generalize: year}); see docs/marketplace-config.md' }
      : p,
  );
}

/** zod drops a `__proto__` key without a word; as a name it would silently vanish from the policy. */
export function reservedKeys(value: unknown, at: PropertyKey[], seen = new Set<object>()): Problem[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value); // YAML aliases can make a value refer to itself
  return Object.entries(value).flatMap(([key, v]) => [
    ...(key === '__proto__' ? [{ path: formatPath([...at, key]), message: '"__proto__" is reserved and cannot be a name' }] : []),
    ...reservedKeys(v, [...at, Array.isArray(value) ? Number(key) : key], seen),
  ]);
}

/** Parses YAML (JSON is YAML too) and validates it; syntax errors are problems with line numbers. */
export function parseMarketplace(text: string, dataDir: string): MarketplaceResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // prettyErrors appends a source excerpt on the following lines; the first line holds the message and position.
    const firstLine = (message: string) => (message.split('\n')[0] ?? message).replace(/:\s*$/, '').trim();
    return { ok: false, problems: doc.errors.map((e) => ({ path: '(yaml)', message: firstLine(e.message) })) };
  }
  return validateMarketplace(doc.toJS(), dataDir);
}

/**
 * Loads a marketplace file. Table files resolve against `dataDir` when given, else against the
 * config file's directory.
 */
export async function loadMarketplaceFile(file: string, dataDir?: string): Promise<MarketplaceResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [{ path: '(file)', message: `cannot read ${file}: ${(error as Error).message}` }] };
  }
  return parseMarketplace(text, dataDir ?? path.dirname(path.resolve(file)));
}

/** Absolute path of a steward's table file. */
export function tableFile(marketplace: Marketplace, file: string): string {
  return path.resolve(marketplace.dataDir, file);
}

/**
 * Every steward table file that does not exist under the marketplace's data directory, as problems
 * at the table's path. Separate from validation, which reads no files: data may arrive after the config.
 */
export async function missingTableFiles(marketplace: Marketplace): Promise<Problem[]> {
  const tables = Object.entries(marketplace.dataStewards).flatMap(([steward, s]) =>
    Object.entries(s.datasets).flatMap(([dataset, held]) =>
      Object.entries(held.tables).map(([table, file]) => ({ at: ['dataStewards', steward, 'datasets', dataset, 'tables', table], file })),
    ),
  );
  const missing = await Promise.all(tables.map(async ({ at, file }) => {
    const absolute = tableFile(marketplace, file);
    try {
      await access(absolute);
      return [];
    } catch {
      return [{ path: formatPath(at), message: `table file ${absolute} does not exist` }];
    }
  }));
  return missing.flat();
}

/**
 * A hash of the whole validated config in the order it was written: order decides too (the first
 * compute provider all stewards allow is the TTP; catalog order breaks ties between services), so
 * a config that differs only in order is another revision. JSON.stringify keeps insertion order,
 * and zod's output order is a pure function of the input's.
 */
function revisionOf(config: MarketplaceConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
}
