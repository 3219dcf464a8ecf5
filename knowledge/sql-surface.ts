import { introspectionKeywords, isAllowedFunction } from './sql-functions.js';

/**
 * The closed SQL surface (docs/security.md): what a requester's SELECT may contain, decided on
 * DuckDB's own parse tree (`json_serialize_sql`), never on the text. Pure: it walks the JSON DuckDB
 * produced and reads nothing else. Unknown node kinds are refused, so a construct a later DuckDB
 * adds stays closed until someone reads it.
 */

export type RefusalKind = 'tableFunction' | 'function' | 'introspection' | 'table' | 'construct';

/** One thing the surface refuses, named as the requester wrote it. */
export interface SurfaceRefusal {
  readonly kind: RefusalKind;
  readonly name: string;
  readonly message: string;
}

export interface QuerySurface {
  /** Base tables read (outside the common table expressions in scope), first seen first, each once. */
  readonly tables: readonly string[];
  readonly refused: readonly SurfaceRefusal[];
}

type Node = Record<string, unknown>;

const queryNodes: ReadonlySet<string> = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);
/** Table references that only combine what is inside them. */
const plainTableRefs: ReadonlySet<string> = new Set(['JOIN', 'SUBQUERY', 'EXPRESSION_LIST', 'EMPTY', 'PIVOT']);
/** Other typed objects of a SELECT's tree: modifiers and the directions of ORDER BY. */
const plainTypes: ReadonlySet<string> = new Set([
  'ORDER_MODIFIER', 'LIMIT_MODIFIER', 'LIMIT_PERCENT_MODIFIER', 'DISTINCT_MODIFIER',
  'ASCENDING', 'DESCENDING', 'ORDER_DEFAULT', 'INVALID',
]);
/** Expressions that only combine their children. */
const plainExpressions: ReadonlySet<string> = new Set([
  'CONSTANT', 'CAST', 'CASE', 'COMPARISON', 'CONJUNCTION', 'OPERATOR', 'BETWEEN', 'COLLATE', 'STAR',
  'SUBQUERY', 'LAMBDA', 'POSITIONAL_REFERENCE', 'LAMBDA_REF',
]);
/** Names that could make DuckDB look for a file (a replacement scan) or another catalog. */
const pathLike = /[./\\:\0]/;

