import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { isBuiltInService } from '../catalog.js';
import { DynamosError } from '../errors.js';
import type { Problem } from '../problems.js';
import { formatPath, problemsFromZod } from '../problems.js';
import { missingTableFiles, reservedKeys, validateMarketplace } from './load-marketplace.js';
import { addOriginalAnonymization } from './import-anonymization.js';
import type { MarketplaceInput } from './marketplace-schema.js';

/**
 * Importer of the original DYNAMOS's `etcd_launch_files` (docs/marketplace-config.md): six JSON files become one
 * marketplace config with the same meaning. Each file is checked against the shape the original
 * read, so a broken file is reported with its name and JSON path. What has no meaning in our schema
 * (an archetype without config, a service without implementation, …) is left out with a warning.
 */

const name = z.string().min(1, 'must not be empty');
const names = z.array(name);

/** The shapes the original's Go and Python code decoded; Go's missing slices are empty. */
const originalFiles = {
  'agreements.json': z.array(z.strictObject({
    name,
    relations: z.record(name, z.strictObject({
      ID: z.string().optional(),
      requestTypes: names.default([]),
      dataSets: names.default([]),
      allowedArchetypes: names.default([]),
      allowedComputeProviders: names.default([]),
    })).default({}),
    computeProviders: names.default([]),
    archetypes: names.default([]),
  })),
  'archetype.json': z.array(z.strictObject({
    name,
    computeProvider: z.enum(['dataProvider', 'other']),
    resultRecipient: z.enum(['requestor']).default('requestor'),
    weight: z.number().int().nonnegative(),
  })),
  'datasets.json': z.array(z.strictObject({
    name,
    type: z.enum(['csv']).default('csv'),
    delimiter: z.string().length(1).default(';'),
    tables: names.min(1, 'a dataset has at least one table'),
    sensitive_columns: z.record(name, z.array(z.string())).default({}),
  })),
  'microservices.json': z.array(z.strictObject({
    name,
    label: z.enum(['dataProvider', 'computeProvider']),
    allowedOutputs: names.default([]),
    invalidArchetypes: names.default([]),
  })),
  'requestType.json': z.array(z.strictObject({
    name,
    requiredServices: names.default([]),
    optionalServices: z.record(name, name).default({}),
  })),
  'optional_microservices.json': z.array(z.strictObject({
    data_steward: name,
    types: z.record(name, names).default({}),
  })),
};

type FileName = keyof typeof originalFiles;
type OriginalConfig = { [F in FileName]: z.output<(typeof originalFiles)[F]> };

/** The marketplace equivalent to the original's files, and what was left out on the way. */
export interface DynamosImport {
  readonly config: MarketplaceInput;
  readonly warnings: string[];
}

/**
 * Reads the six JSON files in `dir`. Table files are named as the original's sql-query loads them,
 * `<Table>_<STEWARD>.csv`, relative to the data directory; when `dataDir` is given, a missing file is
 * warned about.
 * @throws DynamosError `CONFIG_INVALID` with `details.problems` when a file is missing, not JSON, of the
 * wrong shape, or its parts contradict each other.
 */
export async function importDynamos(dir: string, opts: { dataDir?: string } = {}): Promise<DynamosImport> {
  const original = await readOriginalFiles(dir);
  const warnings: string[] = [];
  const { config, sensitive } = toMarketplace(original, (file, at, message) => warnings.push(`${located(file, at)}: ${message}`));
  await addOriginalAnonymization(config, sensitive, opts.dataDir ?? dir, (message) => warnings.push(message));
  const result = validateMarketplace(config, opts.dataDir ?? dir);
  if (!result.ok) throw invalid(dir, result.problems.map((p) => ({ path: `(imported) ${p.path}`, message: p.message })));
  if (opts.dataDir !== undefined) warnings.push(...(await missingTableFiles(result.marketplace)).map((p) => `${p.path}: ${p.message}`));
  return { config, warnings };
}

