/**
 * THE op set. Each op's forward meaning (shape, numeric evaluation, and for element-wise ops the
 * TypeScript expression) sits beside its derivative rule. The table is a `Record<OpKind, OpDef>`,
 * so an op without a rule does not compile.
 *
 * A derivative rule gets the graph, the node and its adjoint ā (∂L/∂node, already summed over
 * fan-out by the reverse sweep) and returns, per input, a thunk building ∂L/∂input — or null where
 * the gradient is zero. Thunks are only called for inputs that lead to a parameter. A returned
 * gradient may have the broadcast shape of the node; the sweep sums it down to a scalar input's
 * shape. Rules reuse the forward output where that is cheaper (σ′ = y(1−y), tanh′ = 1 − y²).
 *
 * A tangent rule is the forward-mode twin: given the tangents ẋ of the inputs (∂x(θ + εv)/∂ε at
 * ε = 0, null where zero) it builds the node's tangent ẏ = Σₖ ∂y/∂xₖ · ẋₖ, or null where zero. The
 * tangent sweep (autodiff/tangent.ts) runs it over the forward and the backward graph, which gives
 * the Hessian-vector product H·v (docs/architecture.md, "Second order"); the reverse sweep only
 * ever builds ops of this table, so every op having a tangent rule is what makes the compiler
 * differentiate twice. It is required, like `grad`: an op without one does not compile. The
 * sweep calls a rule only when some input's tangent is non-zero; it broadcasts a scalar result
 * up to the node's shape.
 *
 * Kinks. relu, abs, max, min, leaky_relu, elu (at 0, in its second derivative), sign and the
 * selects are piecewise smooth: their tangent is taken on the piece the point lies on, the
 * comparison itself having a zero tangent. So the second derivative is 0 away from the kink (relu″
 * = abs″ = 0) and at the kink it is the one-sided value the first-derivative convention picks
 * (relu′(0) = 0, so relu″(0) = 0 too): what the emitted gradient actually computes, differentiated.
 */
import type { Graph, Node, NodeId } from "./graph.js";
import type { OpKind } from "./op-kinds.js";
import { broadcastShapes, matmulShape, numel, strides, type Shape } from "./shape.js";
import {
  avgpoolBackwardEval, avgpoolEval, concatEval, concatPart, concatShape, conv2dBackwardInputEval, conv2dBackwardWeightEval,
  conv2dEval, conv2dShape, convAttrs, maxpoolBackwardEval, maxpoolEval, maxpoolGatherEval, poolShape, sliceAt, sliceAxes,
  sliceEval, sliceShape, unsliceEval,
} from "./conv.js";

export type { OpKind };
export type Thunk = () => NodeId;
export type Rule = (g: Graph, node: Node, adj: NodeId) => readonly (Thunk | null)[];
/** The forward-mode rule: the node's tangent from its inputs' tangents (null: zero). */
export type TangentRule = (g: Graph, node: Node, dots: readonly (NodeId | null)[]) => NodeId | null;

/** A dense tensor value (used by the interpreter and constant folding). */
export interface Tensor {
  readonly shape: Shape;
  readonly data: Float64Array;
}

interface Common {
  /** human description used by `nnc explain` and in comments */
  readonly doc: string;
  readonly grad: Rule;
  readonly tangent: TangentRule;
}

export interface LeafDef extends Common {
  readonly kind: "leaf";
}

export interface ElementwiseDef extends Common {
  readonly kind: "elementwise";
  readonly arity: number;
  /** the scalar function */
  readonly f: (x: readonly number[], node: Node) => number;
  /** the TypeScript expression for one element; args are already parenthesized as needed */
  readonly ts: (a: readonly string[], node: Node) => string;
  /** args that `ts` mentions more than once (codegen binds complex ones to a temporary first) */
  readonly reused?: readonly number[];
}

export interface StructuralDef extends Common {
  readonly kind: "structural";
  readonly shape: (inputs: readonly Shape[], node: { at: readonly number[]; shape?: Shape }) => Shape;
  readonly eval: (xs: readonly Tensor[], node: Node) => Float64Array;
}

export type OpDef = LeafDef | ElementwiseDef | StructuralDef;

const none: Rule = () => [];
/** a leaf's tangent is the sweep's business: v for a parameter, zero for anything else */
const leafTangent: TangentRule = () => null;

// Shorthands that keep the rules one line each.
const mul = (g: Graph, a: NodeId, b: NodeId) => g.add("mul", [a, b]);
const sub = (g: Graph, a: NodeId, b: NodeId) => g.add("sub", [a, b]);
const div = (g: Graph, a: NodeId, b: NodeId) => g.add("div", [a, b]);
const neg = (g: Graph, a: NodeId) => g.add("neg", [a]);
const c = (g: Graph, v: number) => g.c(v);
const select = (op: "gt_select" | "ge_select", g: Graph, a: NodeId, b: NodeId, x: NodeId, y: NodeId) =>
  g.add(op, [a, b, x, y]);

