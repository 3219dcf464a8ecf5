/** The soak's request mix: what each kind sends, and which answers are right for it. */

export type SoakKind = 'good' | 'goodTtp' | 'malformed' | 'deepMetadata' | 'refusedSql' | 'oversized' | 'unauthenticated' | 'denied' | 'hugeResult' | 'slow';

/** Parts per hundred of each kind: mostly real work, then every way a careless or hostile requester fails. */
export const soakMix: Readonly<Record<SoakKind, number>> = {
  good: 30,
  goodTtp: 10,
  malformed: 10,
  deepMetadata: 5,
  refusedSql: 10,
  oversized: 5,
  unauthenticated: 10,
  denied: 10,
  hugeResult: 7,
  slow: 3,
};

/** The answers that are right for a kind; 503 OVERLOADED is right for any request that reaches the jobs. */
export const rightAnswers: Readonly<Record<SoakKind, readonly string[]>> = {
  good: ['200', '503 OVERLOADED'],
  goodTtp: ['200', '503 OVERLOADED'],
  malformed: ['400 REQUEST_INVALID'],
  deepMetadata: ['400 REQUEST_INVALID'],
  refusedSql: ['400 QUERY_REJECTED'],
  oversized: ['413 REQUEST_TOO_LARGE'],
  unauthenticated: ['401 UNAUTHENTICATED'],
  denied: ['403 NO_RELATION', '403 NO_AUTHORISED_PROVIDER'],
  hugeResult: ['422 RESULT_TOO_LARGE', '503 OVERLOADED'],
  slow: ['504 JOB_TIMEOUT', '503 OVERLOADED'],
};

const analyst = 'analyst@uva.example';
const join = 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr';
const tens = 'WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10))';

function body(providers: string[], query: string, algorithm: string, aggregate: boolean, metadata: unknown = {}) {
  return { type: 'sqlDataRequest', user: { userName: analyst }, dataProviders: providers, data_request: { type: 'sqlDataRequest', query, algorithm, options: { graph: false, aggregate }, requestMetadata: metadata } };
}

/** JSON nested `depth` levels deep, as text: JSON.stringify itself overflows its stack on it. */
function deeplyNested(depth: number): string {
  return `${'{"next":'.repeat(depth)}"bottom"${'}'.repeat(depth)}`;
}

/** The request text of a kind, and whether it carries the requester's token. */
export function soakRequest(kind: SoakKind, n: number): { readonly text: string; readonly authenticated: boolean } {
  const json = (value: unknown) => ({ text: JSON.stringify(value), authenticated: true });
  switch (kind) {
    case 'good':
      return json(body(['VU', 'UVA'], join, 'average', false));
    case 'goodTtp':
      return json(body(['VU', 'UVA'], join, 'average', true));
    case 'malformed':
      return n % 2 === 0 ? { text: `{"type": "sqlDataRequest", "user": {"userName": "${analyst}"`, authenticated: true } : json({ ...body(['VU'], join, 'average', false), extra: n });
    case 'deepMetadata':
      return { text: JSON.stringify(body(['VU'], join, 'average', false, 'DEEP')).replace('"DEEP"', deeplyNested(8_000)), authenticated: true };
    case 'refusedSql':
      return json(body(['VU'], n % 2 === 0 ? 'SELECT * FROM read_csv(\'/etc/passwd\')' : 'SELECT i FROM range(60000000) t(i)', 'none', false));
    case 'oversized':
      return json(body(['VU'], `SELECT 1 -- ${'x'.repeat(2 * 1024 * 1024)}`, 'none', false));
    case 'unauthenticated':
      return { text: JSON.stringify(body(['VU', 'UVA'], join, 'average', false)), authenticated: false };
    case 'denied':
      return json(body(['RUG'], join, 'average', false));
    case 'hugeResult':
      return json(body(['VU'], `${tens} SELECT p.Unieknr, a.x FROM Personen p, t a, t b, t c, t d, t e`, 'none', false));
    case 'slow':
      return json(body(['VU'], `${tens} SELECT count(*) AS n FROM Personen, t a, t b, t c, t d, t e, t f, t g, t h, t i, t j`, 'none', false));
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}

/** Kind of the n-th request: the mix spread evenly over the run (deterministic). */
export function soakKindOf(n: number): SoakKind {
  const slot = (n * 37) % 100;
  let upTo = 0;
  for (const [kind, parts] of Object.entries(soakMix) as [SoakKind, number][]) {
    upTo += parts;
    if (slot < upTo) return kind;
  }
  return 'good';
}