/** What `trees` (the `statements` of `json_serialize_sql`) read and what the surface refuses in them. */
export function querySurface(trees: readonly unknown[]): QuerySurface {
  const tables = new Map<string, string>();
  const refused = new Map<string, SurfaceRefusal>();
  const refuse = (kind: RefusalKind, name: string, message: string) => {
    if (!refused.has(`${kind}:${name}`)) refused.set(`${kind}:${name}`, { kind, name, message });
  };

  const visitAll = (node: Node, scope: ReadonlySet<string>, skip: readonly string[] = []) => {
    for (const [key, value] of Object.entries(node)) if (!skip.includes(key)) visit(value, scope);
  };

  const visitQueryNode = (node: Node, scope: ReadonlySet<string>) => {
    // A common table expression is in scope in the ones after it and in the query, never in its
    // own body (DuckDB binds a non-recursive self-reference to the catalog, or to a file).
    let inScope = scope;
    for (const entry of cteEntries(node)) {
      checkTableName(entry.name, 'a common table expression');
      visit(entry.body, inScope);
      inScope = new Set([...inScope, foldIdentifier(entry.name)]);
    }
    if (node['type'] === 'RECURSIVE_CTE_NODE' && typeof node['cte_name'] === 'string') {
      // Its anchor (left) reads the catalog under its own name; only the recursive part sees itself.
      visit(node['left'], inScope);
      visit(node['right'], new Set([...inScope, foldIdentifier(node['cte_name'])]));
      visitAll(node, inScope, ['cte_map', 'left', 'right']);
      return;
    }
    visitAll(node, inScope, ['cte_map']);
  };

  const checkTableName = (name: string, what: string) => {
    if (pathLike.test(name)) refuse('table', name, `${what} named "${name}": names with . / \\ or : are refused (they can reach files)`);
  };

  const visitTableRef = (node: Node, type: string, scope: ReadonlySet<string>) => {
    switch (type) {
      case 'BASE_TABLE': {
        const name = String(node['table_name'] ?? '');
        const qualifier = [node['catalog_name'], node['schema_name']].filter((q) => typeof q === 'string' && q !== '').join('.');
        if (qualifier !== '') refuse('table', `${qualifier}.${name}`, `table ${qualifier}.${name}: name a steward's table by its name alone`);
        else if (!scope.has(foldIdentifier(name))) {
          checkTableName(name, 'a table');
          if (!tables.has(foldIdentifier(name))) tables.set(foldIdentifier(name), name);
        }
        if (node['at_clause'] !== null && node['at_clause'] !== undefined) refuse('construct', 'AT', `time travel (${name} AT …) is not supported`);
        visitAll(node, scope, ['at_clause']);
        return;
      }
      case 'TABLE_FUNCTION': {
        const call = node['function'] as Node | undefined;
        const name = String(call?.['function_name'] ?? 'a table function');
        refuse('tableFunction', name, `${name} is a table function; a query may read only the steward's tables`);
        return;
      }
      case 'SHOW_REF':
        if (node['query'] === null || node['query'] === undefined) {
          const shown = String(node['table_name'] ?? '').replaceAll('"', '') || 'the database';
          refuse('introspection', 'SHOW', `SHOW ${shown} lists the database; DESCRIBE or SUMMARIZE a query or a steward's table instead`);
          return;
        }
        visitAll(node, scope);
        return;
      default:
        visitAll(node, scope);
    }
  };

  const visitExpression = (node: Node, cls: string, scope: ReadonlySet<string>) => {
    switch (cls) {
      case 'FUNCTION':
      case 'WINDOW': {
        const name = String(node['function_name'] ?? '');
        const where = [node['catalog'], node['schema']].filter((q) => typeof q === 'string' && q !== '' && q !== 'main' && q !== 'system');
        if (where.length > 0) refuse('function', `${where.join('.')}.${name}`, `${where.join('.')}.${name}: call functions by their name alone`);
        else if (!isAllowedFunction(name)) refuse('function', name, `${name} is not an allowed function (only ordinary scalar, aggregate and window functions are)`);
        visitAll(node, scope);
        return;
      }
      case 'COLUMN_REF': {
        const names = node['column_names'];
        const only = Array.isArray(names) && names.length === 1 ? foldIdentifier(String(names[0])) : undefined;
        if (only !== undefined && introspectionKeywords.has(only)) {
          refuse('introspection', only, `${only} describes the database; a column of that name must be qualified with its table (t.${only})`);
        }
        return;
      }
      case 'PARAMETER':
        refuse('construct', 'parameter', 'query parameters ($1, ?) are not supported: write the values into the query');
        return;
      default:
        if (plainExpressions.has(cls)) visitAll(node, scope);
        else refuse('construct', cls, `the expression kind ${cls} is not supported`);
    }
  };

  function visit(value: unknown, scope: ReadonlySet<string>): void {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, scope);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const node = value as Node;
    if (typeof node['class'] === 'string') return visitExpression(node, node['class'], scope);
    // A type of a CAST or a constant (`{id: 'DECIMAL', type_info: …}`) names no function or table.
    if (typeof node['id'] === 'string' && 'type_info' in node) return;
    const type = node['type'];
    if (typeof type !== 'string') return visitAll(node, scope);
    if (queryNodes.has(type)) return visitQueryNode(node, scope);
    if (type === 'BASE_TABLE' || type === 'TABLE_FUNCTION' || type === 'SHOW_REF' || plainTableRefs.has(type)) return visitTableRef(node, type, scope);
    if (plainTypes.has(type)) return visitAll(node, scope);
    refuse('construct', type, `the construct ${type} is not supported`);
  }

  visit(trees, new Set());
  return { tables: [...tables.values()], refused: [...refused.values()] };
}

/**
 * A name as DuckDB compares identifiers: case-insensitive for ASCII letters only. JavaScript's
 * toLowerCase folds more (the Kelvin sign K becomes k), so a name it calls equal to a common
 * table expression could reach the catalog in DuckDB instead.
 */
export function foldIdentifier(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function cteEntries(node: Node): { name: string; body: unknown }[] {
  const map = (node['cte_map'] as { map?: { key?: unknown; value?: unknown }[] } | undefined)?.map;
  if (!Array.isArray(map)) return [];
  return map.filter((e) => typeof e.key === 'string').map((e) => ({ name: e.key as string, body: e.value }));
}