// Shorthands for tangents, where null is a zero.
/** Σ of the non-zero terms */
const plus = (g: Graph, ...ts: readonly (NodeId | null)[]): NodeId | null =>
  ts.reduce<NodeId | null>((s, t) => (t === null ? s : s === null ? t : g.add("add", [s, t])), null);
/** a − b */
const minus = (g: Graph, a: NodeId | null, b: NodeId | null): NodeId | null => (b === null ? a : a === null ? neg(g, b) : sub(g, a, b));
/** the tangent of a unary element-wise op: f′(x) ẋ, with f′ built only when ẋ is non-zero */
const chain = (deriv: (g: Graph, n: Node) => NodeId): TangentRule => (g, n, [dx]) => (dx == null ? null : mul(g, deriv(g, n), dx));
/** a tangent that is linear in the inputs' tangents: the op itself applied to them (zero for a zero) */
const linear = (g: Graph, n: Node, dx: NodeId | null | undefined): NodeId | null =>
  dx == null ? null : g.add(n.op, [dx], { num: n.num, at: n.at, shape: n.shape });

/** x log y with 0 log 0 = 0 (the limit), as cross-entropies need. */
export function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/** x / y, and 0 where x = 0: the derivative of xlogy, finite where it should be. */
const xdivy = (g: Graph, x: NodeId, y: NodeId) => g.add("gt_select", [g.add("abs", [x]), c(g, 0), div(g, x, y), c(g, 0)]);

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function unary(
  doc: string,
  f: (x: number, node: Node) => number,
  ts: (a: string, node: Node) => string,
  grad: Rule,
  tangent: TangentRule,
  reused = false,
): ElementwiseDef {
  return { kind: "elementwise", arity: 1, doc, f: (x, n) => f(x[0]!, n), ts: (a, n) => ts(a[0]!, n), grad, tangent, reused: reused ? [0] : [] };
}

function binary(
  doc: string,
  f: (a: number, b: number) => number,
  ts: (a: string, b: string) => string,
  grad: Rule,
  tangent: TangentRule,
  reused: number[] = [],
): ElementwiseDef {
  return { kind: "elementwise", arity: 2, doc, f: (x) => f(x[0]!, x[1]!), ts: (a) => ts(a[0]!, a[1]!), grad, tangent, reused };
}

/** x > y ? a : b and x ≥ y ? a : b: the derivatives of relu, max, min, leaky_relu, elu. */
function selectOp(doc: string, cmp: (x: number, y: number) => boolean, sym: string, op: "gt_select" | "ge_select"): ElementwiseDef {
  return {
    kind: "elementwise",
    arity: 4,
    doc,
    f: (x) => (cmp(x[0]!, x[1]!) ? x[2]! : x[3]!),
    ts: (a) => `${a[0]} ${sym} ${a[1]} ? ${a[2]} : ${a[3]}`,
    // the comparison is piecewise constant: no gradient through it
    grad: (g, n, adj) => [null, null, () => select(op, g, n.inputs[0]!, n.inputs[1]!, adj, c(g, 0)), () => select(op, g, n.inputs[0]!, n.inputs[1]!, c(g, 0), adj)],
    // nor a tangent: the selected branch's, on the piece the point lies on
    tangent: (g, n, [, , da, db]) => (da == null && db == null ? null : select(op, g, n.inputs[0]!, n.inputs[1]!, da ?? c(g, 0), db ?? c(g, 0))),
  };
}

function matmulEval(xs: readonly Tensor[]): Float64Array {
  const [a, b] = xs as [Tensor, Tensor];
  const m = a.shape[0]!, k = a.shape[1]!;
  const p = b.shape.length === 1 ? 1 : b.shape[1]!;
  const out = new Float64Array(m * p);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += a.data[i * k + l]! * b.data[l * p + j]!;
      out[i * p + j] = s;
    }
  return out;
}

function flatIndex(shape: Shape, at: readonly number[]): number {
  const st = strides(shape);
  return at.reduce((s, v, i) => s + v * st[i]!, 0);
}

/** a shape rule's failure: an internal error (the elaborator reports the user's mistakes first) */
function must(s: Shape | null, what: string): Shape {
  if (s === null) throw new Error(`internal: ${what}`);
  return s;
}

