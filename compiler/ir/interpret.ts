/**
 * A reference interpreter for the IR, in float64: the oracle the derivative-rule tests use and a
 * way to run a graph without generating code.
 */
import type { Graph, NodeId } from "./graph.js";
import { OPS, type Tensor } from "./ops.js";
import { numel } from "./shape.js";
import { reachable } from "./walk.js";

export interface Bindings {
  /** values of input, target and param leaves, by DSL name */
  readonly leaves: Record<string, Float64Array>;
  /** dropout masks by node id (training mode), otherwise masks are all ones */
  readonly masks?: Map<NodeId, Float64Array>;
  /** values of direction leaves (a Hessian-vector product's v), by parameter name */
  readonly directions?: Record<string, Float64Array>;
}

export function interpret(g: Graph, roots: readonly NodeId[], b: Bindings): Map<NodeId, Tensor> {
  const values = new Map<NodeId, Tensor>();
  const need = reachable(g, roots);
  for (let id = 0; id < g.nodes.length; id++) {
    if (!need[id]) continue;
    const n = g.node(id);
    const def = OPS[n.op];
    const xs = n.inputs.map((i) => values.get(i)!);
    let data: Float64Array;
    switch (def.kind) {
      case "leaf":
        if (n.op === "const") data = new Float64Array(numel(n.shape)).fill(n.num);
        else if (n.op === "dropout_mask") data = b.masks?.get(id) ?? new Float64Array(numel(n.shape)).fill(1);
        else {
          const v = n.op === "direction" ? b.directions?.[n.ref] : b.leaves[n.ref];
          if (v === undefined || v.length !== numel(n.shape)) throw new Error(`interpret: missing or mis-sized value for '${n.ref}'`);
          data = v;
        }
        break;
      case "elementwise": {
        data = new Float64Array(numel(n.shape));
        const args = new Array<number>(xs.length);
        for (let e = 0; e < data.length; e++) {
          for (let k = 0; k < xs.length; k++) {
            const x = xs[k]!;
            args[k] = x.data.length === 1 ? x.data[0]! : x.data[e]!;
          }
          data[e] = def.f(args, n);
        }
        break;
      }
      case "structural":
        data = def.eval(xs, n);
        break;
    }
    values.set(id, { shape: n.shape, data });
  }
  return values;
}
