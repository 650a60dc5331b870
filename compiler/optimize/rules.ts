/**
 * Rewrite rules, applied as each node is built (Graph.add), so every graph — the forward model and
 * the gradient the sweep builds on top of it — is simplified as it grows. Each rule is one entry
 * with its algebra in a comment; it returns the replacement node, or null to leave the node as is.
 * A rule must keep the node's shape: `fit` broadcasts a scalar result back up when needed.
 */
import type { Attrs, Graph, NodeId } from "../ir/graph.js";
import { OPS, shapeOf, type OpKind } from "../ir/ops.js";
import { numel, sameShape, type Shape } from "../ir/shape.js";

interface RewriteRule {
  readonly name: string;
  readonly ops: readonly OpKind[];
  readonly apply: (g: Graph, op: OpKind, x: readonly NodeId[], attrs: Attrs) => NodeId | null;
}

/** x, broadcast to `shape` if x is a scalar and shape is not. */
function fit(g: Graph, x: NodeId, shape: Shape): NodeId {
  return sameShape(g.shape(x), shape) ? x : g.add("broadcast", [x], { shape });
}

const isC = (g: Graph, x: NodeId | undefined, v?: number) => x !== undefined && g.isConst(x, v);
const val = (g: Graph, x: NodeId) => g.node(x).num;
const opOf = (g: Graph, x: NodeId) => g.node(x).op;
const arg = (g: Graph, x: NodeId, i = 0) => g.node(x).inputs[i]!;

