/**
 * THE table of PyTorch translations: one entry per IR op, giving the expression that computes the
 * op for a whole batch. The IR is per sample (no batch axis, ir/ops.ts); here a value that depends
 * on the sample (an input, a target, dropout) carries a leading batch axis, and a value of the
 * parameters alone does not, so it is computed once and broadcast.
 *
 * Each translation keeps nnc's meaning exactly where it matters to the gradient: max/min send a
 * tie to the first argument (torch.where, not torch.maximum, which splits it), softplus is the
 * overflow-free form nnc evaluates, cross-entropies use xlogy (0 · log 0 = 0).
 * A `Record<OpKind, …>` makes a missing op a type error.
 */
import type { Graph, Node } from "../ir/graph.js";
import { convAttrs, sliceAxes } from "../ir/conv.js";
import type { OpKind } from "../ir/op-kinds.js";
import { ExportError, paramExpr } from "./pytorch.js";
import { atom, infix, numberExpr, operand, PREC, pyTuple, type PyExpr } from "./python.js";

/** What the translation knows of a value: its per-sample rank and whether it has a batch axis. */
export interface Value {
  readonly expr: PyExpr;
  readonly rank: number;
  readonly batched: boolean;
  /** a Python number (a scalar constant), not a tensor */
  readonly literal?: boolean;
}

export interface OpContext {
  readonly node: Node;
  /** the graph of the node, for the translations that read a pattern (a conv layer's bias) */
  readonly graph: Graph;
  readonly args: readonly Value[];
  /** the result has a batch axis */
  readonly batched: boolean;
  /** the batch size's name, bound at the top of the method on first use */
  readonly batch: () => string;
  /** marks a helper of model.py as used (softplus, unindex) */
  readonly helper: (name: "softplus" | "unindex") => void;
}

type Translate = (c: OpContext) => PyExpr;

const call = (fn: string, ...args: string[]): PyExpr => atom(`${fn}(${args.join(", ")})`);
const method = (v: Value, name: string, ...args: string[]): PyExpr => atom(`${operand(v.expr, PREC.atom)}.${name}(${args.join(", ")})`);

/** The per-sample dimensions of a batched value of rank r: 1 … r. */
const sampleDims = (rank: number): string => (rank === 1 ? "1" : `(${Array.from({ length: rank }, (_, i) => i + 1).join(", ")})`);

/** Σ over one sample's elements: per sample for a batched value, over everything for another. */
function sumSample(e: PyExpr, rank: number, batched: boolean): PyExpr {
  if (rank === 0) return e;
  return atom(`${operand(e, PREC.atom)}.sum(${batched ? sampleDims(rank) : ""})`);
}

/**
 * The arguments of an element-wise op, lined up for broadcasting: a per-sample scalar with a batch
 * axis ([B]) meets per-sample tensors ([B, …] or […]) as [B, 1, …].
 */
function lined(c: OpContext): string[] {
  const rank = c.node.shape.length;
  return c.args.map((a) => (a.batched && a.rank === 0 && rank > 0 ? `${operand(a.expr, PREC.atom)}[:${", None".repeat(rank)}]` : a.expr.text));
}
function linedExprs(c: OpContext): PyExpr[] {
  const texts = lined(c);
  return c.args.map((a, i) => (texts[i] === a.expr.text ? a.expr : atom(texts[i]!)));
}

const fn = (name: string): Translate => (c) => call(name, lined(c)[0]!);
const binop = (op: string, prec: number): Translate => (c) => {
  const [a, b] = linedExprs(c);
  return infix(a!, op, b!, prec);
};
/** torch.where(x ≥ y, a, b) and friends; comparisons bind looser than arithmetic, so operands need no parentheses */
const where = (cmp: string, pick: (a: string[]) => [string, string, string, string]): Translate => (c) => {
  const [x, y, a, b] = pick(lined(c));
  return call("torch.where", `${x} ${cmp} ${y}`, a, b);
};

/** only in nnc's gradient and tangent graphs: the export writes the forward graph, torch.autograd the rest */
const adjointOnly: Translate = (c) => {
  throw new Error(`internal: the adjoint op '${c.node.op}' in the exported forward graph`);
};

/** the bias b of reshape(outer(b, 1)) to [f, h, w] (language §11's conv layer), or null */
function channelBias(c: OpContext): Value | null {
  const o = c.graph.node(c.node.inputs[0]!);
  if (c.node.shape.length !== 3 || o.op !== "outer" || !c.graph.isConst(o.inputs[1]!, 1) || c.args[0]!.batched) return null;
  const b = c.graph.node(o.inputs[0]!);
  return b.op === "param" && b.shape.length === 1 ? { expr: paramExpr(b.ref), rank: 1, batched: false } : null;
}

/** `x[:, 0:3, 1, :]`: start:stop per axis, an index for a dropped one, `:` for a whole axis and the batch axis */
function sliceText(v: Value, node: Node, full: readonly number[]): string {
  const parts = sliceAxes(node.at).map((a, d) => (a.drop ? `${a.start}` : a.start === 0 && a.stop === full[d] ? ":" : `${a.start}:${a.stop}`));
  return `${operand(v.expr, PREC.atom)}[${[...(v.batched ? [":"] : []), ...parts].join(", ")}]`;
}

