import type { Problem } from '../problems.js';
import { formatPath } from '../problems.js';
import { csvHeader } from './csv-header.js';
import type { Marketplace } from './load-marketplace.js';
import { tableFile } from './load-marketplace.js';

/**
 * Every anonymisation rule that names a column a steward's table file does not have, at the
 * rule's path. A job would refuse such a rule (a typo must not leave the real column raw); found
 * here, at start, by check-config and on reload, it never reaches a request. Files that cannot be
 * read are left to the missing-file check.
 */
export async function anonymizationColumnProblems(m: Marketplace): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [stewardName, steward] of Object.entries(m.dataStewards)) {
    for (const [datasetName, held] of Object.entries(steward.datasets)) {
      const dataset = m.datasets[datasetName];
      if (dataset === undefined) continue;
      for (const [table, file] of Object.entries(held.tables)) {
        const rules = [
          ...Object.keys(dataset.anonymization[table] ?? {}).map((column) => ({ column, at: ['datasets', datasetName, 'anonymization', table, column] })),
          ...Object.keys(held.anonymization[table] ?? {}).map((column) => ({ column, at: ['dataStewards', stewardName, 'datasets', datasetName, 'anonymization', table, column] })),
        ];
        if (rules.length === 0) continue;
        const header = await csvHeader(tableFile(m, file), dataset.delimiter).catch(() => undefined);
        if (header === undefined) continue;
        const columns = new Set(header.map((c) => c.toLowerCase()));
        for (const { column, at } of rules) {
          if (!columns.has(column.toLowerCase())) {
            problems.push({ path: formatPath(at), message: `${stewardName}'s file for table ${table} has no column "${column}" (its columns: ${header.join(', ')})` });
          }
        }
      }
    }
  }
  return problems;
}