export const RULES: readonly RewriteRule[] = [
  {
    // f(c₁, c₂, …) → c for element-wise f of constants
    name: "fold-elementwise",
    ops: Object.keys(OPS).filter((k) => OPS[k as OpKind].kind === "elementwise") as OpKind[],
    apply: (g, op, x, attrs) => {
      if (!x.every((i) => g.isConst(i))) return null;
      const def = OPS[op];
      if (def.kind !== "elementwise") return null;
      const shape = shapeOf(g, op, x, attrs);
      const probe = g.node(x[0]!); // f only reads num of the node for attributes
      const v = def.f(x.map((i) => val(g, i)), { ...probe, num: attrs.num ?? 0 });
      return g.c(v, shape);
    },
  },
  // x + 0 → x, 0 + x → x
  { name: "add-zero", ops: ["add"], apply: (g, _op, [a, b]) => (isC(g, b, 0) ? fit(g, a!, g.shape(b!)) : isC(g, a, 0) ? fit(g, b!, g.shape(a!)) : null) },
  // x + (−y) → x − y, (−x) + y → y − x
  {
    name: "add-neg",
    ops: ["add"],
    apply: (g, _op, [a, b]) => (opOf(g, b!) === "neg" ? g.add("sub", [a!, arg(g, b!)]) : opOf(g, a!) === "neg" ? g.add("sub", [b!, arg(g, a!)]) : null),
  },
  // x − 0 → x, 0 − x → −x
  { name: "sub-zero", ops: ["sub"], apply: (g, _op, [a, b]) => (isC(g, b, 0) ? fit(g, a!, g.shape(b!)) : isC(g, a, 0) ? fit(g, g.add("neg", [b!]), g.shape(a!)) : null) },
  // x − x → 0
  { name: "sub-self", ops: ["sub"], apply: (g, _op, [a, b]) => (a === b ? g.c(0, g.shape(a!)) : null) },
  // x · 1 → x, x · 0 → 0, x · (−1) → −x (and mirrored)
  {
    name: "mul-unit",
    ops: ["mul"],
    apply: (g, _op, [a, b]) => {
      const shape = shapeOf(g, "mul", [a!, b!], {});
      for (const [k, x] of [[a!, b!], [b!, a!]] as const) {
        if (isC(g, k, 1)) return fit(g, x, shape);
        if (isC(g, k, 0)) return g.c(0, shape);
        if (isC(g, k, -1)) return fit(g, g.add("neg", [x]), shape);
      }
      return null;
    },
  },
  // c₁ · (c₂ · x) → (c₁c₂) · x: folds chains of constants such as λ · 0.5 · R
  {
    name: "mul-const-assoc",
    ops: ["mul"],
    apply: (g, _op, [a, b]) => {
      for (const [k, x] of [[a!, b!], [b!, a!]] as const) {
        if (!isC(g, k) || opOf(g, x) !== "mul" || !isC(g, arg(g, x)) || !sameShape(g.shape(arg(g, x)), [])) continue;
        const shape = shapeOf(g, "mul", [a!, b!], {});
        return fit(g, g.add("mul", [g.c(val(g, k) * val(g, arg(g, x)), g.shape(k)), arg(g, x, 1)]), shape);
      }
      return null;
    },
  },
  // x / 1 → x, 0 / x → 0, x / c → (1/c) · x
  {
    name: "div-unit",
    ops: ["div"],
    apply: (g, _op, [a, b]) => {
      const shape = shapeOf(g, "div", [a!, b!], {});
      if (isC(g, b, 1)) return fit(g, a!, shape);
      if (isC(g, a, 0)) return g.c(0, shape);
      if (isC(g, b) && val(g, b!) !== 0 && sameShape(g.shape(b!), [])) return g.add("mul", [g.c(1 / val(g, b!)), a!]);
      return null;
    },
  },
  // −(−x) → x; −(c · x) → (−c) · x
  {
    name: "neg-neg",
    ops: ["neg"],
    apply: (g, _op, [a]) => {
      if (opOf(g, a!) === "neg") return arg(g, a!);
      if (opOf(g, a!) === "mul" && isC(g, arg(g, a!)) && sameShape(g.shape(arg(g, a!)), [])) return g.add("mul", [g.c(-val(g, arg(g, a!))), arg(g, a!, 1)]);
      return null;
    },
  },
  // x¹ → x, x⁰ → 1
  { name: "pow-unit", ops: ["pow"], apply: (g, _op, [a], attrs) => (attrs.num === 1 ? a! : attrs.num === 0 ? g.c(1, g.shape(a!)) : null) },
  // (Aᵀ)ᵀ → A
  { name: "transpose-transpose", ops: ["transpose"], apply: (g, _op, [a]) => (opOf(g, a!) === "transpose" ? arg(g, a!) : null) },
  // Σ broadcast(s) → n · s; Σ c → n · c
  {
    name: "sum-broadcast",
    ops: ["sum"],
    apply: (g, _op, [a]) => {
      const n = numel(g.shape(a!));
      if (opOf(g, a!) === "broadcast") return g.add("mul", [g.c(n), arg(g, a!)]);
      if (isC(g, a)) return g.c(n * val(g, a!));
      if (sameShape(g.shape(a!), [])) return a!;
      return null;
    },
  },
  // broadcast(c) → c (a uniform constant of the new shape)
  { name: "broadcast-const", ops: ["broadcast"], apply: (g, _op, [a], attrs) => (isC(g, a) ? g.c(val(g, a!), attrs.shape) : sameShape(g.shape(a!), attrs.shape ?? []) ? a! : null) },
  // broadcast(s)[i] → s; c[i] → c; unindex(s, i)[i] → s
  {
    name: "index-of-uniform",
    ops: ["index"],
    apply: (g, _op, [a], attrs) => {
      if (opOf(g, a!) === "broadcast") return arg(g, a!);
      if (isC(g, a)) return g.c(val(g, a!));
      if (opOf(g, a!) === "unindex" && g.node(a!).at.join() === (attrs.at ?? []).join()) return arg(g, a!);
      return null;
    },
  },
  // f(a, b)[i] → f(a[i], b[i]) for element-wise f: indexing moves toward the leaves, so that
  // y = sigmoid(z)[0] exposes sigmoid(z[0]) to the fusion rules and only one element is computed
  {
    name: "index-through-elementwise",
    ops: ["index"],
    apply: (g, _op, [a], attrs) => {
      const n = g.node(a!);
      if (OPS[n.op].kind !== "elementwise") return null;
      const at = (attrs.at ?? []).join("_");
      const element = (of: NodeId, id: NodeId) => {
        const name = g.node(of).name;
        if (name !== null) g.nameIt(id, `${name}_${at}`); // z[0] reads as z_0 in the emitted code
        return id;
      };
      const inputs = n.inputs.map((i) => (g.shape(i).length === 0 ? i : element(i, g.add("index", [i], attrs))));
      return g.add(n.op, inputs, { num: n.num }); // named by its statement, if it has one
    },
  },
  // conv2d(0, W) → 0, slice(0) → 0, …: the image ops are linear in the inputs named here (the
  // convolutions in each), so a zero there is a zero result — a zero tangent or adjoint stays a constant
  {
    name: "image-zero",
    ops: ["conv2d", "conv2d_backward_input", "conv2d_backward_weight", "maxpool_backward", "maxpool_gather", "avgpool", "avgpool_backward", "slice", "unslice", "reshape", "concat"],
    apply: (g, op, x, attrs) => {
      const linearIn = op.startsWith("conv2d") ? x : op.startsWith("maxpool") ? [x[1]!] : op === "concat" ? (x.every((i) => isC(g, i, 0)) ? [x[0]!] : []) : [x[0]!];
      return linearIn.some((i) => isC(g, i, 0)) ? g.c(0, shapeOf(g, op, x, attrs)) : null;
    },
  },
  // unindex(0) → 0
  { name: "unindex-zero", ops: ["unindex"], apply: (g, _op, [a], attrs) => (isC(g, a, 0) ? g.c(0, attrs.shape) : null) },
  // log(exp(x)) → x: with softmax lowered to exp(a − logsumexp(a)), log(softmax(a)) becomes the
  // stable log-softmax a − logsumexp(a)
  { name: "log-exp", ops: ["log"], apply: (g, _op, [a]) => (opOf(g, a!) === "exp" ? arg(g, a!) : null) },
  // log σ(a) → −softplus(−a); log(1 − σ(a)) → −softplus(a): finite for any a
  {
    name: "log-sigmoid",
    ops: ["log"],
    apply: (g, _op, [a]) => {
      if (opOf(g, a!) === "sigmoid") return g.add("neg", [g.add("softplus", [g.add("neg", [arg(g, a!)])])]);
      if (opOf(g, a!) === "sub" && isC(g, arg(g, a!), 1) && opOf(g, arg(g, a!, 1)) === "sigmoid")
        return g.add("neg", [g.add("softplus", [arg(g, arg(g, a!, 1))])]);
      return null;
    },
  },
  // cross_entropy(softmax(a), t) = −Σ t (a − lse(a)) → Σt · lse(a) − Σ t·a, stable; its gradient
  // with respect to a is softmax(a)·Σt − t, i.e. y − t for a one-hot t
  {
    name: "fuse-softmax-cross-entropy",
    ops: ["cross_entropy"],
    apply: (g, _op, [p, t]) => {
      if (opOf(g, p!) !== "exp") return null;
      const d = arg(g, p!);
      if (opOf(g, d) !== "sub" || opOf(g, arg(g, d, 1)) !== "logsumexp" || arg(g, arg(g, d, 1)) !== arg(g, d)) return null;
      const a = arg(g, d);
      const lse = arg(g, d, 1);
      return g.add("sub", [g.add("mul", [g.add("sum", [t!]), lse]), g.add("sum", [g.add("mul", [t!, a])])]);
    },
  },
  // binary_cross_entropy(σ(a), t) = Σ softplus(a) − t·a, stable; gradient σ(a) − t
  {
    name: "fuse-sigmoid-binary-cross-entropy",
    ops: ["binary_cross_entropy"],
    apply: (g, _op, [p, t]) => {
      if (opOf(g, p!) !== "sigmoid") return null;
      const a = arg(g, p!);
      return g.add("sum", [g.add("sub", [g.add("softplus", [a]), g.add("mul", [t!, a])])]);
    },
  },
];

const byOp = new Map<OpKind, RewriteRule[]>();
for (const r of RULES) for (const op of r.ops) byOp.set(op, [...(byOp.get(op) ?? []), r]);

/** The Graph's rewriter: the first rule that applies wins. */
export function rewrite(g: Graph, op: OpKind, inputs: readonly NodeId[], attrs: Attrs): NodeId | null {
  for (const r of byOp.get(op) ?? []) {
    const out = r.apply(g, op, inputs, attrs);
    if (out !== null) return out;
  }
  return null;
}
