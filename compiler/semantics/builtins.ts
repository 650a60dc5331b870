/**
 * The functions of the language: each entry names its arguments (positional order, defaults of
 * constant arguments), checks argument shapes and lowers the call to the compact IR op set.
 * Sugar lives here (mse → mean of squares, softmax → exp(a − logsumexp a), prelu → max(p·a, a)),
 * so the IR, the derivative rules and the code generator only ever see primitive ops.
 */
import type { Graph, NodeId } from "../ir/graph.js";
import { broadcastShapes, numel, sameShape, showShape, type Shape } from "../ir/shape.js";
import type { TargetDomain } from "./model.js";

export interface ArgSpec {
  readonly name: string;
  /** a constant scalar argument, with its default if it may be left out */
  readonly constant?: { readonly default?: number };
}

/** A failed check: the message code's arguments are filled by the caller with the call's name. */
export type CheckFailure = { readonly argIndex: number; readonly expected: string };

export interface Builtin {
  readonly args: readonly ArgSpec[];
  /** null if the shapes fit, else which argument is wrong and what was expected */
  readonly check: (shapes: readonly Shape[]) => CheckFailure | null;
  /** tensor arguments as nodes; constant arguments as numbers, in `args` order */
  readonly lower: (g: Graph, x: readonly NodeId[], k: readonly number[]) => NodeId;
  /** a loss whose target argument (index `arg`) must lie in `domain` when it is a target as is */
  readonly target?: { readonly arg: number; readonly domain: TargetDomain };
}

const t = (name: string): ArgSpec => ({ name });
const k = (name: string, def?: number): ArgSpec => ({ name, constant: def === undefined ? {} : { default: def } });

const any = (): CheckFailure | null => null;
const vector = (i: number) => (s: readonly Shape[]): CheckFailure | null => (s[i]!.length === 1 ? null : { argIndex: i, expected: "a vector" });
const matrix = (i: number) => (s: readonly Shape[]): CheckFailure | null => (s[i]!.length === 2 ? null : { argIndex: i, expected: "a matrix" });
const same = (s: readonly Shape[]): CheckFailure | null => (sameShape(s[0]!, s[1]!) ? null : { argIndex: 1, expected: `shape ${showShape(s[0]!)} like the first argument` });
const broadcasts = (i: number, j: number) => (s: readonly Shape[]): CheckFailure | null =>
  broadcastShapes(s[i]!, s[j]!) ? null : { argIndex: j, expected: `a scalar or shape ${showShape(s[i]!)}` };
const both = (...cs: ((s: readonly Shape[]) => CheckFailure | null)[]) => (s: readonly Shape[]) => {
  for (const c of cs) {
    const r = c(s);
    if (r) return r;
  }
  return null;
};

const unary = (op: "sigmoid" | "tanh" | "relu" | "softplus" | "exp" | "log" | "sqrt" | "abs"): Builtin => ({
  args: [t("a")],
  check: any,
  lower: (g, [a]) => g.add(op, [a!]),
});

/** softmax(a) = exp(a − logsumexp(a)): shares logsumexp with a cross-entropy on the same logits. */
export function lowerSoftmax(g: Graph, a: NodeId): NodeId {
  return g.add("exp", [g.add("sub", [a, g.add("logsumexp", [a])])]);
}

export const ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "softplus", "leaky_relu", "elu", "softmax", "log_softmax", "exp"] as const;
/** activations after which `dense` defaults to he initialization */
export const RELU_LIKE = new Set(["relu", "leaky_relu", "elu"]);

const sum = (g: Graph, a: NodeId) => g.add("sum", [a]);

