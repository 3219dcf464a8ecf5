import { randomBytes } from 'node:crypto';
import { DynamosError } from '../../knowledge/errors.js';
import type { ColumnRule } from '../../knowledge/marketplace/marketplace-schema.js';
import { sqlIdentifier, sqlString } from '../workspace/sql-text.js';
import { isDateType, isIntegerType, isNumericType, isTextType } from '../workspace/table-columns.js';
import type { TableColumn } from '../workspace/table-columns.js';

/**
 * The secret of one job's pseudonyms: 192 random bits made in the job process, used only inside
 * its DuckDB views, never sent, logged or stored. As 32 base64url characters, the secret and a
 * value of up to 23 bytes fill one SHA-256 block: one compression per value, which is what a
 * pseudonym costs per row (docs/designs/009-anonymisation-at-the-source.md).
 */
export interface PseudonymSecret {
  readonly key: string;
}

export function freshPseudonymSecret(): PseudonymSecret {
  return { key: randomBytes(24).toString('base64url') };
}

/**
 * The SELECT list of a steward table as a requester may see it (docs/security.md): each column
 * with a rule is removed, pseudonymised or generalised; the others pass as they are, in file
 * order. Every expression is total: it gives NULL rather than an error for a value it cannot
 * generalise, so no error message can carry a raw value.
 *
 * @throws DynamosError CONFIG_INVALID when a rule names a column the table lacks (a typo would
 *   otherwise leave the real column raw), or when the rules remove every column.
 */
export function anonymizedSelectList(
  table: string,
  columns: readonly TableColumn[],
  rules: Readonly<Record<string, ColumnRule>>,
  secret: PseudonymSecret,
): string {
  const byColumn = new Map(Object.entries(rules).map(([column, rule]) => [column.toLowerCase(), { column, rule }]));
  const missing = [...byColumn.values()].filter(({ column }) => !columns.some((c) => c.name.toLowerCase() === column.toLowerCase()));
  if (missing.length > 0) {
    throw new DynamosError(
      'CONFIG_INVALID',
      `the anonymization of table ${table} names ${missing.map((m) => m.column).join(', ')}, which the table does not have (its columns: ${columns.map((c) => c.name).join(', ')})`,
      { retryable: false },
    );
  }
  const kept = columns.flatMap((c) => {
    const rule = byColumn.get(c.name.toLowerCase())?.rule;
    if (rule === 'remove') return [];
    return [`${rule === undefined ? sqlIdentifier(c.name) : ruleExpression(c, rule, secret)} AS ${sqlIdentifier(c.name)}`];
  });
  if (kept.length === 0) {
    throw new DynamosError('CONFIG_INVALID', `the anonymization of table ${table} removes every column; nothing of it can be queried`, { retryable: false });
  }
  return kept.join(', ');
}

function ruleExpression(column: TableColumn, rule: Exclude<ColumnRule, 'remove'>, secret: PseudonymSecret): string {
  const x = sqlIdentifier(column.name);
  const text = isTextType(column.typeId) ? x : `CAST(${x} AS VARCHAR)`;
  if (rule === 'pseudonymize') {
    // The first 128 bits: collisions stay out of reach for any table this runs on, and the hidden
    // half of the digest leaves nothing to extend (no length extension from a pseudonym).
    return `left(sha256(${sqlString(secret.key)} || ${text}), 32)`;
  }
  switch (rule.generalize) {
    case 'year':
      return yearOf(column, x, text);
    case 'prefix':
      return `CASE WHEN length(${text}) > ${rule.length} THEN left(${text}, ${rule.length}) END`;
    case 'bucket': {
      const number = isNumericType(column.typeId) ? `CAST(${x} AS DOUBLE)` : `TRY_CAST(${text} AS DOUBLE)`;
      const lower = `floor(${number} / ${rule.width}) * ${rule.width}`;
      return Number.isInteger(rule.width) && isIntegerType(column.typeId) ? `CAST(${lower} AS BIGINT)` : lower;
    }
    default: {
      const _exhaustive: never = rule;
      return String(_exhaustive);
    }
  }
}

/**
 * A date's year as an INTEGER. DATE and TIMESTAMP: `year(x)`. Anything else is read as text the
 * way the original did, its first four characters (`19900101` and `1990-01-01` give 1990), but
 * only when they are four digits and more follows or the value is four digits itself; anything
 * else, such as `85` or `01-01-1990`, is NULL rather than passed on unchanged.
 */
function yearOf(column: TableColumn, x: string, text: string): string {
  if (isDateType(column.typeId)) return `CAST(year(${x}) AS INTEGER)`;
  // An integer's text is all digits: the pattern test (a third of the cost) is needed for text only.
  if (isIntegerType(column.typeId)) return `CASE WHEN ${x} >= 1000 THEN CAST(left(${text}, 4) AS INTEGER) END`;
  return `CASE WHEN regexp_matches(${text}, '^[0-9]{4}') THEN CAST(left(${text}, 4) AS INTEGER) END`;
}
