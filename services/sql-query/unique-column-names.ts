/**
 * Makes a query's column names unique, deterministically. `SELECT *` over the original's join
 * yields `Instcode`, `Unieknr` and `Peildat` twice; the original's pandas kept one of each and
 * silently dropped the other.
 *
 * Rule: columns are visited left to right. The first column with a name (compared
 * case-insensitively, as DuckDB compares identifiers) keeps it. A later column with the same name
 * becomes `<name>_<n>` with the smallest n ≥ 1 such that the result is neither a name some column
 * of the query already has nor a name given before. So `a, a, a_1` becomes `a, a_2, a_1`, and the
 * join gives `Unieknr, …, Unieknr_1`.
 */
export function uniqueColumnNames(names: readonly string[]): string[] {
  const original = new Set(names.map((name) => name.toLowerCase()));
  const given = new Set<string>();
  return names.map((name) => {
    let unique = name;
    if (given.has(name.toLowerCase())) {
      let n = 1;
      while (original.has(`${name}_${n}`.toLowerCase()) || given.has(`${name}_${n}`.toLowerCase())) n++;
      unique = `${name}_${n}`;
    }
    given.add(unique.toLowerCase());
    return unique;
  });
}
