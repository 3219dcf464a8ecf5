/**
 * A query that keeps a job busy for hours on CPU alone, inside the closed SQL surface (no table
 * function): the count of a twelve-way cross product of ten values, 10¹² rows that DuckDB counts
 * one by one, holding no memory. For tests of deadlines and cancellation.
 */
export const endlessQuery =
  'WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)) SELECT count(*) AS n FROM t a, t b, t c, t d, t e, t f, t g, t h, t i, t j, t k, t l';

/** The rows of `from` (a steward's table, or a join) repeated 10¹¹ times: policy sees the tables, the job never ends. */
export const endlessRowsOf = (from: string): string =>
  `WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)) SELECT * EXCLUDE (x) FROM ${from}, t a, t b, t c, t d, t e, t f, t g, t h, t i, t j, t k`;