async function readOriginalFiles(dir: string): Promise<OriginalConfig> {
  const problems: Problem[] = [];
  const parsed: Partial<Record<FileName, unknown>> = {};
  for (const file of Object.keys(originalFiles) as FileName[]) {
    const read = await readOriginalFile(dir, file);
    if (Array.isArray(read)) problems.push(...read);
    else parsed[file] = read.data;
  }
  if (problems.length === 0) problems.push(...partiesInTwoRoles(parsed as OriginalConfig));
  if (problems.length > 0) throw invalid(dir, problems);
  return parsed as OriginalConfig;
}

async function readOriginalFile(dir: string, file: FileName): Promise<Problem[] | { data: unknown }> {
  let text: string;
  let json: unknown;
  try {
    text = await readFile(path.join(dir, file), 'utf8');
  } catch (error) {
    return [{ path: file, message: `cannot read: ${(error as Error).message}` }];
  }
  try {
    json = JSON.parse(text);
  } catch (error) {
    return [{ path: file, message: `not JSON: ${jsonErrorWithLine((error as Error).message, text)}` }];
  }
  const result = originalFiles[file].safeParse(json);
  const problems = [...reservedKeys(json, []), ...(result.success ? [] : problemsFromZod(result.error))];
  if (!result.success || problems.length > 0) return problems.map((p) => ({ path: located(file, p.path), message: p.message }));
  const duplicates = duplicateNames(file, result.data.flatMap((entry) => ('name' in entry ? [entry.name] : [])));
  return duplicates.length > 0 ? duplicates : { data: result.data };
}

type Warn = (file: FileName, at: PropertyKey[], message: string) => void;
/** The values of a list that name something known; every other one is warned about and left out. */
type KeepKnown = (file: FileName, at: PropertyKey[], values: readonly string[], known: object, why: string) => string[];

const notArchetype = 'is not an archetype in archetype.json; left out (never chosen by the original either: it has no archetype config)';
const notRunnable = (kind: string) => `is not a ${kind} this marketplace can run; left out`;

function toMarketplace(original: OriginalConfig, warn: Warn): { config: MarketplaceInput; sensitive: Map<string, Record<string, string[]>> } {
  const keepKnown: KeepKnown = (file, at, values, known, why) =>
    values.filter((value, i) => {
      if (Object.hasOwn(known, value)) return true;
      warn(file, [...at, i], `"${value}" ${why}`);
      return false;
    });
  const archetypes = Object.fromEntries(original['archetype.json'].map(({ name: n, ...a }) => [n, a]));
  const microservices = toMicroservices(original, archetypes, warn, keepKnown);
  const requestTypes = toRequestTypes(original, microservices, warn);
  const { datasets, sensitive } = toDatasets(original, warn);
  const trusted = original['agreements.json'].flatMap((s) => [...s.computeProviders, ...Object.values(s.relations).flatMap((r) => r.allowedComputeProviders)]);
  const computeProviders = Object.fromEntries([...new Set(trusted)].map((provider) => [provider, {}]));
  // Entries, never assignment by name: a party called "__proto__" must stay a party.
  const dataStewards = Object.fromEntries(original['agreements.json'].map((steward, i) => {
    const held = new Set<string>();
    const relations = Object.fromEntries(Object.entries(steward.relations).map(([requester, r]) => {
      const at = [i, 'relations', requester];
      const relDatasets = keepKnown('agreements.json', [...at, 'dataSets'], r.dataSets, datasets, 'is not a dataset in datasets.json; left out');
      relDatasets.forEach((d) => held.add(d));
      return [requester, {
        ...(r.ID === undefined ? {} : { id: r.ID }),
        requestTypes: keepKnown('agreements.json', [...at, 'requestTypes'], r.requestTypes, requestTypes, notRunnable('request type')),
        datasets: relDatasets,
        allowedArchetypes: keepKnown('agreements.json', [...at, 'allowedArchetypes'], r.allowedArchetypes, archetypes, notArchetype),
        allowedComputeProviders: r.allowedComputeProviders,
      }];
    }));
    const tablesOf = (d: string) => Object.fromEntries((datasets[d]?.tables ?? []).map((t) => [t, `${t}_${steward.name}.csv`]));
    return [steward.name, {
      datasets: Object.fromEntries([...held].map((d) => [d, { tables: tablesOf(d) }])),
      archetypes: keepKnown('agreements.json', [i, 'archetypes'], steward.archetypes, archetypes, notArchetype),
      computeProviders: steward.computeProviders,
      mandatedServices: mandatedServices(original, steward.name, requestTypes, microservices, warn, keepKnown),
      relations,
    }];
  }));
  warnUnknownStewards(original, dataStewards, warn);
  const description = 'Imported from the original DYNAMOS etcd_launch_files.';
  return { config: { version: 1, name: 'dynamos', description, archetypes, computeProviders, datasets, dataStewards, microservices, requestTypes }, sensitive };
}

