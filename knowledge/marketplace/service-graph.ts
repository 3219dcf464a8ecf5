/**
 * Ordering of microservices by their `allowedOutputs` edges. Used by check-config (a cycle is a
 * config error) and by chain generation (services run in topological order).
 */

export type TopologicalResult =
  | { readonly kind: 'ordered'; readonly order: readonly string[] }
  | { readonly kind: 'cycle'; readonly cycle: readonly string[] };

/**
 * Orders `nodes` so that every edge a → b (b in outputs(a)) puts a before b. Edges to nodes outside
 * `nodes` are ignored. Ties keep the order of `nodes`, so the result is deterministic (the
 * original's DFS order depended on Go map iteration).
 */
export function topologicalOrder(
  nodes: readonly string[],
  outputs: (node: string) => readonly string[],
): TopologicalResult {
  const members = new Set(nodes);
  const indegree = new Map<string, number>(nodes.map((n) => [n, 0]));
  for (const n of nodes) {
    for (const m of outputs(n)) if (members.has(m) && m !== n) indegree.set(m, (indegree.get(m) ?? 0) + 1);
  }
  const selfLoop = nodes.find((n) => outputs(n).includes(n));
  if (selfLoop !== undefined) return { kind: 'cycle', cycle: [selfLoop, selfLoop] };

  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < nodes.length) {
    const next = nodes.find((n) => !done.has(n) && indegree.get(n) === 0);
    if (next === undefined) return { kind: 'cycle', cycle: findCycle(nodes.filter((n) => !done.has(n)), outputs) };
    order.push(next);
    done.add(next);
    for (const m of outputs(next)) if (members.has(m)) indegree.set(m, (indegree.get(m) ?? 0) - 1);
  }
  return { kind: 'ordered', order };
}

/** A cycle among `remaining` (every node there has an incoming edge from another), as a → … → a. */
function findCycle(remaining: readonly string[], outputs: (node: string) => readonly string[]): string[] {
  const members = new Set(remaining);
  const path: string[] = [];
  const onPath = new Set<string>();
  let current = remaining[0];
  // Walk backwards along incoming edges; with every node having one, a repeat must come.
  while (current !== undefined && !onPath.has(current)) {
    path.push(current);
    onPath.add(current);
    const node: string = current;
    current = remaining.find((m) => members.has(m) && outputs(m).includes(node));
  }
  if (current === undefined) return path;
  const start = path.indexOf(current);
  const cycle = path.slice(start).reverse();
  return [...cycle, cycle[0] as string];
}
