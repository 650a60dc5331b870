/**
 * Every derivative rule of the op table against central finite differences in float64.
 * Each case builds  L = Σ w ⊙ op(inputs)  with random weights w, differentiates it with the reverse
 * sweep and evaluates both sides with the reference interpreter. The table must cover every
 * non-leaf op: adding an op without a case in test/helpers/op-cases.ts fails the suite.
 */
import { describe, expect, it } from "vitest";
import { differentiate } from "../../compiler/autodiff/backprop.js";
import { interpret } from "../../compiler/ir/interpret.js";
import { newGraph } from "../../compiler/optimize/new-graph.js";
import { OPS, type OpKind } from "../../compiler/ir/ops.js";
import { numel } from "../../compiler/ir/shape.js";
import { CASES, type Case } from "../helpers/op-cases.js";
import { rng, sample } from "../helpers/random.js";

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
