import type { Problem } from '../problems.js';
import { formatPath } from '../problems.js';
import { isBuiltInService } from '../catalog.js';
import type { MarketplaceConfig } from './marketplace-schema.js';
import { topologicalOrder } from './service-graph.js';

/**
 * Every reference between parts of a structurally valid config that points nowhere, every
 * dataset a steward holds without all its tables, and every cycle among microservices. Returns all
 * problems at once, each with its path.
 */
export function checkReferences(config: MarketplaceConfig): Problem[] {
  const problems: Problem[] = [];
  const report = (path: PropertyKey[], message: string) => problems.push({ path: formatPath(path), message });
  const expectKnown = (path: PropertyKey[], value: string, kind: string, known: Record<string, unknown>) => {
    if (!Object.hasOwn(known, value)) {
      const list = Object.keys(known);
      report(path, `unknown ${kind} "${value}"${list.length > 0 ? ` (known: ${list.join(', ')})` : ''}`);
    }
  };
  const eachKnown = (path: PropertyKey[], values: readonly string[], kind: string, known: Record<string, unknown>) =>
    values.forEach((v, i) => expectKnown([...path, i], v, kind, known));

  for (const party of Object.keys(config.computeProviders)) {
    if (Object.hasOwn(config.dataStewards, party)) {
      report(['computeProviders', party], `"${party}" is both a data steward and a compute provider; party names must be unique`);
    }
  }

  // Job names derive from party names (lower case, other characters as '-'): two parties must not share one.
  const asJobName = (party: string) => party.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const parties = [...Object.keys(config.dataStewards).map((p) => ['dataStewards', p]), ...Object.keys(config.computeProviders).map((p) => ['computeProviders', p])];
  parties.forEach(([kind, party], i) => {
    const clash = parties.findIndex(([, other]) => other !== party && asJobName(other as string) === asJobName(party as string));
    if (clash >= 0 && clash < i) {
      report([kind as string, party as string], `"${party}" and "${parties[clash]?.[1]}" differ only in case or punctuation; their jobs would share names`);
    }
  });

  for (const [dsName, ds] of Object.entries(config.datasets)) {
    ds.tables.forEach((table, i) => {
      const first = ds.tables.findIndex((t) => t.toLowerCase() === table.toLowerCase());
      if (first < i) report(['datasets', dsName, 'tables', i], `table "${table}" repeats "${ds.tables[first]}" (table names are case-insensitive in SQL)`);
    });
    for (const table of Object.keys(ds.anonymization)) {
      if (!ds.tables.includes(table)) report(['datasets', dsName, 'anonymization', table], `"${table}" is not a table of dataset ${dsName}`);
    }
  }

  for (const [stewardName, steward] of Object.entries(config.dataStewards)) {
    const at = ['dataStewards', stewardName];
    eachKnown([...at, 'archetypes'], steward.archetypes, 'archetype', config.archetypes);
    eachKnown([...at, 'computeProviders'], steward.computeProviders, 'compute provider', config.computeProviders);
    for (const [dsName, held] of Object.entries(steward.datasets)) {
      const dataset = own(config.datasets, dsName);
      if (dataset === undefined) {
        expectKnown([...at, 'datasets', dsName], dsName, 'dataset', config.datasets);
        continue;
      }
      for (const table of dataset.tables) {
        if (!Object.hasOwn(held.tables, table)) report([...at, 'datasets', dsName, 'tables'], `missing a file for table "${table}"`);
      }
      for (const part of ['tables', 'anonymization'] as const) {
        for (const table of Object.keys(held[part])) {
          if (!dataset.tables.includes(table)) report([...at, 'datasets', dsName, part, table], `"${table}" is not a table of dataset ${dsName}`);
        }
      }
    }
    checkTableNamesDistinct(config, stewardName, report);
    for (const [type, services] of Object.entries(steward.mandatedServices)) {
      expectKnown([...at, 'mandatedServices', type], type, 'request type', config.requestTypes);
      eachKnown([...at, 'mandatedServices', type], services, 'microservice', config.microservices);
    }
    for (const [requester, relation] of Object.entries(steward.relations)) {
      const rel = [...at, 'relations', requester];
      eachKnown([...rel, 'requestTypes'], relation.requestTypes, 'request type', config.requestTypes);
      eachKnown([...rel, 'datasets'], relation.datasets, 'dataset', config.datasets);
      eachKnown([...rel, 'allowedArchetypes'], relation.allowedArchetypes, 'archetype', config.archetypes);
      eachKnown([...rel, 'allowedComputeProviders'], relation.allowedComputeProviders, 'compute provider', config.computeProviders);
    }
  }

  for (const [serviceName, service] of Object.entries(config.microservices)) {
    const at = ['microservices', serviceName];
    if (!isBuiltInService(serviceName)) report(at, `microservice "${serviceName}" has no implementation in this build`);
    // Anonymisation happens where the data is, before any query runs: never at a third party.
    if (serviceName === 'sql-anonymize' && service.label !== 'dataProvider') {
      report([...at, 'label'], 'sql-anonymize runs at the data steward, before the query (its label must be dataProvider)');
    }
    eachKnown([...at, 'allowedOutputs'], service.allowedOutputs, 'microservice', config.microservices);
    eachKnown([...at, 'invalidArchetypes'], service.invalidArchetypes, 'archetype', config.archetypes);
  }

  for (const [typeName, type] of Object.entries(config.requestTypes)) {
    const at = ['requestTypes', typeName];
    eachKnown([...at, 'requiredServices'], type.requiredServices, 'microservice', config.microservices);
    for (const service of Object.keys(type.optionalServices)) {
      expectKnown([...at, 'optionalServices', service], service, 'microservice', config.microservices);
    }
  }

  const serviceNames = Object.keys(config.microservices);
  const ordered = topologicalOrder(serviceNames, (s) => config.microservices[s]?.allowedOutputs ?? []);
  if (ordered.kind === 'cycle') {
    report(['microservices', ordered.cycle[0] ?? ''], `allowedOutputs form a cycle: ${ordered.cycle.join(' → ')}`);
  }
  return problems;
}

/**
 * A job loads every table of every dataset its steward holds under the table's own name, so two held
 * datasets with a table of the same name (SQL names are case-insensitive) could not be told apart.
 */
function checkTableNamesDistinct(
  config: MarketplaceConfig,
  stewardName: string,
  report: (path: PropertyKey[], message: string) => void,
): void {
  const seen = new Map<string, { dataset: string; table: string }>();
  for (const dsName of Object.keys(config.dataStewards[stewardName]?.datasets ?? {})) {
    for (const table of own(config.datasets, dsName)?.tables ?? []) {
      const key = table.toLowerCase();
      const earlier = seen.get(key);
      if (earlier === undefined) seen.set(key, { dataset: dsName, table });
      else if (earlier.dataset !== dsName) {
        report(
          ['dataStewards', stewardName, 'datasets', dsName],
          `table "${table}" is also in dataset ${earlier.dataset} (as "${earlier.table}"); a job holding both could not tell them apart`,
        );
      }
    }
  }
}

/** A record's own entry; a name such as "constructor" must not find Object.prototype's. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