function toMicroservices(original: OriginalConfig, archetypes: object, warn: Warn, keepKnown: KeepKnown): MarketplaceInput['microservices'] {
  const services = original['microservices.json'];
  const implemented = services.filter((service, i) => {
    if (isBuiltInService(service.name)) return true;
    warn('microservices.json', [i], `"${service.name}" left out: it has no implementation in this build`);
    return false;
  });
  const known = Object.fromEntries(implemented.map((s) => [s.name, s]));
  return Object.fromEntries(implemented.map((service) => {
    const at = [services.indexOf(service)];
    return [service.name, {
      label: service.label,
      allowedOutputs: keepKnown('microservices.json', [...at, 'allowedOutputs'], service.allowedOutputs, known, notRunnable('microservice')),
      invalidArchetypes: keepKnown('microservices.json', [...at, 'invalidArchetypes'], service.invalidArchetypes, archetypes, 'is not an archetype in archetype.json; left out'),
    }];
  }));
}

/** A request type whose required services cannot all run is left out whole, never run in part. */
function toRequestTypes(original: OriginalConfig, microservices: object, warn: Warn): MarketplaceInput['requestTypes'] {
  return Object.fromEntries(original['requestType.json'].flatMap((type, i) => {
    const missing = type.requiredServices.filter((s) => !Object.hasOwn(microservices, s));
    if (missing.length > 0) {
      warn('requestType.json', [i], `request type "${type.name}" left out: it requires ${missing.join(', ')}, which this marketplace cannot run`);
      return [];
    }
    const optional = Object.entries(type.optionalServices).filter(([s]) => {
      if (Object.hasOwn(microservices, s)) return true;
      warn('requestType.json', [i, 'optionalServices', s], `"${s}" ${notRunnable('microservice')}`);
      return false;
    });
    return [[type.name, { requiredServices: type.requiredServices, optionalServices: Object.fromEntries(optional) }]];
  }));
}

/** optional_microservices.json: the services a steward requires per request type; entries for one steward merge. */
function mandatedServices(
  original: OriginalConfig, steward: string, requestTypes: object, microservices: object, warn: Warn, keepKnown: KeepKnown,
): Record<string, string[]> {
  const mandated = new Map<string, string[]>();
  original['optional_microservices.json'].forEach((entry, i) => {
    if (entry.data_steward !== steward) return;
    for (const [type, services] of Object.entries(entry.types)) {
      if (!Object.hasOwn(requestTypes, type)) {
        warn('optional_microservices.json', [i, 'types', type], `"${type}" ${notRunnable('request type')}`);
        continue;
      }
      const known = keepKnown('optional_microservices.json', [i, 'types', type], services, microservices, notRunnable('microservice'));
      mandated.set(type, [...new Set([...(mandated.get(type) ?? []), ...known])]);
    }
  });
  return Object.fromEntries(mandated);
}