/** the tangent of a bilinear op B(a, b): B(ȧ, b) + B(a, ḃ) */
const bilinear: TangentRule = (g, n, [da, db]) => {
  const [a, b] = n.inputs as [NodeId, NodeId];
  const attrs = { at: n.at, shape: n.shape };
  return plus(g, da == null ? null : g.add(n.op, [da, b], attrs), db == null ? null : g.add(n.op, [a, db], attrs));
};

/**
 * The image ops (their attributes and numeric meaning: ir/conv.ts). The three convolution ops are
 * one bilinear sum y[o,p,q] = Σ x[c, ps+u−top, qs+v−left] W[o,c,u,v] read three ways, so each one's
 * adjoints are the other two: the weight sharing of the notes, ∂W summed over every position.
 */
const IMAGE_OPS = {
  /** y = conv2d(x[C,H,W], W[O,C,kh,kw]): a cross-correlation with stride and zero padding */
  conv2d: {
    kind: "structural",
    doc: "conv2d(x, W)",
    shape: ([x, w], n) => must(conv2dShape(x!, w!, convAttrs(n.at)), `conv2d of ${JSON.stringify([x, w])} with ${n.at}`),
    eval: ([x, w], n) => conv2dEval(x!, w!, convAttrs(n.at), n.shape),
    // δx = full-corr(δ, rot180(W)) (the transpose of the convolution in x); ∂W = corr(x, δ), summed over positions
    grad: (g, n, adj) => {
      const [x, w] = n.inputs as [NodeId, NodeId];
      return [
        () => g.add("conv2d_backward_input", [adj, w], { at: n.at, shape: g.shape(x) }),
        () => g.add("conv2d_backward_weight", [x, adj], { at: n.at, shape: g.shape(w) }),
      ];
    },
    tangent: bilinear,
  },
  /** conv2d's transpose in x: z = Σ δ[o,p,q] W[o,c,u,v] at x's position (ps+u−top, qs+v−left); shape attr = x's */
  conv2d_backward_input: {
    kind: "structural",
    doc: "full-corr(δ, rot180(W))",
    shape: (_i, n) => n.shape!,
    eval: ([d, w], n) => conv2dBackwardInputEval(d!, w!, convAttrs(n.at), n.shape),
    // ⟨z̄, Bᵢ(δ, W)⟩ = ⟨conv2d(z̄, W), δ⟩: δ̄ = conv2d(z̄, W), W̄ = corr(z̄, δ)
    grad: (g, n, adj) => {
      const [d, w] = n.inputs as [NodeId, NodeId];
      return [() => g.add("conv2d", [adj, w], { at: n.at }), () => g.add("conv2d_backward_weight", [adj, d], { at: n.at, shape: g.shape(w) })];
    },
    tangent: bilinear,
  },
  /** conv2d's transpose in W: ∂W[o,c,u,v] = Σ_{p,q} x[c, ps+u−top, qs+v−left] δ[o,p,q]; shape attr = W's */
  conv2d_backward_weight: {
    kind: "structural",
    doc: "corr(x, δ)",
    shape: (_i, n) => n.shape!,
    eval: ([x, d], n) => conv2dBackwardWeightEval(x!, d!, convAttrs(n.at), n.shape),
    // ⟨z̄, B_w(x, δ)⟩ = ⟨conv2d(x, z̄), δ⟩: x̄ = Bᵢ(δ, z̄), δ̄ = conv2d(x, z̄)
    grad: (g, n, adj) => {
      const [x, d] = n.inputs as [NodeId, NodeId];
      return [() => g.add("conv2d_backward_input", [d, adj], { at: n.at, shape: g.shape(x) }), () => g.add("conv2d", [x, adj], { at: n.at })];
    },
    tangent: bilinear,
  },
  /** the max of each k×k window (stride k, valid) */
  maxpool: {
    kind: "structural",
    doc: "maxpool(x, k)",
    shape: ([x], n) => must(poolShape(x!, n.at[0]!), `maxpool of ${JSON.stringify(x)} by ${n.at[0]}`),
    eval: ([x], n) => maxpoolEval(x!, n.at[0]!),
    // δ goes to each window's arg-max (ties: the first in row-major order)
    grad: (g, n, adj) => [() => g.add("maxpool_backward", [n.inputs[0]!, adj], { at: n.at })],
    // the tangent of the max is the tangent of the element that attains it
    tangent: (g, n, [dx]) => (dx == null ? null : g.add("maxpool_gather", [n.inputs[0]!, dx], { at: n.at })),
  },
  /** maxpool_backward(x, δ): δ of each window at its arg-max in x, zeros elsewhere (x's shape) */
  maxpool_backward: {
    kind: "structural",
    doc: "δ routed to the arg-max",
    shape: ([x]) => x!,
    eval: ([x, d], n) => maxpoolBackwardEval(x!, d!, n.at[0]!),
    // linear in δ; the arg-max is piecewise constant in x: no gradient, no tangent through it
    grad: (g, n, adj) => [null, () => g.add("maxpool_gather", [n.inputs[0]!, adj], { at: n.at })],
    tangent: (g, n, [, dd]) => (dd == null ? null : g.add("maxpool_backward", [n.inputs[0]!, dd], { at: n.at })),
  },
  /** maxpool_gather(x, z): z read at each window's arg-max in x (the pooled shape) */
  maxpool_gather: {
    kind: "structural",
    doc: "z at the arg-max",
    shape: ([x], n) => must(poolShape(x!, n.at[0]!), `maxpool_gather of ${JSON.stringify(x)} by ${n.at[0]}`),
    eval: ([x, z], n) => maxpoolGatherEval(x!, z!, n.at[0]!),
    grad: (g, n, adj) => [null, () => g.add("maxpool_backward", [n.inputs[0]!, adj], { at: n.at })],
    tangent: (g, n, [, dz]) => (dz == null ? null : g.add("maxpool_gather", [n.inputs[0]!, dz], { at: n.at })),
  },
  /** the mean of each k×k window (stride k, valid) */
  avgpool: {
    kind: "structural",
    doc: "avgpool(x, k)",
    shape: ([x], n) => must(poolShape(x!, n.at[0]!), `avgpool of ${JSON.stringify(x)} by ${n.at[0]}`),
    eval: ([x], n) => avgpoolEval(x!, n.at[0]!),
    // δ/k² spread over each window
    grad: (g, n, adj) => [() => g.add("avgpool_backward", [adj], { at: n.at, shape: g.shape(n.inputs[0]!) })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** avgpool's adjoint: each δ/k² over its window, zeros past the last window (shape attr = x's) */
  avgpool_backward: {
    kind: "structural",
    doc: "δ/k² over the window",
    shape: (_i, n) => n.shape!,
    eval: ([d], n) => avgpoolBackwardEval(d!, n.at[0]!, n.shape),
    grad: (g, n, adj) => [() => g.add("avgpool", [adj], { at: n.at })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** x[start:stop, i, …]: a box of x, the indexed axes dropped */
  slice: {
    kind: "structural",
    doc: "x[a:b, …]",
    shape: ([x], n) => must(sliceShape(x!, sliceAxes(n.at)), `slice of ${JSON.stringify(x)} by ${n.at}`),
    eval: ([x], n) => sliceEval(x!, sliceAxes(n.at)),
    // the slice's δ scattered into zeros
    grad: (g, n, adj) => [() => g.add("unslice", [adj], { at: n.at, shape: g.shape(n.inputs[0]!) })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** the slice's adjoint: d placed at the box of a zero tensor (shape attr = the full shape) */
  unslice: {
    kind: "structural",
    doc: "x scattered into zeros",
    shape: (_i, n) => n.shape!,
    eval: ([d], n) => unsliceEval(d!, sliceAxes(n.at), n.shape),
    grad: (g, n, adj) => [() => g.add("slice", [adj], { at: n.at })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** the inputs side by side along axis at[0] */
  concat: {
    kind: "structural",
    doc: "concat(a, b, …)",
    shape: (xs, n) => must(concatShape(xs, n.at[0]!), `concat of ${JSON.stringify(xs)} on ${n.at[0]}`),
    eval: (xs, n) => concatEval(xs, n.at[0]!, n.shape),
    // δ split: each input gets its own part
    grad: (g, n, adj) => {
      const shapes = n.inputs.map((i) => g.shape(i));
      return n.inputs.map((_, k) => () => g.add("slice", [adj], { at: sliceAt(concatPart(shapes, n.at[0]!, k)) }));
    },
    tangent: (g, n, dots) =>
      dots.every((d) => d == null) ? null : g.add("concat", n.inputs.map((x, k) => dots[k] ?? g.c(0, g.shape(x))), { at: n.at }),
  },
  /** the same elements, row-major, in another shape (flatten) */
  reshape: {
    kind: "structural",
    doc: "reshape",
    shape: ([x], n) => (numel(x!) === numel(n.shape!) ? n.shape! : must(null, `reshape of ${JSON.stringify(x)} to ${JSON.stringify(n.shape)}`)),
    eval: ([x]) => x!.data.slice(),
    grad: (g, n, adj) => [() => g.add("reshape", [adj], { shape: g.shape(n.inputs[0]!) })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
} satisfies Record<string, StructuralDef>;

export const OPS: Record<OpKind, OpDef> = {
  // ── leaves ─────────────────────────────────────────────────────────
  input: { kind: "leaf", doc: "an input of one sample", grad: none, tangent: leafTangent },
  target: { kind: "leaf", doc: "a target of one sample", grad: none, tangent: leafTangent },
  param: { kind: "leaf", doc: "a trainable parameter", grad: none, tangent: leafTangent },
  const: { kind: "leaf", doc: "a constant (every element the same)", grad: none, tangent: leafTangent },
  /** training mode only: each element 0 with probability p, else 1/(1−p); drawn per sample */
  dropout_mask: { kind: "leaf", doc: "a dropout mask", grad: none, tangent: leafTangent },
  /** the direction v of a Hessian-vector product, for the parameter named `ref`: the tangent of that
   * parameter (autodiff/tangent.ts), read from the `v` argument as a parameter is from `params` */
  direction: { kind: "leaf", doc: "the direction of a Hessian-vector product", grad: none, tangent: leafTangent },

  // ── element-wise, one argument ─────────────────────────────────────
  neg: unary("−x", (x) => -x, (a) => `-${a}`, (g, _n, adj) => [() => neg(g, adj)], (g, n, [dx]) => linear(g, n, dx)),
  exp: unary("exp x", Math.exp, (a) => `Math.exp(${a})`, (g, n, adj) => [() => mul(g, adj, n.id)], chain((_g, n) => n.id)), // exp′ = y
  log: unary("log x", Math.log, (a) => `Math.log(${a})`, (g, n, adj) => [() => div(g, adj, n.inputs[0]!)], (g, n, [dx]) => (dx == null ? null : div(g, dx, n.inputs[0]!))),
  sqrt: unary("√x", Math.sqrt, (a) => `Math.sqrt(${a})`, (g, n, adj) => [() => div(g, adj, mul(g, c(g, 2), n.id))], (g, n, [dx]) => (dx == null ? null : div(g, dx, mul(g, c(g, 2), n.id)))), // √′ = 1/(2y)
  abs: unary("|x|", Math.abs, (a) => `Math.abs(${a})`, (g, n, adj) => [() => mul(g, adj, g.add("sign", [n.inputs[0]!]))], chain((g, n) => g.add("sign", [n.inputs[0]!]))), // abs′(0) = 0; abs″ = 0
  sign: unary("sign x", (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), (a) => `Math.sign(${a})`, () => [null], () => null), // piecewise constant
  tanh: unary("tanh x", Math.tanh, (a) => `Math.tanh(${a})`, (g, n, adj) => [() => mul(g, adj, sub(g, c(g, 1), mul(g, n.id, n.id)))], chain((g, n) => sub(g, c(g, 1), mul(g, n.id, n.id)))), // tanh′ = 1 − y²
  sigmoid: unary("σ(x)", sigmoid, (a) => `1 / (1 + Math.exp(-${a}))`, (g, n, adj) => [() => mul(g, adj, mul(g, n.id, sub(g, c(g, 1), n.id)))], chain((g, n) => mul(g, n.id, sub(g, c(g, 1), n.id)))), // σ′ = y(1 − y)
  // relu′(x) = 𝟙[x > 0], read off the output (y > 0 ⇔ x > 0) so the pre-activation need not be kept; relu′(0) = 0
  // and relu″ = 0: the tangent is 𝟙[y > 0] ẋ
  relu: unary("max(x, 0)", (x) => (x > 0 ? x : 0), (a) => `${a} > 0 ? ${a} : 0`, (g, n, adj) => [() => select("gt_select", g, n.id, c(g, 0), adj, c(g, 0))],
    (g, n, [dx]) => (dx == null ? null : select("gt_select", g, n.id, c(g, 0), dx, c(g, 0))), true),
  softplus: unary("log(1 + eˣ)", softplus, (a) => `Math.max(${a}, 0) + Math.log1p(Math.exp(-Math.abs(${a})))`, (g, n, adj) => [() => mul(g, adj, g.add("sigmoid", [n.inputs[0]!]))],
    chain((g, n) => g.add("sigmoid", [n.inputs[0]!])), true), // softplus′ = σ
  leaky_relu: unary("x > 0 ? x : αx", (x, n) => (x > 0 ? x : n.num * x), (a, n) => `${a} > 0 ? ${a} : ${n.num} * ${a}`,
    (g, n, adj) => [() => select("gt_select", g, n.num > 0 ? n.id : n.inputs[0]!, c(g, 0), adj, mul(g, c(g, n.num), adj))], // for α > 0, y > 0 ⇔ x > 0
    (g, n, [dx]) => (dx == null ? null : select("gt_select", g, n.num > 0 ? n.id : n.inputs[0]!, c(g, 0), dx, mul(g, c(g, n.num), dx))), true), // second derivative 0
  elu: unary("x > 0 ? x : α(eˣ − 1)", (x, n) => (x > 0 ? x : n.num * Math.expm1(x)), (a, n) => `${a} > 0 ? ${a} : ${n.num} * Math.expm1(${a})`,
    (g, n, adj) => [() => select("gt_select", g, n.num > 0 ? n.id : n.inputs[0]!, c(g, 0), adj, mul(g, adj, g.add("add", [n.id, c(g, n.num)])))], // elu′ = y + α for x ≤ 0; for α > 0, y > 0 ⇔ x > 0
    (g, n, [dx]) => (dx == null ? null : select("gt_select", g, n.num > 0 ? n.id : n.inputs[0]!, c(g, 0), dx, mul(g, dx, g.add("add", [n.id, c(g, n.num)])))), true),
  /** x^k for a constant k */
  pow: unary("xᵏ", (x, n) => (n.num === 2 ? x * x : Math.pow(x, n.num)), (a, n) => (n.num === 2 ? `${a} * ${a}` : `${a} ** ${n.num}`),
    (g, n, adj) => [() => mul(g, adj, mul(g, c(g, n.num), g.add("pow", [n.inputs[0]!], { num: n.num - 1 })))],
    chain((g, n) => mul(g, c(g, n.num), g.add("pow", [n.inputs[0]!], { num: n.num - 1 }))), true),

  // ── element-wise, two arguments (a scalar broadcasts) ──────────────
  add: binary("a + b", (a, b) => a + b, (a, b) => `${a} + ${b}`, (_g, _n, adj) => [() => adj, () => adj], (g, _n, [da, db]) => plus(g, da ?? null, db ?? null)),
  sub: binary("a − b", (a, b) => a - b, (a, b) => `${a} - ${b}`, (g, _n, adj) => [() => adj, () => neg(g, adj)], (g, _n, [da, db]) => minus(g, da ?? null, db ?? null)),
  mul: binary("a · b", (a, b) => a * b, (a, b) => `${a} * ${b}`, (g, n, adj) => [() => mul(g, adj, n.inputs[1]!), () => mul(g, adj, n.inputs[0]!)],
    (g, n, [da, db]) => plus(g, da == null ? null : mul(g, da, n.inputs[1]!), db == null ? null : mul(g, n.inputs[0]!, db))),
  // ∂(a/b)/∂b = −a/b² = −y/b; the tangent (ȧ − y ḃ)/b
  div: binary("a / b", (a, b) => a / b, (a, b) => `${a} / ${b}`, (g, n, adj) => [() => div(g, adj, n.inputs[1]!), () => neg(g, div(g, mul(g, adj, n.id), n.inputs[1]!))],
    (g, n, [da, db]) => div(g, minus(g, da ?? null, db == null ? null : mul(g, n.id, db))!, n.inputs[1]!)),
  // ties pick the first argument
  // the tangent is the selected argument's: second derivative 0 away from the tie
  max: binary("max(a, b)", (a, b) => (a >= b ? a : b), (a, b) => `${a} >= ${b} ? ${a} : ${b}`,
    (g, n, adj) => [() => select("ge_select", g, n.inputs[0]!, n.inputs[1]!, adj, c(g, 0)), () => select("ge_select", g, n.inputs[0]!, n.inputs[1]!, c(g, 0), adj)],
    (g, n, [da, db]) => select("ge_select", g, n.inputs[0]!, n.inputs[1]!, da ?? c(g, 0), db ?? c(g, 0)), [0, 1]),
  min: binary("min(a, b)", (a, b) => (a <= b ? a : b), (a, b) => `${a} <= ${b} ? ${a} : ${b}`,
    (g, n, adj) => [() => select("ge_select", g, n.inputs[1]!, n.inputs[0]!, adj, c(g, 0)), () => select("ge_select", g, n.inputs[1]!, n.inputs[0]!, c(g, 0), adj)],
    (g, n, [da, db]) => select("ge_select", g, n.inputs[1]!, n.inputs[0]!, da ?? c(g, 0), db ?? c(g, 0)), [0, 1]),
  gt_select: selectOp("x > y ? a : b", (x, y) => x > y, ">", "gt_select"),
  ge_select: selectOp("x ≥ y ? a : b", (x, y) => x >= y, ">=", "ge_select"),

  // ── structure ──────────────────────────────────────────────────────
  /** A @ v (matrix–vector) and A @ B (matrix–matrix) */
  matmul: {
    kind: "structural",
    doc: "A @ B",
    shape: ([a, b]) => matmulShape(a!, b!)!,
    eval: (xs) => matmulEval(xs),
    // ∂L/∂A = ā Bᵀ (= ā vᵀ for a vector), ∂L/∂B = Aᵀ ā
    grad: (g, n, adj) => {
      const [a, b] = n.inputs as [NodeId, NodeId];
      const vec = g.shape(b).length === 1;
      return [
        () => (vec ? g.add("outer", [adj, b]) : g.add("matmul", [adj, g.add("transpose", [b])])),
        () => g.add("matmul", [g.add("transpose", [a]), adj]),
      ];
    },
    // (A B)˙ = Ȧ B + A Ḃ
    tangent: (g, n, [da, db]) => {
      const [a, b] = n.inputs as [NodeId, NodeId];
      return plus(g, da == null ? null : g.add("matmul", [da, b]), db == null ? null : g.add("matmul", [a, db]));
    },
  },
  transpose: {
    kind: "structural",
    doc: "Aᵀ",
    shape: ([a]) => [a![1]!, a![0]!],
    eval: ([a]) => {
      const m = a!.shape[0]!, k = a!.shape[1]!;
      const out = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) out[j * m + i] = a!.data[i * k + j]!;
      return out;
    },
    grad: (g, _n, adj) => [() => g.add("transpose", [adj])],
    tangent: (g, n, [da]) => linear(g, n, da),
  },
  /** u vᵀ */
  outer: {
    kind: "structural",
    doc: "u vᵀ",
    shape: ([u, v]) => [u![0]!, v![0]!],
    eval: ([u, v]) => {
      const out = new Float64Array(u!.data.length * v!.data.length);
      for (let i = 0; i < u!.data.length; i++) for (let j = 0; j < v!.data.length; j++) out[i * v!.data.length + j] = u!.data[i]! * v!.data[j]!;
      return out;
    },
    grad: (g, n, adj) => [() => g.add("matmul", [adj, n.inputs[1]!]), () => g.add("matmul", [g.add("transpose", [adj]), n.inputs[0]!])],
    tangent: (g, n, [du, dv]) =>
      plus(g, du == null ? null : g.add("outer", [du, n.inputs[1]!]), dv == null ? null : g.add("outer", [n.inputs[0]!, dv])),
  },
  /** Σ of all elements */
  sum: {
    kind: "structural",
    doc: "Σ x",
    shape: () => [],
    eval: ([a]) => Float64Array.of(a!.data.reduce((s, v) => s + v, 0)),
    grad: (g, n, adj) => [() => g.add("broadcast", [adj], { shape: g.shape(n.inputs[0]!) })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** a scalar repeated to a shape */
  broadcast: {
    kind: "structural",
    doc: "broadcast",
    shape: (_i, n) => n.shape!,
    eval: ([a], n) => new Float64Array(numel(n.shape)).fill(a!.data[0]!),
    grad: (g, _n, adj) => [() => g.add("sum", [adj])],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** one element, at a constant position */
  index: {
    kind: "structural",
    doc: "x[i]",
    shape: () => [],
    eval: ([a], n) => Float64Array.of(a!.data[flatIndex(a!.shape, n.at)]!),
    grad: (g, n, adj) => [() => g.add("unindex", [adj], { at: n.at, shape: g.shape(n.inputs[0]!) })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** the adjoint of index: a tensor that is zero but at one position */
  unindex: {
    kind: "structural",
    doc: "e_i x",
    shape: (_i, n) => n.shape!,
    eval: ([a], n) => {
      const out = new Float64Array(numel(n.shape));
      out[flatIndex(n.shape, n.at)] = a!.data[0]!;
      return out;
    },
    grad: (g, n, adj) => [() => g.add("index", [adj], { at: n.at })],
    tangent: (g, n, [dx]) => linear(g, n, dx),
  },
  /** log Σ exp(x), computed as m + log Σ exp(x − m) with m = max x */
  logsumexp: {
    kind: "structural",
    doc: "log Σ exp x",
    shape: () => [],
    eval: ([a]) => {
      const m = Math.max(...a!.data);
      let s = 0;
      for (const v of a!.data) s += Math.exp(v - m);
      return Float64Array.of(m + Math.log(s));
    },
    // ∂/∂x = softmax(x) = exp(x − y): the same node as the user's softmax, shared by CSE
    grad: (g, n, adj) => [() => mul(g, adj, g.add("exp", [sub(g, n.inputs[0]!, n.id)]))],
    // ẏ = pᵀẋ with p = softmax(x) = exp(x − y), the gradient's node. The tangent of the gradient
    // p = exp(x − y) is then p ⊙ (ẋ − pᵀẋ) = (diag p − ppᵀ) ẋ, from exp's and sub's rules: the
    // Hessian of log-sum-exp in its stable form, never through p = eˣ/Σeˣ
    tangent: (g, n, [dx]) => (dx == null ? null : g.add("sum", [mul(g, g.add("exp", [sub(g, n.inputs[0]!, n.id)]), dx)])),
  },
  /** −Σ t log p (the unfused form; softmax inputs are rewritten to log-sum-exp), with the
   * convention 0 · log 0 = 0, so a class with target 0 and probability 0 costs nothing */
  cross_entropy: {
    kind: "structural",
    doc: "−Σ t log p",
    shape: () => [],
    eval: ([p, t]) => Float64Array.of(-p!.data.reduce((s, v, i) => s + xlogy(t!.data[i]!, v), 0)),
    // ∂/∂p = −t/p, and 0 where t = 0 (even where p = 0)
    grad: (g, n, adj) => [() => neg(g, mul(g, adj, xdivy(g, n.inputs[1]!, n.inputs[0]!))), () => neg(g, mul(g, adj, g.add("log", [n.inputs[0]!])))],
    // ẏ = −Σ (t/p ⊙ ṗ + log p ⊙ ṫ), each term as in the gradient
    tangent: (g, n, [dp, dt]) => {
      const [p, t] = n.inputs as [NodeId, NodeId];
      const terms = plus(g, dp == null ? null : mul(g, xdivy(g, t, p), dp), dt == null ? null : mul(g, g.add("log", [p]), dt));
      return terms === null ? null : neg(g, g.add("sum", [terms]));
    },
  },
  /** −Σ (t log p + (1 − t) log(1 − p)) (the unfused form; sigmoid inputs are rewritten to
   * softplus), with 0 · log 0 = 0 so that p = t ∈ {0, 1} gives 0, not NaN */
  binary_cross_entropy: {
    kind: "structural",
    doc: "−Σ (t log p + (1 − t) log(1 − p))",
    shape: () => [],
    eval: ([p, t]) => Float64Array.of(-p!.data.reduce((s, v, i) => s + xlogy(t!.data[i]!, v) + xlogy(1 - t!.data[i]!, 1 - v), 0)),
    // ∂/∂p = −t/p + (1 − t)/(1 − p), each term 0 where its numerator is
    grad: (g, n, adj) => {
      const [p, t] = n.inputs as [NodeId, NodeId];
      const one = c(g, 1);
      return [
        () => mul(g, adj, sub(g, xdivy(g, sub(g, one, t), sub(g, one, p)), xdivy(g, t, p))),
        () => mul(g, adj, g.add("log", [div(g, sub(g, one, p), p)])),
      ];
    },
    // ẏ = Σ ((1 − t)/(1 − p) − t/p) ⊙ ṗ + log((1 − p)/p) ⊙ ṫ, each factor as in the gradient
    tangent: (g, n, [dp, dt]) => {
      const [p, t] = n.inputs as [NodeId, NodeId];
      const one = c(g, 1);
      const terms = plus(
        g,
        dp == null ? null : mul(g, sub(g, xdivy(g, sub(g, one, t), sub(g, one, p)), xdivy(g, t, p)), dp),
        dt == null ? null : mul(g, g.add("log", [div(g, sub(g, one, p), p)]), dt),
      );
      return terms === null ? null : g.add("sum", [terms]);
    },
  },
  /** inference: identity; lowered to x · mask in training mode */
  dropout: {
    kind: "structural",
    doc: "dropout",
    shape: ([a]) => a!,
    eval: ([a]) => a!.data.slice(),
    grad: (_g, _n, adj) => [() => adj],
    tangent: (_g, _n, [dx]) => dx ?? null,
  },
  ...IMAGE_OPS,
};


export function opDef(op: OpKind): OpDef {
  return OPS[op];
}

/** Output shape of a node; element-wise ops broadcast a scalar against a tensor. */
export function shapeOf(g: Graph, op: OpKind, inputs: readonly NodeId[], attrs: { at?: readonly number[]; shape?: Shape }): Shape {
  const def: OpDef = OPS[op];
  const shapes = inputs.map((i) => g.shape(i));
  switch (def.kind) {
    case "leaf":
      return attrs.shape ?? [];
    case "elementwise": {
      let s: Shape | null = [];
      for (const x of shapes) s = s === null ? null : broadcastShapes(s, x);
      if (s === null) throw new Error(`internal: ${op} of incompatible shapes ${JSON.stringify(shapes)}`);
      return s;
    }
    case "structural":
      return def.shape(shapes, { at: attrs.at ?? [], ...(attrs.shape ? { shape: attrs.shape } : {}) });
  }
}