export const BUILTINS: Readonly<Record<string, Builtin>> = {
  identity: { args: [t("a")], check: any, lower: (_g, [a]) => a! },
  sigmoid: unary("sigmoid"),
  tanh: unary("tanh"),
  relu: unary("relu"),
  softplus: unary("softplus"),
  exp: unary("exp"),
  log: unary("log"),
  sqrt: unary("sqrt"),
  abs: unary("abs"),
  leaky_relu: { args: [t("a"), k("alpha", 0.01)], check: any, lower: (g, [a], [alpha]) => g.add("leaky_relu", [a!], { num: alpha! }) },
  elu: { args: [t("a"), k("alpha", 1)], check: any, lower: (g, [a], [alpha]) => g.add("elu", [a!], { num: alpha! }) },
  // prelu(a, p) = max(p·a, a), p learned
  prelu: { args: [t("a"), t("p")], check: broadcasts(0, 1), lower: (g, [a, p]) => g.add("max", [g.add("mul", [p!, a!]), a!]) },
  max: { args: [t("a"), t("b")], check: broadcasts(0, 1), lower: (g, [a, b]) => g.add("max", [a!, b!]) },
  min: { args: [t("a"), t("b")], check: broadcasts(0, 1), lower: (g, [a, b]) => g.add("min", [a!, b!]) },
  softmax: { args: [t("v")], check: vector(0), lower: (g, [a]) => lowerSoftmax(g, a!) },
  // log_softmax(a) = a − logsumexp(a)
  log_softmax: { args: [t("v")], check: vector(0), lower: (g, [a]) => g.add("sub", [a!, g.add("logsumexp", [a!])]) },
  logsumexp: { args: [t("v")], check: vector(0), lower: (g, [a]) => g.add("logsumexp", [a!]) },
  dropout: { args: [t("a"), k("p")], check: any, lower: (g, [a], [p]) => g.add("dropout", [a!], { num: p! }) },
  transpose: { args: [t("A")], check: matrix(0), lower: (g, [a]) => g.add("transpose", [a!]) },
  dot: { args: [t("u"), t("v")], check: both(vector(0), vector(1), same), lower: (g, [u, v]) => sum(g, g.add("mul", [u!, v!])) },
  outer: { args: [t("u"), t("v")], check: both(vector(0), vector(1)), lower: (g, [u, v]) => g.add("outer", [u!, v!]) },
  sum: { args: [t("a")], check: any, lower: (g, [a]) => sum(g, a!) },
  mean: { args: [t("a")], check: any, lower: (g, [a]) => g.add("mul", [g.c(1 / numel(g.shape(a!))), sum(g, a!)]) },
  sumsq: { args: [t("a")], check: any, lower: (g, [a]) => sum(g, g.add("pow", [a!], { num: 2 })) },
  sumabs: { args: [t("a")], check: any, lower: (g, [a]) => sum(g, g.add("abs", [a!])) },
  cross_entropy: { args: [t("p"), t("t")], check: same, lower: (g, [p, tt]) => g.add("cross_entropy", [p!, tt!]), target: { arg: 1, domain: "distribution" } },
  binary_cross_entropy: {
    args: [t("p"), t("t")],
    check: same,
    lower: (g, [p, tt]) => g.add("binary_cross_entropy", [p!, tt!]),
    target: { arg: 1, domain: "probability" },
  },
  // mse(y, t) = mean over components of (y − t)²
  mse: {
    args: [t("y"), t("t")],
    check: same,
    lower: (g, [y, tt]) => g.add("mul", [g.c(1 / numel(g.shape(y!))), sum(g, g.add("pow", [g.add("sub", [y!, tt!])], { num: 2 }))]),
  },
  // hinge(f, t) = Σ max(0, 1 − t·f)
  hinge: {
    args: [t("f"), t("t")],
    check: same,
    lower: (g, [f, tt]) => sum(g, g.add("max", [g.c(0), g.add("sub", [g.c(1), g.add("mul", [tt!, f!])])])),
    target: { arg: 1, domain: "sign" },
  },
  // gaussian_nll(mu, t, σ) = Σ ½ log 2π + log σ + (t − mu)² / (2σ²)
  gaussian_nll: {
    args: [t("mu"), t("t"), t("sigma")],
    check: both(same, broadcasts(0, 2)),
    lower: (g, [mu, tt, s]) => {
      const sq = g.add("pow", [g.add("sub", [tt!, mu!])], { num: 2 });
      const twoVar = g.add("mul", [g.c(2), g.add("pow", [s!], { num: 2 })]);
      const perElement = g.add("add", [g.add("add", [g.c(0.5 * Math.log(2 * Math.PI)), g.add("log", [s!])]), g.add("div", [sq, twoVar])]);
      return sum(g, perElement);
    },
  },
};
