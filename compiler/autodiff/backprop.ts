/**
 * The reverse sweep: v̄ᵢ = Σ_{j ∈ children(i)} v̄ⱼ ∂vⱼ/∂vᵢ. Starting from ∂L/∂L = 1 it visits the
 * nodes in reverse creation (= reverse topological) order. The sweep, not the rules, owns the
 * bookkeeping: it sums the contributions of every use (fan-out, weight sharing), reduces a
 * broadcast gradient back to a scalar input's shape, and never asks a rule for the gradient of an
 * input that does not lead to a parameter (so no `0 · x` is ever built). For a layer this yields
 * exactly the recurrences of the notes: δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾), ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ x⁽ˡ⁻¹⁾ᵀ,
 * ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾.
 */
import type { Graph, NodeId } from "../ir/graph.js";
import { OPS } from "../ir/ops.js";
import { sameShape } from "../ir/shape.js";

/** Builds ∂loss/∂w for every w in `wrt` into `g`; returns them in the order of `wrt`. A parameter
 * the loss does not depend on gets a zero constant. */
export function differentiate(g: Graph, loss: NodeId, wrt: readonly NodeId[]): NodeId[] {
  const count = loss + 1;
  // nodes that depend on a parameter we differentiate for
  const active = new Uint8Array(count);
  for (const w of wrt) if (w < count) active[w] = 1;
  for (let id = 0; id < count; id++) if (!active[id] && g.node(id).inputs.some((i) => active[i] === 1)) active[id] = 1;

  const contributions = new Map<NodeId, NodeId[]>();
  contributions.set(loss, [g.c(1)]);
  const adjoint = new Map<NodeId, NodeId>();
  for (let id = loss; id >= 0; id--) {
    const parts = contributions.get(id);
    if (parts === undefined || !active[id]) continue;
    const node = g.node(id);
    // what the sweep builds for a node, it builds "backward through" the node's statement
    const here = g.at(node.origin, true);
    let adj = parts[0]!;
    for (const p of parts.slice(1)) adj = here.add("add", [adj, p]);
    if (node.name !== null) g.nameIt(adj, `d${node.name}`);
    adjoint.set(id, adj);
    if (g.isConst(adj, 0)) continue;
    const rules = OPS[node.op].grad(here, node, adj);
    node.inputs.forEach((input, k) => {
      if (!active[input]) return;
      const thunk = rules[k];
      if (thunk === undefined || thunk === null) return;
      let gi = thunk();
      // reduce a broadcast gradient to the shape of a scalar input
      if (!sameShape(g.shape(gi), g.shape(input))) gi = here.add("sum", [gi]);
      if (g.isConst(gi, 0)) return;
      const list = contributions.get(input);
      if (list) list.push(gi);
      else contributions.set(input, [gi]);
    });
  }
  return wrt.map((w) => adjoint.get(w) ?? g.c(0, g.shape(w)));
}
