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
import type { Node } from "../ir/graph.js";
import type { OpKind } from "../ir/op-kinds.js";
import { ExportError } from "./pytorch.js";
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
  readonly args: readonly Value[];
  /** the result has a batch axis */
  readonly batched: boolean;
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

/** an op whose PyTorch mapping is still to be written: the export stops with a message, exit 1 */
const notYet: Translate = (c) => {
  throw new ExportError(`${c.node.op} is not exported yet`);
};

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
  conv2d: notYet,
  conv2d_backward_input: notYet,
  conv2d_backward_weight: notYet,
  maxpool: notYet,
  maxpool_backward: notYet,
  maxpool_gather: notYet,
  avgpool: notYet,
  avgpool_backward: notYet,
  slice: notYet,
  unslice: notYet,
  concat: notYet,
  reshape: notYet,
};

function leaf(): PyExpr {
  throw new Error("internal: leaves are bound by the emitter");
}