function warnUnknownStewards(original: OriginalConfig, stewards: object, warn: Warn): void {
  original['optional_microservices.json'].forEach((entry, i) => {
    if (!Object.hasOwn(stewards, entry.data_steward)) {
      warn('optional_microservices.json', [i, 'data_steward'], `"${entry.data_steward}" is not a data steward in agreements.json; left out`);
    }
  });
}

/** The datasets, and each one's named sensitive columns per table (they become `remove` rules). */
function toDatasets(original: OriginalConfig, warn: Warn): { datasets: NonNullable<MarketplaceInput['datasets']>; sensitive: Map<string, Record<string, string[]>> } {
  const sensitiveOf = new Map<string, Record<string, string[]>>();
  const datasets = Object.fromEntries(original['datasets.json'].map((dataset, i) => {
    const sensitive: [string, string[]][] = [];
    for (const [table, columns] of Object.entries(dataset.sensitive_columns)) {
      const at = [i, 'sensitive_columns', table];
      if (!dataset.tables.includes(table)) {
        warn('datasets.json', at, `"${table}" is not a table of dataset ${dataset.name}; left out`);
        continue;
      }
      columns.forEach((c, j) => {
        if (c === '') warn('datasets.json', [...at, j], 'empty column name left out (it names no column)');
      });
      const named = columns.filter((c) => c !== '');
      if (named.length > 0) sensitive.push([table, named]);
    }
    sensitiveOf.set(dataset.name, Object.fromEntries(sensitive));
    return [dataset.name, { format: dataset.type, delimiter: dataset.delimiter, tables: dataset.tables }];
  }));
  return { datasets, sensitive: sensitiveOf };
}

/** A name that is both a steward and a compute provider: our schema requires unique party names. */
function partiesInTwoRoles(original: OriginalConfig): Problem[] {
  const stewards = new Set(original['agreements.json'].map((s) => s.name));
  return original['agreements.json'].flatMap((steward, i) => [
    ...steward.computeProviders.map((p, j) => ({ p, at: [i, 'computeProviders', j] })),
    ...Object.entries(steward.relations).flatMap(([req, r]) =>
      r.allowedComputeProviders.map((p, j) => ({ p, at: [i, 'relations', req, 'allowedComputeProviders', j] }))),
  ].filter(({ p }) => stewards.has(p))
    .map(({ p, at }) => ({ path: located('agreements.json', at), message: `"${p}" is a data steward; a party cannot also be a compute provider` })));
}

function duplicateNames(file: FileName, entryNames: readonly string[]): Problem[] {
  return entryNames.flatMap((n, i) => {
    const first = entryNames.indexOf(n);
    return first < i ? [{ path: located(file, [i, 'name']), message: `duplicate name "${n}" (first at [${first}])` }] : [];
  });
}

/** `agreements.json[0].relations["a@b"]`: the file, then the JSON path inside it. */
function located(file: FileName, at: readonly PropertyKey[] | string): string {
  const inner = typeof at === 'string' ? at : formatPath(at);
  if (inner === '(root)') return file;
  return inner.startsWith('[') ? `${file}${inner}` : `${file}.${inner}`;
}

/** Where JSON.parse failed, as a line: from the position it names, else from the YAML parser (JSON is YAML). */
function jsonErrorWithLine(message: string, text: string): string {
  const oneLine = message.replace(/\s+/g, ' ');
  if (/\(line \d+/.test(message)) return oneLine;
  const position = /at position (\d+)/.exec(message)?.[1];
  const before = position === undefined ? undefined : text.slice(0, Number(position)).split('\n');
  const at = before === undefined ? parseDocument(text).errors[0]?.linePos?.[0] : { line: before.length, col: (before.at(-1) ?? '').length + 1 };
  return at === undefined ? oneLine : `${oneLine} (line ${at.line}, column ${at.col})`;
}

function invalid(dir: string, problems: Problem[]): DynamosError {
  const message = `the original DYNAMOS configuration in ${dir} is invalid`;
  return new DynamosError('CONFIG_INVALID', message, { retryable: false, details: { problems } });
}
