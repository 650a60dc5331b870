/**
 * Every derivative rule of the op table against central finite differences in float64.
 * Each case builds  L = Σ w ⊙ op(inputs)  with random weights w, differentiates it with the reverse
 * sweep and evaluates both sides with the reference interpreter. The table must cover every
 * non-leaf op: adding an op without a case here fails the suite.
 */
import { describe, expect, it } from "vitest";
import { differentiate } from "../../compiler/autodiff/backprop.js";
import type { Attrs, Graph, NodeId } from "../../compiler/ir/graph.js";
import { interpret } from "../../compiler/ir/interpret.js";
import { newGraph } from "../../compiler/optimize/new-graph.js";
import { OPS, type OpKind } from "../../compiler/ir/ops.js";
import { numel, type Shape } from "../../compiler/ir/shape.js";
import { rng, sample } from "../helpers/random.js";

interface Case {
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
const CASES: Partial<Record<OpKind, Case[]>> = {
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
};

function checkCase(op: OpKind, c: Case, seed: number): number {
  const random = rng(seed);
  const g = newGraph({ simplify: false });
  const leaves: Record<string, Float64Array> = {};
  const xs = c.shapes.map((shape, k) => {
    const name = `x${k}`;
    const [lo, hi] = c.domain?.[k] ?? [-2, 2];
    leaves[name] = Float64Array.from({ length: numel(shape) }, () => sample(random, lo, hi, c.avoid ?? []));
    return g.raw("param", [], { ref: name, shape });
  });
  const y = c.build ? c.build(g, xs) : g.raw(op, xs, c.attrs ?? {});
  const wShape = g.shape(y);
  leaves.w = Float64Array.from({ length: numel(wShape) }, () => sample(random, -1, 1));
  const w = g.raw("input", [], { ref: "w", shape: wShape });
  const L = g.add("sum", [g.add("mul", [w, y])]);
  const wrt = xs.filter((_, k) => !(c.constant ?? []).includes(k));
  const grads = differentiate(g, L, wrt);
  const values = interpret(g, [L, ...grads], { leaves });
  const lossAt = () => interpret(g, [L], { leaves }).get(L)!.data[0]!;
  let worst = 0;
  wrt.forEach((x, k) => {
    const name = g.node(x).ref;
    const analytic = values.get(grads[k]!)!.data;
    const v = leaves[name]!;
    for (let i = 0; i < v.length; i++) {
      const orig = v[i]!;
      const h = 1e-6 * Math.max(1, Math.abs(orig));
      v[i] = orig + h;
      const up = lossAt();
      v[i] = orig - h;
      const down = lossAt();
      v[i] = orig;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[i]!) / Math.max(1, Math.abs(numeric), Math.abs(analytic[i]!));
      worst = Math.max(worst, err);
    }
  });
  return worst;
}

describe("derivative rules against central finite differences (float64)", () => {
  const ops = (Object.keys(OPS) as OpKind[]).filter((op) => OPS[op].kind !== "leaf");
  it("every non-leaf op has a case", () => {
    expect(ops.filter((op) => CASES[op] === undefined)).toEqual([]);
  });
  for (const op of ops)
    for (const [k, c] of (CASES[op] ?? []).entries())
      it(`${op} #${k} ${JSON.stringify(c.shapes)}`, () => {
        for (let seed = 1; seed <= 5; seed++) expect(checkCase(op, c, seed * 7919 + k)).toBeLessThan(1e-6);
      });
});
