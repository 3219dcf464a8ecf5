import { parser } from '@prometheus-io/lezer-promql';

/** What Prometheus's own grammar (the one its web UI uses) finds in one expression. */
export interface ParsedPromQL {
  /** Where the parser had to recover, as `offset N near "…"`; empty when the expression parses. */
  readonly errors: readonly string[];
  /** The metric names the expression selects (`foo` in `rate(foo{a="b"}[5m])`). */
  readonly metricNames: readonly string[];
}

/**
 * Parses `expr` with @prometheus-io/lezer-promql. Lezer never throws on bad input: it recovers and
 * marks the spot with an error node, so an expression is valid only when the tree has none.
 */
export function parsePromQL(expr: string): ParsedPromQL {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metricNames = new Set<string>();
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`offset ${node.from} near "${expr.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
      // A selector's metric name is the Identifier directly under VectorSelector.
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metricNames.add(expr.slice(node.from, node.to));
    },
  });
  return { errors, metricNames: [...metricNames] };
}
