/**
 * Random SELECTs over UVA's Personen and Aanstellingen that try to get a sensitive column out
 * by another name: aliases (among them the names the algorithms read), expressions, casts, string
 * and date functions, structs and lists, aggregates, windows, joins, nesting, set operations and
 * SUMMARIZE. Deterministic per seed.
 */
export function queryGenerator(random: () => number): () => string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;

  const sensitive = ['p.Unieknr', 'p.Gebdat', 'p.Nationaliteit', 's.Ingdatdv', 's.Unieknr'];
  const plain = ['p.Geslacht', 's.Salschal', 'p.BKO', 's.Eindatdv', 'p.Peildat'];
  const aliases = ['Geslacht', 'Salschal', 'Gebdat', 'Unieknr', 'Ingdatdv', 'x', 'id', 'provider', 'value'];
  const text = (e: string) => `CAST(${e} AS VARCHAR)`;
  const wrappers: readonly ((e: string) => string)[] = [
    (e) => e,
    (e) => text(e),
    (e) => `CAST(${e} AS BIGINT)`,
    (e) => `TRY_CAST(${e} AS DOUBLE)`,
    (e) => `${e}::VARCHAR || ''`,
    (e) => `${e} + 0`,
    (e) => `${e} * 1`,
    (e) => `concat('v=', ${e})`,
    (e) => `lower(upper(${text(e)}))`,
    (e) => `substr(${text(e)}, 1, 10)`,
    (e) => `left(${text(e)}, 8)`,
    (e) => `reverse(reverse(${text(e)}))`,
    (e) => `strftime(TRY_CAST(${text(e)} AS DATE), '%Y%m%d')`,
    (e) => `TRY_CAST(strptime(${text(e)}, '%Y%m%d') AS DATE)`,
    (e) => `make_date(TRY_CAST(${e} AS BIGINT), 1, 1)`,
    (e) => `struct_pack(v := ${e})`,
    (e) => `[${e}, ${e}]`,
    (e) => `{'a': ${e}}`,
    (e) => `row(${e})`,
    (e) => `coalesce(${e}, NULL)`,
    (e) => `CASE WHEN ${e} IS NOT NULL THEN ${e} END`,
    (e) => `regexp_replace(${text(e)}, '(.)', '\\1')`,
    (e) => `printf('%s', ${e})`,
    (e) => `md5(${text(e)})`,
  ];
  const aggregates: readonly ((e: string) => string)[] = [
    (e) => `min(${e})`,
    (e) => `max(${e})`,
    (e) => `any_value(${e})`,
    (e) => `first(${e})`,
    (e) => `string_agg(${text(e)}, ',')`,
    (e) => `list(${e})`,
    (e) => `arg_min(${e}, ${e})`,
    (e) => `mode(${e})`,
    (e) => `count(DISTINCT ${e})`,
  ];
  const windows: readonly ((e: string) => string)[] = [
    (e) => `first_value(${e}) OVER ()`,
    (e) => `lag(${e}) OVER (ORDER BY p.Geslacht)`,
    (e) => `max(${e}) OVER (PARTITION BY p.Geslacht)`,
    (e) => `nth_value(${e}, 1) OVER (ORDER BY ${e})`,
  ];

  const expression = (grouped: boolean): string => {
    const column = chance(0.75) ? pick(sensitive) : pick(plain);
    let e = pick(wrappers)(column);
    if (chance(0.3)) e = pick(wrappers)(e);
    if (grouped) return pick(aggregates)(e);
    return chance(0.15) ? pick(windows)(e) : e;
  };

  const select = (): string => {
    const grouped = chance(0.3);
    const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => `${expression(grouped)} AS ${pick(aliases)}`);
    if (grouped && chance(0.5)) items.unshift('p.Geslacht');
    if (chance(0.1)) items.push('p.*');
    const from = chance(0.6) ? 'Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr' : 'Personen p, (SELECT * FROM Aanstellingen LIMIT 1) s';
    const where = chance(0.3) ? ` WHERE ${pick(sensitive)} IS NOT NULL` : '';
    const group = grouped ? ' GROUP BY ALL' : '';
    const limit = chance(0.4) ? ` ORDER BY 1 LIMIT ${1 + Math.floor(random() * 20)}` : '';
    return `SELECT ${items.join(', ')} FROM ${from}${where}${group}${limit}`;
  };

  return () => {
    const q = select();
    switch (Math.floor(random() * 6)) {
      case 0:
        return `SELECT * FROM (${q}) t`;
      case 1:
        return `WITH t AS (${q}) SELECT * FROM t`;
      case 2:
        return `SUMMARIZE ${q}`;
      case 3:
        return `SELECT Gebdat AS x, Unieknr AS id, * FROM Personen UNION ALL BY NAME (${q})`;
      default:
        return q;
    }
  };
}