export const TORCH_OPS: Record<OpKind, Translate> = {
  // leaves are bound by the emitter (inputs, targets, parameters, constants)
  input: leaf,
  target: leaf,
  param: leaf,
  const: leaf,
  dropout_mask: () => {
    throw new Error("internal: the export emits dropout itself, not training-mode masks");
  },
  // only in the graphs of nnc's Hessian-vector products, never in the model's
  direction: () => {
    throw new Error("internal: a Hessian-vector product's direction in the exported graph");
  },

  neg: (c) => ({ text: `-${operand(c.args[0]!.expr, PREC.unary + 1)}`, prec: PREC.unary }),
  exp: fn("torch.exp"),
  log: fn("torch.log"),
  sqrt: fn("torch.sqrt"),
  abs: fn("torch.abs"),
  sign: fn("torch.sign"),
  tanh: fn("torch.tanh"),
  sigmoid: fn("torch.sigmoid"),
  relu: fn("torch.relu"),
  // max(x, 0) + log1p(exp(−|x|)), as nnc computes it (F.softplus returns x itself above 20)
  softplus: (c) => {
    c.helper("softplus");
    return call("softplus", lined(c)[0]!);
  },
  leaky_relu: (c) => call("F.leaky_relu", lined(c)[0]!, numberExpr(c.node.num).text),
  elu: (c) => call("F.elu", lined(c)[0]!, numberExpr(c.node.num).text),
  pow: (c) => ({ text: `${operand(c.args[0]!.expr, PREC.atom)} ** ${numberExpr(c.node.num).text}`, prec: PREC.pow }),

  add: binop("+", PREC.add),
  sub: binop("-", PREC.add),
  mul: binop("*", PREC.mul),
  div: binop("/", PREC.mul),
  // ties go to the first argument, as in nnc (torch.maximum would split the gradient)
  max: where(">=", ([a, b]) => [a!, b!, a!, b!]),
  min: where("<=", ([a, b]) => [a!, b!, a!, b!]),
  gt_select: where(">", ([x, y, a, b]) => [x!, y!, a!, b!]),
  ge_select: where(">=", ([x, y, a, b]) => [x!, y!, a!, b!]),

  // A @ v per sample: for a batch of vectors x [B, k], W @ x is x @ Wᵀ
  matmul: (c) => {
    const [a, b] = c.args as [Value, Value];
    if (b.rank === 2 || !b.batched) return infix(a.expr, "@", b.expr, PREC.mul);
    // (Aᵀ)ᵀ = A: transpose(B) @ x of a batch reads x @ B
    if (!a.batched) return infix(b.expr, "@", atom(a.expr.text.endsWith(".T") ? a.expr.text.slice(0, -2) : `${operand(a.expr, PREC.atom)}.T`), PREC.mul);
    return call("torch.einsum", '"bij,bj->bi"', a.expr.text, b.expr.text);
  },
  transpose: (c) => (c.args[0]!.batched ? method(c.args[0]!, "transpose", "1", "2") : atom(`${operand(c.args[0]!.expr, PREC.atom)}.T`)),
  outer: (c) => {
    const [u, v] = c.args as [Value, Value];
    // u 𝟙ᵀ (a conv layer's bias over the positions): u broadcast along the rows
    if (!u.batched && !v.batched && c.graph.isConst(c.node.inputs[1]!, 1)) return atom(`${operand(u.expr, PREC.atom)}[:, None].expand(${c.node.shape.join(", ")})`);
    if (!u.batched && !v.batched) return call("torch.outer", u.expr.text, v.expr.text);
    return infix(method(u, "unsqueeze", "-1"), "*", method(v, "unsqueeze", "-2"), PREC.mul);
  },
  sum: (c) => sumSample(c.args[0]!.expr, c.args[0]!.rank, c.args[0]!.batched),
  broadcast: (c) => {
    const a = c.args[0]!;
    const shape = c.node.shape;
    if (!a.batched) return method(a, "expand", ...shape.map(String));
    return atom(`${operand(a.expr, PREC.atom)}.reshape(-1${", 1".repeat(shape.length)}).expand(-1, ${shape.join(", ")})`);
  },
  index: (c) => atom(`${operand(c.args[0]!.expr, PREC.atom)}[${c.args[0]!.batched ? ":, " : ""}${c.node.at.join(", ")}]`),
  unindex: (c) => {
    c.helper("unindex");
    return call("unindex", c.args[0]!.expr.text, pyTuple(c.node.shape), pyTuple(c.node.at));
  },
  logsumexp: (c) => {
    const a = c.args[0]!;
    if (a.rank === 0) return a.expr;
    if (a.batched) return call("torch.logsumexp", a.rank === 1 ? a.expr.text : `${operand(a.expr, PREC.atom)}.flatten(1)`, "1");
    return call("torch.logsumexp", a.rank === 1 ? a.expr.text : `${operand(a.expr, PREC.atom)}.flatten()`, "0");
  },
  // −Σ t log p, with 0 · log 0 = 0
  cross_entropy: (c) => {
    const [p, t] = c.args as [Value, Value];
    return { text: `-${operand(sumSample(call("torch.xlogy", t.expr.text, p.expr.text), p.rank, c.batched), PREC.unary + 1)}`, prec: PREC.unary };
  },
  // −Σ (t log p + (1 − t) log(1 − p)), with 0 · log 0 = 0
  binary_cross_entropy: (c) => {
    const [p, t] = c.args as [Value, Value];
    const one = (v: Value) => infix(atom("1"), "-", v.expr, PREC.add).text;
    const terms = atom(`(torch.xlogy(${t.expr.text}, ${p.expr.text}) + torch.xlogy(${one(t)}, ${one(p)}))`);
    return { text: `-${operand(sumSample(terms, p.rank, c.batched), PREC.unary + 1)}`, prec: PREC.unary };
  },
  // identity in eval(); in train() each element 0 with probability p, else scaled by 1/(1 − p), as nnc's masks
  dropout: (c) => call("F.dropout", c.args[0]!.expr.text, numberExpr(c.node.num).text, "self.training"),
  // the image ops: one image is [C, H, W], a batch [B, C, H, W], as torch's functions take them
  conv2d: (c) => {
    const [x, w] = c.args as [Value, Value];
    if (w.batched) throw new ExportError(`a convolution whose kernel depends on the sample (line ${c.node.origin?.line ?? "?"}) has no F.conv2d form`);
    const { stride, top, left, bottom, right } = convAttrs(c.node.at);
    const symmetric = top === bottom && left === right;
    // F.conv2d pads symmetrically: other paddings are an F.pad first (left, right, top, bottom)
    const input = symmetric || top + left + bottom + right === 0 ? x.expr.text : `F.pad(${x.expr.text}, (${left}, ${right}, ${top}, ${bottom}))`;
    const options = [...(stride !== 1 ? [`stride=${stride}`] : []), ...(symmetric && (top || left) ? [`padding=(${top}, ${left})`] : [])];
    return call("F.conv2d", input, w.expr.text, ...options);
  },
  conv2d_backward_input: adjointOnly,
  conv2d_backward_weight: adjointOnly,
  // ties: F.max_pool2d keeps the first maximum of the window, as nnc does
  maxpool: (c) => call("F.max_pool2d", c.args[0]!.expr.text, String(c.node.at[0]!)),
  maxpool_backward: adjointOnly,
  maxpool_gather: adjointOnly,
  avgpool: (c) => call("F.avg_pool2d", c.args[0]!.expr.text, String(c.node.at[0]!)),
  avgpool_backward: adjointOnly,
  slice: (c) => atom(sliceText(c.args[0]!, c.node, c.graph.shape(c.node.inputs[0]!))),
  // zeros around the box (F.pad pads the last axes first: (before, after) from the last axis back)
  unslice: (c) => {
    const v = c.args[0]!;
    const axes = sliceAxes(c.node.at);
    let text = v.expr.text;
    axes.forEach((a, d) => {
      if (a.drop) text = `${operand(atom(text), PREC.atom)}.unsqueeze(${d + (v.batched ? 1 : 0)})`;
    });
    const pads = [...axes.keys()].reverse().flatMap((d) => [axes[d]!.start, c.node.shape[d]! - axes[d]!.stop]);
    return call("F.pad", text, pyTuple(pads));
  },
  // a shared part gets the batch axis of a batched one
  concat: (c) => {
    const parts = c.args.map((a) => (!c.batched || a.batched ? a.expr.text : `${operand(a.expr, PREC.atom)}.expand(${c.batch()}${", -1".repeat(a.rank)})`));
    const dim = `dim=${c.node.at[0]! + (c.batched ? 1 : 0)}`;
    const line = `torch.cat((${parts.join(", ")}${parts.length === 1 ? "," : ""}), ${dim})`;
    // a long one is a list of one part per line (inside a method: parts at 12 spaces, as model.py is laid out)
    return line.length <= 90 ? atom(line) : atom(`torch.cat([\n${parts.map((t) => `            ${t},\n`).join("")}        ], ${dim})`);
  },
  // flatten keeps the batch axis; a conv layer's bias spread over the positions, reshape(outer(b, 1)),
  // is b broadcast: b[:, None, None].expand(f, h, w)
  reshape: (c) => {
    const v = c.args[0]!;
    const b = channelBias(c);
    if (b !== null) return atom(`${operand(b.expr, PREC.atom)}[:, None, None].expand(${c.node.shape.join(", ")})`);
    if (v.batched && c.node.shape.length === 1) return method(v, "flatten", "1");
    return method(v, "reshape", ...(v.batched ? ["-1"] : []), ...c.node.shape.map(String));
  },
};

function leaf(): PyExpr {
  throw new Error("internal: leaves are bound by the emitter");
}
