/**
 * The tangent sweep (forward mode): ẋᵢ = Σ_{j ∈ inputs(i)} ∂xᵢ/∂xⱼ ẋⱼ, in creation (= topological)
 * order, from the tangents of the parameters: ẇ = v_w, a direction leaf read from the `v` argument.
 * Run over the graph after `differentiate`, its roots the gradient nodes, it gives
 *
 *   H·v = d/dε ∇L(θ + εv) at ε = 0,
 *
 * forward-over-reverse (Pearlmutter's R-operator, R{x} = ẋ): the reverse sweep built ∇L out of the
 * ops of the table, and every op has a tangent rule (ir/ops.ts), so the backward graph is
 * differentiated like the forward one, at about the cost of one more forward and backward pass.
 * As in the reverse sweep, the sweep owns the bookkeeping: it visits only what the roots reach
 * and what depends on a parameter, never asks a rule for an all-zero tangent, and broadcasts a
 * scalar tangent up to a tensor node's shape. See docs/architecture.md, "Second order".
 */
import type { Graph, NodeId } from "../ir/graph.js";
import { OPS } from "../ir/ops.js";
import { sameShape } from "../ir/shape.js";
import { reachable } from "../ir/walk.js";

/** The direction leaf of parameter `name`: the tangent the sweep starts from. */
export function directionOf(g: Graph, param: NodeId): NodeId {
  const p = g.node(param);
  return g.raw("direction", [], { ref: p.ref, shape: p.shape });
}

/**
 * Builds into `g` the tangent of every root along the parameters' directions (the nodes of `params`
 * that are `param` leaves; any other entry, a zero for a parameter the graph does not reach, is
 * skipped); returns them in the order of `roots`, a zero constant where the tangent is zero.
 */
export function tangents(g: Graph, roots: readonly NodeId[], params: readonly NodeId[]): NodeId[] {
  const count = Math.max(-1, ...roots) + 1;
  const need = reachable(g, roots);
  const dot = new Map<NodeId, NodeId>();
  for (const p of params) if (g.node(p).op === "param" && need[p]) dot.set(p, directionOf(g.at(null, false, true), p));
  for (let id = 0; id < count; id++) {
    if (!need[id] || dot.has(id)) continue;
    const node = g.node(id);
    if (node.inputs.length === 0) continue;
    const inputDots = node.inputs.map((i) => dot.get(i) ?? null);
    if (inputDots.every((d) => d === null)) continue;
    // the tangent of a node is built where the node was: forward or backward through its statement
    const here = g.at(node.origin, node.backward, true);
    let t = OPS[node.op].tangent(here, node, inputDots);
    if (t === null || g.isConst(t, 0)) continue;
    if (!sameShape(g.shape(t), node.shape)) t = here.add("broadcast", [t], { shape: node.shape });
    if (node.name !== null) g.nameIt(t, `R_${node.name}`);
    dot.set(id, t);
  }
  return roots.map((r) => dot.get(r) ?? g.c(0, g.shape(r)));
}
