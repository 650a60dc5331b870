/**
 * Every tangent rule of the op table (the forward mode the Hessian-vector product is made of,
 * autodiff/tangent.ts) against central finite differences in float64, on the cases of the
 * first-order test (test/helpers/op-cases.ts), at random points away from the kinks:
 *
 *  - first order: the tangent ẏ of y = op(x) along a random direction v against
 *    (op(x + hv) − op(x − hv)) / 2h;
 *  - second order: for L = Σ w ⊙ op(x), the tangent of the reverse sweep's gradient, H·v, against
 *    (∇L(x + hv) − ∇L(x − hv)) / 2h — the backward graph is differentiated by the rules of the ops
 *    it is made of, so this checks the rules as the compiler uses them.
 */
import { describe, expect, it } from "vitest";
import { differentiate } from "../../compiler/autodiff/backprop.js";
import { tangents } from "../../compiler/autodiff/tangent.js";
import type { Graph, NodeId } from "../../compiler/ir/graph.js";
import { interpret } from "../../compiler/ir/interpret.js";
import { OPS, type OpKind } from "../../compiler/ir/ops.js";
import { numel } from "../../compiler/ir/shape.js";
import { newGraph } from "../../compiler/optimize/new-graph.js";
import { CASES, type Case } from "../helpers/op-cases.js";
import { rng, sample } from "../helpers/random.js";

interface Built {
  g: Graph;
  /** the op's inputs (param leaves x0, x1, …) and the differentiable ones */
  xs: NodeId[];
  wrt: NodeId[];
  y: NodeId;
  leaves: Record<string, Float64Array>;
  directions: Record<string, Float64Array>;
}

function build(op: OpKind, c: Case, seed: number, simplify: boolean): Built {
  const random = rng(seed);
  const g = newGraph({ simplify });
  const leaves: Record<string, Float64Array> = {};
  const directions: Record<string, Float64Array> = {};
  const xs = c.shapes.map((shape, k) => {
    const name = `x${k}`;
    const [lo, hi] = c.domain?.[k] ?? [-2, 2];
    leaves[name] = Float64Array.from({ length: numel(shape) }, () => sample(random, lo, hi, c.avoid ?? []));
    directions[name] = Float64Array.from({ length: numel(shape) }, () => sample(random, -1, 1));
    return g.raw("param", [], { ref: name, shape });
  });
  const y = c.build ? c.build(g, xs) : g.raw(op, xs, c.attrs ?? {});
  const wrt = xs.filter((_, k) => !(c.constant ?? []).includes(k));
  return { g, xs, wrt, y, leaves, directions };
}

/** values of `roots` at x + t·v (only the differentiable inputs move) */
function at(b: Built, roots: readonly NodeId[], t: number): Float64Array[] {
  const leaves = { ...b.leaves };
  for (const x of b.wrt) {
    const name = b.g.node(x).ref;
    leaves[name] = b.leaves[name]!.map((v, i) => v + t * b.directions[name]![i]!);
  }
  const values = interpret(b.g, roots, { leaves, directions: b.directions });
  return roots.map((r) => values.get(r)!.data);
}

/** worst relative error of `analytic` against the central difference of `f` along v */
function againstDifferences(analytic: readonly Float64Array[], f: (t: number) => Float64Array[], h: number): number {
  const up = f(h);
  const down = f(-h);
  let worst = 0;
  analytic.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) {
      const numeric = (up[k]![i]! - down[k]![i]!) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - a[i]!) / Math.max(1, Math.abs(numeric), Math.abs(a[i]!)));
    }
  });
  return worst;
}

function firstOrder(op: OpKind, c: Case, seed: number): number {
  const b = build(op, c, seed, false);
  const [dy] = tangents(b.g, [b.y], b.wrt);
  const analytic = at(b, [dy!], 0);
  return againstDifferences(analytic, (t) => at(b, [b.y], t), 1e-6);
}

function secondOrder(op: OpKind, c: Case, seed: number, simplify: boolean): number {
  const b = build(op, c, seed, simplify);
  const random = rng(seed + 1);
  const wShape = b.g.shape(b.y);
  b.leaves.w = Float64Array.from({ length: numel(wShape) }, () => sample(random, -1, 1));
  const w = b.g.raw("input", [], { ref: "w", shape: wShape });
  const L = b.g.add("sum", [b.g.add("mul", [w, b.y])]);
  const grads = differentiate(b.g, L, b.wrt);
  const hv = tangents(b.g, grads, b.wrt);
  const analytic = at(b, hv, 0);
  return againstDifferences(analytic, (t) => at(b, grads, t), 1e-6);
}

describe("tangent rules against central finite differences (float64)", () => {
  const ops = (Object.keys(OPS) as OpKind[]).filter((op) => OPS[op].kind !== "leaf");
  it("every non-leaf op has a case", () => {
    expect(ops.filter((op) => CASES[op] === undefined)).toEqual([]);
  });
  for (const op of ops)
    for (const [k, c] of (CASES[op] ?? []).entries())
      it(`${op} #${k} ${JSON.stringify(c.shapes)}`, () => {
        for (let seed = 1; seed <= 5; seed++) {
          expect(firstOrder(op, c, seed * 7919 + k), "ẏ").toBeLessThan(1e-6);
          // as built (the rules alone) and through the rewrite rules (the fused forms the compiler emits)
          expect(secondOrder(op, c, seed * 7919 + k, false), "H·v").toBeLessThan(1e-6);
          expect(secondOrder(op, c, seed * 7919 + k, true), "H·v, simplified").toBeLessThan(1e-6);
        }
      });
});

describe("the tangent sweep", () => {
  it("H·v of softmax cross-entropy on the logits is (diag p − ppᵀ)·v, from the stable form", () => {
    const g = newGraph();
    const a = g.raw("param", [], { ref: "a", shape: [4] });
    const t = g.raw("target", [], { ref: "t", shape: [4] });
    const lse = g.add("logsumexp", [a]);
    const p = g.add("exp", [g.add("sub", [a, lse])]);
    const L = g.add("cross_entropy", [p, t]);
    const [grad] = differentiate(g, L, [a]);
    const [hv] = tangents(g, [grad!], [a]);
    const leaves = { a: Float64Array.of(30, -20, 1.5, 700), t: Float64Array.of(0, 0, 1, 0) };
    const v = Float64Array.of(0.3, -1, 2, 0.5);
    const out = interpret(g, [hv!], { leaves, directions: { a: v } }).get(hv!)!.data;
    const m = Math.max(...leaves.a);
    const e = leaves.a.map((x) => Math.exp(x - m));
    const s = e.reduce((x, y) => x + y, 0);
    const probs = e.map((x) => x / s);
    const pv = probs.reduce((acc, pi, i) => acc + pi * v[i]!, 0);
    for (let i = 0; i < 4; i++) expect(out[i]).toBeCloseTo(probs[i]! * (v[i]! - pv), 12);
    // the sweep never built the unstable ratio eˣ/Σeˣ: no division in the tangent
    const ops = new Set(g.nodes.slice(L).map((n) => n.op));
    expect(ops.has("div")).toBe(false);
  });
});
