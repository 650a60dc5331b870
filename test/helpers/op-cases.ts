/**
 * One or more cases per non-leaf op of the table, for the tests of its first-order (autodiff/
 * rules.test.ts) and second-order (autodiff/tangent-rules.test.ts) rules: the shapes of its inputs,
 * its attributes, the domain to draw points from and the kinks to stay away from.
 */
import type { Attrs, Graph, NodeId } from "../../compiler/ir/graph.js";
import type { OpKind } from "../../compiler/ir/ops.js";
import type { Shape } from "../../compiler/ir/shape.js";

export interface Case {
  /** shapes of the op's inputs */
  shapes: Shape[];
  attrs?: Attrs;
  /** value range per input (default [-2, 2]) and points to stay away from */
  domain?: ([number, number] | null)[];
  avoid?: number[];
  /** inputs that are not differentiable (the selector of a *_select, targets) */
  constant?: number[];
  /** build the node yourself (for ops whose construction the rewrite rules would change) */
  build?: (g: Graph, x: NodeId[]) => NodeId;
}

const V: Shape = [3];
const M: Shape = [2, 3];
export const CASES: Partial<Record<OpKind, Case[]>> = {
  neg: [{ shapes: [V] }],
  exp: [{ shapes: [V] }],
  log: [{ shapes: [V], domain: [[0.2, 3]] }],
  sqrt: [{ shapes: [V], domain: [[0.2, 3]] }],
  abs: [{ shapes: [V], avoid: [0] }],
  sign: [{ shapes: [V], avoid: [0] }],
  tanh: [{ shapes: [V] }],
  sigmoid: [{ shapes: [V] }, { shapes: [[]], domain: [[-30, 30]] }],
  relu: [{ shapes: [V], avoid: [0] }],
  softplus: [{ shapes: [V], domain: [[-20, 20]] }],
  leaky_relu: [{ shapes: [V], attrs: { num: 0.1 }, avoid: [0] }],
  elu: [{ shapes: [V], attrs: { num: 1.5 }, avoid: [0] }],
  pow: [{ shapes: [V], attrs: { num: 2 } }, { shapes: [V], attrs: { num: 3 } }, { shapes: [V], attrs: { num: -1.5 }, domain: [[0.3, 2]] }],
  add: [{ shapes: [V, V] }, { shapes: [[], V] }, { shapes: [M, []] }],
  sub: [{ shapes: [V, V] }, { shapes: [V, []] }],
  mul: [{ shapes: [V, V] }, { shapes: [[], M] }],
  div: [{ shapes: [V, V], domain: [null, [0.5, 2]] }, { shapes: [V, []], domain: [null, [0.5, 2]] }],
  max: [{ shapes: [V, V] }, { shapes: [V, []] }],
  min: [{ shapes: [V, V] }],
  gt_select: [{ shapes: [V, [], V, V], constant: [0, 1], build: (g, [a, , x, y]) => g.add("gt_select", [a!, g.c(0), x!, y!]), avoid: [0] }],
  ge_select: [{ shapes: [V, V, V, V], constant: [0, 1] }],
  matmul: [{ shapes: [M, V] }, { shapes: [M, [3, 4]] }],
  transpose: [{ shapes: [M] }],
  outer: [{ shapes: [V, [2]] }],
  sum: [{ shapes: [M] }],
  broadcast: [{ shapes: [[]], attrs: { shape: V } }],
  index: [{ shapes: [M], attrs: { at: [1, 2] } }],
  unindex: [{ shapes: [[]], attrs: { at: [1], shape: V } }],
  logsumexp: [{ shapes: [V], domain: [[-40, 40]] }],
  cross_entropy: [{ shapes: [V, V], domain: [[0.1, 1], [0, 1]] }],
  binary_cross_entropy: [{ shapes: [V, V], domain: [[0.1, 0.9], [0, 1]] }],
  dropout: [{ shapes: [V], attrs: { num: 0.5 } }],
  // [stride, top, left, bottom, right]: valid, "same" 3×3, strided with uneven padding, a stride that leaves a remainder
  conv2d: [
    { shapes: [[2, 4, 4], [3, 2, 3, 3]], attrs: { at: [1, 0, 0, 0, 0] } },
    { shapes: [[1, 4, 5], [2, 1, 3, 3]], attrs: { at: [1, 1, 1, 1, 1] } },
    { shapes: [[2, 5, 6], [2, 2, 2, 2]], attrs: { at: [2, 0, 1, 1, 0] } },
    { shapes: [[1, 6, 6], [1, 1, 3, 2]], attrs: { at: [2, 0, 0, 0, 0] } },
  ],
  conv2d_backward_input: [
    { shapes: [[3, 2, 2], [3, 2, 3, 3]], attrs: { at: [1, 0, 0, 0, 0], shape: [2, 4, 4] } },
    { shapes: [[2, 3, 3], [2, 2, 2, 2]], attrs: { at: [2, 0, 1, 1, 0], shape: [2, 5, 6] } },
  ],
  conv2d_backward_weight: [
    { shapes: [[2, 4, 4], [3, 2, 2]], attrs: { at: [1, 0, 0, 0, 0], shape: [3, 2, 3, 3] } },
    { shapes: [[1, 4, 5], [2, 4, 5]], attrs: { at: [1, 1, 1, 1, 1], shape: [2, 1, 3, 3] } },
    { shapes: [[2, 5, 6], [2, 3, 3]], attrs: { at: [2, 0, 1, 1, 0], shape: [2, 2, 2, 2] } },
  ],
  // random points: no ties in a window (almost surely), so the arg-max is stable under the differences
  maxpool: [{ shapes: [[2, 4, 4]], attrs: { at: [2] } }, { shapes: [[1, 5, 7]], attrs: { at: [3] } }],
  maxpool_backward: [{ shapes: [[2, 4, 4], [2, 2, 2]], attrs: { at: [2] }, constant: [0] }, { shapes: [[1, 5, 7], [1, 1, 2]], attrs: { at: [3] }, constant: [0] }],
  maxpool_gather: [{ shapes: [[2, 4, 4], [2, 4, 4]], attrs: { at: [2] }, constant: [0] }],
  avgpool: [{ shapes: [[2, 4, 4]], attrs: { at: [2] } }, { shapes: [[1, 5, 7]], attrs: { at: [3] } }],
  avgpool_backward: [{ shapes: [[1, 1, 2]], attrs: { at: [3], shape: [1, 5, 7] } }],
  // [start, stop, drop] per axis
  slice: [
    { shapes: [[2, 4, 3]], attrs: { at: [0, 1, 1, 1, 3, 0, 0, 3, 0] } },
    { shapes: [[2, 3, 2, 2]], attrs: { at: [0, 2, 0, 1, 2, 1, 0, 2, 0, 1, 2, 1] } },
    { shapes: [M], attrs: { at: [1, 2, 0, 0, 2, 0] } },
  ],
  unslice: [{ shapes: [[2, 3]], attrs: { at: [0, 1, 1, 1, 3, 0, 0, 3, 0], shape: [2, 4, 3] } }],
  concat: [{ shapes: [V, [2], V] , attrs: { at: [0] } }, { shapes: [[2, 2, 3], [2, 1, 3]], attrs: { at: [1] } }],
  reshape: [{ shapes: [[2, 3, 2]], attrs: { shape: [12] } }, { shapes: [[6]], attrs: { shape: [1, 2, 3] } }],
};

