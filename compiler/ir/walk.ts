import type { Graph, NodeId } from "./graph.js";

/**
 * The nodes the roots depend on (roots included), as a flag per node id. Ids are a topological
 * order, so one backward pass finds them all. Every stage that handles "only what is used" —
 * interpretation, printing, specialization, emission (dead-code elimination), the unused-parameter
 * warning — asks this one function.
 */
export function reachable(g: Graph, roots: readonly NodeId[]): Uint8Array {
  const need = new Uint8Array(g.nodes.length);
  for (const r of roots) need[r] = 1;
  for (let id = g.nodes.length - 1; id >= 0; id--) if (need[id]) for (const i of g.node(id).inputs) need[i] = 1;
  return need;
}
