import { randomBytes } from 'node:crypto';
import { DynamosError } from '../../knowledge/errors.js';
import type { ColumnRule } from '../../knowledge/marketplace/marketplace-schema.js';
import { foldIdentifier } from '../../knowledge/sql-surface.js';
import { sqlIdentifier, sqlString } from '../workspace/sql-text.js';
import { isTextType } from '../workspace/table-columns.js';
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
  const missing = Object.keys(rules).filter((column) => !columns.some((c) => foldIdentifier(c.name) === foldIdentifier(column)));
  if (missing.length > 0) {
    throw new DynamosError(
      'CONFIG_INVALID',
      `the anonymization of table ${table} names ${missing.join(', ')}, which the table does not have (its columns: ${columns.map((c) => c.name).join(', ')})`,
      { retryable: false },
    );
  }
  const kept = columns.flatMap((c) => {
    const rule = ruleOf(c.name, rules);
    if (rule === 'remove') return [];
    return [`${rule === undefined ? sqlIdentifier(c.name) : ruleExpression(c, rule, secret)} AS ${sqlIdentifier(c.name)}`];
  });
  if (kept.length === 0) {
    throw new DynamosError('CONFIG_INVALID', `the anonymization of table ${table} removes every column; nothing of it can be queried`, { retryable: false });
  }
  return kept.join(', ');
}

/**
 * The rule for a column: its own, compared as DuckDB compares names, or that of the column it
 * duplicates. A header that repeats a name (`Gebdat;Gebdat`) reaches the query as `Gebdat` and
 * `Gebdat_1`; the copy gets the rule too, so a repeated column cannot pass raw. A column really
 * called `Gebdat_1` is then treated as strictly as `Gebdat`.
 */
export function ruleOf(column: string, rules: Readonly<Record<string, ColumnRule>>): ColumnRule | undefined {
  const folded = foldIdentifier(column);
  const base = /^(.*)_\d+$/.exec(folded)?.[1];
  let duplicateOf: ColumnRule | undefined;
  for (const [name, rule] of Object.entries(rules)) {
    if (foldIdentifier(name) === folded) return rule;
    if (base !== undefined && foldIdentifier(name) === base) duplicateOf = rule;
  }
  return duplicateOf;
}

/** Whether a rule reads the column as text: every generalisation, so that no value can fail to load. */
export function readsAsText(rule: ColumnRule | undefined): boolean {
  return rule !== undefined && rule !== 'pseudonymize';
}

function ruleExpression(column: TableColumn, rule: Exclude<ColumnRule, 'remove'>, secret: PseudonymSecret): string {
  const x = sqlIdentifier(column.name);
  const text = isTextType(column.typeId) ? x : `CAST(${x} AS VARCHAR)`;
  if (rule === 'pseudonymize') {
    // The first 128 bits: collisions stay out of reach for any table this runs on, and the hidden
    // half of the digest leaves nothing to extend (no length extension from a pseudonym).
    return `left(sha256(${sqlString(secret.key)} || ${text}), 32)`;
  }
  // Generalised columns are read as text (see readsAsText); the cast is a no-op then, and keeps the
  // rule right on a column read with another type.
  const asText = `CAST(${x} AS VARCHAR)`;
  switch (rule.generalize) {
    case 'year':
      return yearOf(asText);
    case 'prefix':
      return `CASE WHEN length(${asText}) > ${rule.length} THEN left(${asText}, ${rule.length}) END`;
    case 'bucket':
      return `floor(TRY_CAST(${asText} AS DOUBLE) / ${rule.width}) * ${rule.width}`;
    default: {
      const _exhaustive: never = rule;
      return String(_exhaustive);
    }
  }
}

/**
 * A date's year as an INTEGER, from its text: only what is surely a year or a date that starts
 * with one: a year itself (`1990`), or year, month and day as
 * `19900101` or `1990-01-01` (text may go on, e.g. with a time), with a month of 01–12 and a day
 * of 01–31. Anything else is NULL rather than cut: `85`, `13011990` (day first: its first four
 * digits are a day and a month), `900113`, or an id generalised by mistake.
 */
function yearOf(text: string): string {
  return `CASE WHEN regexp_matches(${text}, '^([0-9]{4}$|[0-9]{4}-?(0[1-9]|1[0-2])-?(0[1-9]|[12][0-9]|3[01]))') THEN CAST(left(${text}, 4) AS INTEGER) END`;
}
