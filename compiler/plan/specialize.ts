/**
 * Copies the part of a graph that `roots` reach into a new graph, letting `replace` substitute
 * nodes on the way. Used to make the inference graph (dropout is the identity) and the training
 * graph (dropout multiplies by a mask drawn per sample) from the one graph the front end built.
 * The copy goes through Graph.add, so the rewrite rules run again on the result.
 */
import type { Graph, NodeId } from "../ir/graph.js";
import { reachable } from "../ir/walk.js";
import { newGraph } from "../optimize/new-graph.js";

export type Replace = (g: Graph, node: ReturnType<Graph["node"]>, inputs: readonly NodeId[]) => NodeId | null;

export function specialize(src: Graph, roots: readonly NodeId[], replace: Replace): { graph: Graph; map: Map<NodeId, NodeId> } {
  const g = newGraph();
  const map = new Map<NodeId, NodeId>();
  const need = reachable(src, roots);
  for (let id = 0; id < src.nodes.length; id++) {
    if (!need[id]) continue;
    const n = src.node(id);
    // the copy, and whatever the rewrite rules make of it, comes from where the original came from
    const here = g.at(n.origin, n.backward, n.tangent);
    const inputs = n.inputs.map((i) => map.get(i)!);
    const attrs = { num: n.num, ref: n.ref, at: n.at, shape: n.shape };
    const out = replace(here, n, inputs) ?? (n.inputs.length === 0 ? here.raw(n.op, [], attrs) : here.add(n.op, inputs, attrs));
    if (n.name !== null) g.nameIt(out, n.name);
    map.set(id, out);
  }
  return { graph: g, map };
}

/** Inference: dropout(a) → a. */
export const inferenceMode: Replace = (_g, n, inputs) => (n.op === "dropout" ? inputs[0]! : null);

/** Training: dropout(a, p) → a ⊙ mask, the mask drawn per sample. */
export const trainingMode: Replace = (g, n, inputs) =>
  n.op === "dropout" ? g.add("mul", [inputs[0]!, g.raw("dropout_mask", [], { num: n.num, shape: n.shape, ref: String(n.id) })]) : null;
