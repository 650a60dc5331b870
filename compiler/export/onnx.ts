/**
 * `nnc export --format onnx`: the model's inference graph (inputs → outputs, dropout the identity)
 * with its trained weights, as an ONNX model (opset OPSET, float64) that onnxruntime loads.
 *
 * The IR is per sample (no batch axis); the ONNX graph takes a batch: every value that depends on
 * an input carries a leading batch axis N ("batched"), parameters and constants do not, and ONNX's
 * numpy broadcasting lines them up. Where the IR broadcasts a per-sample scalar against a tensor,
 * the scalar's [N] is unsqueezed to [N, 1, …] first. The graph takes raw inputs: the z-score
 * normalization stored with the weights is its first step, so it predicts like `nnc predict`.
 * Names are the DSL's: inputs, outputs and parameters exactly (`x`, `y`, `h.W`), every other value
 * after the name its statement defines (`h_z`, `h`, `h/matmul`). docs/scale-out.md documents the
 * mapping and its choices.
 */
import type { Graph, Node, NodeId } from "../ir/graph.js";
import { convAttrs, sliceAxes } from "../ir/conv.js";
import type { OpKind } from "../ir/op-kinds.js";
import { numel, strides, type Shape } from "../ir/shape.js";
import { inferenceMode, specialize } from "../plan/specialize.js";
import type { Model } from "../semantics/model.js";
import { DOUBLE, encodeModel, INT64, type AttributeValue, type NodeSpec, type TensorValue, type ValueSpec } from "./onnx-proto.js";

/** ONNX operator set 17 (onnxruntime ≥ 1.13, onnxruntime-web included), in IR version 8. */
export const OPSET = 17;
export const IR_VERSION = 8;
/** the symbolic batch dimension of every input and output */
export const BATCH = "N";

/** The model cannot be exported as asked: a user error (exit 1), the message says why. */
export class OnnxExportError extends Error {}

export interface ExportWeights {
  /** the values of every parameter, row-major, by DSL name */
  readonly params: Readonly<Record<string, ArrayLike<number>>>;
  /** the z-score statistics stored with the weights, per input element; null: inputs used as they are */
  readonly normalization: { readonly mean: Record<string, number[]>; readonly std: Record<string, number[]> } | null;
}

export interface OnnxModel {
  readonly bytes: Uint8Array;
  /** ONNX nodes and initializers written */
  readonly nodes: number;
  readonly initializers: number;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
}

/** A lowered value: its ONNX name, whether it has the batch axis, its per-sample shape. */
interface Value {
  readonly name: string;
  readonly batched: boolean;
  readonly shape: Shape;
}

/** The ONNX graph under construction: nodes, initializers, and the names already taken. */
class Builder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorValue[] = [];
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>();

  /** `base`, or `base_2`, `base_3`, …: ONNX names every value once */
  fresh(base: string): string {
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  node(op: string, inputs: readonly string[], output: string, doc: string | undefined, attributes?: Record<string, AttributeValue>): string {
    this.nodes.push({ op, inputs, outputs: [output], name: output, ...(attributes ? { attributes } : {}), ...(doc ? { doc } : {}) });
    return output;
  }

  tensor(name: string, dims: readonly number[], type: typeof DOUBLE | typeof INT64, values: readonly number[] | Float64Array): string {
    this.initializers.push({ name, dims, type, values });
    return name;
  }

  /** A constant tensor, written once however often it is used. */
  constant(hint: string, dims: readonly number[], type: typeof DOUBLE | typeof INT64, values: readonly number[]): string {
    const key = `${type}|${dims.join(",")}|${values.join(",")}`;
    let name = this.constants.get(key);
    if (name === undefined) {
      name = this.tensor(this.fresh(hint), dims, type, values);
      this.constants.set(key, name);
    }
    return name;
  }

  /** a 1-D int64 constant (axes, shapes) */
  ints(hint: string, values: readonly number[]): string {
    return this.constant(`${hint}_${values.map((v) => (v < 0 ? `m${-v}` : v)).join("_")}`, [values.length], INT64, values);
  }

  /** a float64 constant of one value, of the given (per-sample) shape */
  double(value: number, shape: Shape = []): string {
    return this.constant(shape.length === 0 ? `c${value}` : `c${value}x${shape.join("x")}`, shape, DOUBLE, new Array<number>(numel(shape)).fill(value));
  }
}

/**
 * What lowering one IR node may use: its inputs' values, a way to emit ONNX nodes, the names of
 * its intermediate values. The last node a lowering emits computes the IR node's value.
 */
interface Lowering {
  readonly b: Builder;
  readonly node: Node;
  /** the value of the node's k-th input */
  arg(k: number): Value;
  /** emits an ONNX node computing an intermediate value; returns its name */
  emit(op: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>): string;
  /** a batched per-sample scalar as [N, 1, …] of the given per-sample rank; anything else as it is */
  aligned(v: Value, rank: number): string;
  /** the per-sample axes of a value: [1..r] when batched, [0..r−1] when not */
  axes(v: Value): number[];
}

type Lower = (cx: Lowering) => string;

const unary = (op: string): Lower => (cx) => cx.emit(op, [cx.arg(0).name]);
/** element-wise op of any arity: per-sample scalars broadcast against tensors */
const elementwise = (op: string): Lower => (cx) => cx.emit(op, cx.node.inputs.map((_, k) => cx.aligned(cx.arg(k), cx.node.shape.length)));
const select = (cmp: "Greater" | "GreaterOrEqual"): Lower => (cx) => {
  const [x, y, a, b] = [0, 1, 2, 3].map((k) => cx.aligned(cx.arg(k), cx.node.shape.length)) as [string, string, string, string];
  return cx.emit("Where", [cx.emit(cmp, [x, y]), a, b]);
};
/** x > 0 ? x : negative(x), as nnc computes it */
const piecewise = (negative: (cx: Lowering, x: string) => string): Lower => (cx) => {
  const x = cx.arg(0).name;
  return cx.emit("Where", [cx.emit("Greater", [x, cx.b.double(0)]), x, negative(cx, x)]);
};
/** Σ over the per-sample axes (the identity for a scalar) */
function reduce(cx: Lowering, op: "ReduceSum" | "ReduceLogSumExp", v: Value): string {
  if (v.shape.length === 0) return v.name;
  // opset 13 made ReduceSum's axes an input; ReduceLogSumExp's stay an attribute until opset 18
  return op === "ReduceSum"
    ? cx.emit(op, [v.name, cx.b.ints("axes", cx.axes(v))], { keepdims: { int: 0 } })
    : cx.emit(op, [v.name], { axes: { ints: cx.axes(v) }, keepdims: { int: 0 } });
}
/** x log y, 0 where x = 0 (ops.ts, xlogy) */
function xlogy(cx: Lowering, x: string, y: string): string {
  const zero = cx.b.double(0);
  return cx.emit("Where", [cx.emit("Equal", [x, zero]), zero, cx.emit("Mul", [x, cx.emit("Log", [y])])]);
}
const unsupported: Lower = (cx) => {
  throw new OnnxExportError(`the op '${cx.node.op}' of ${where(cx.node)} cannot be exported to ONNX (it has no place in the inference graph)`);
};

/** Each IR op as ONNX ops. A new op is a compile error here until it has its mapping. */
const LOWER: Record<OpKind, Lower> = {
  // leaves are values of their own (see `leaf` below); these have none in an inference graph
  input: unsupported,
  param: unsupported,
  const: unsupported,
  target: unsupported,
  dropout_mask: unsupported,
  // the direction of a Hessian-vector product: only in the graphs of the H·v functions
  direction: unsupported,

  neg: unary("Neg"),
  exp: unary("Exp"),
  log: unary("Log"),
  sqrt: unary("Sqrt"),
  abs: unary("Abs"),
  sign: unary("Sign"),
  tanh: unary("Tanh"),
  sigmoid: unary("Sigmoid"),
  relu: unary("Relu"),
  // onnxruntime has Softplus and Elu for float32 only: in float64 they are spelt out.
  // softplus x = max(x, 0) + log(1 + exp(−|x|)), the stable form nnc computes (with log1p)
  softplus: (cx) => {
    const x = cx.arg(0).name;
    const tail = cx.emit("Log", [cx.emit("Add", [cx.b.double(1), cx.emit("Exp", [cx.emit("Neg", [cx.emit("Abs", [x])])])])]);
    return cx.emit("Add", [cx.emit("Relu", [x]), tail]);
  },
  // LeakyRelu's alpha is a float32 attribute: a float64 constant keeps the model's value
  leaky_relu: piecewise((cx, x) => cx.emit("Mul", [cx.b.double(cx.node.num), x])),
  elu: piecewise((cx, x) => cx.emit("Mul", [cx.b.double(cx.node.num), cx.emit("Sub", [cx.emit("Exp", [x]), cx.b.double(1)])])),
  // x² as x · x, like the emitted module
  pow: (cx) => (cx.node.num === 2 ? cx.emit("Mul", [cx.arg(0).name, cx.arg(0).name]) : cx.emit("Pow", [cx.arg(0).name, cx.b.double(cx.node.num)])),

  add: elementwise("Add"),
  sub: elementwise("Sub"),
  mul: elementwise("Mul"),
  div: elementwise("Div"),
  max: elementwise("Max"),
  min: elementwise("Min"),
  gt_select: select("Greater"),
  ge_select: select("GreaterOrEqual"),

  matmul: (cx) => {
    const [a, v] = [cx.arg(0), cx.arg(1)];
    if (v.shape.length === 1 && v.batched) {
      // a matrix times a vector per sample: [N, k] · Aᵀ for a shared A (Gemm, as a linear layer is
      // written in ONNX), a batched product of [N, m, k] and [N, k, 1] for a per-sample A
      if (!a.batched) return cx.emit("Gemm", [v.name, a.name], { transB: { int: 1 } });
      const column = cx.emit("Unsqueeze", [v.name, cx.b.ints("axes", [2])]);
      return cx.emit("Squeeze", [cx.emit("MatMul", [a.name, column]), cx.b.ints("axes", [2])]);
    }
    // MatMul broadcasts the batch axis of either side
    return cx.emit("MatMul", [a.name, v.name]);
  },
  transpose: (cx) => cx.emit("Transpose", [cx.arg(0).name], { perm: { ints: cx.arg(0).batched ? [0, 2, 1] : [1, 0] } }),
  outer: (cx) => {
    const [u, v] = [cx.arg(0), cx.arg(1)];
    const column = cx.emit("Unsqueeze", [u.name, cx.b.ints("axes", [u.batched ? 2 : 1])]);
    const row = v.batched ? cx.emit("Unsqueeze", [v.name, cx.b.ints("axes", [1])]) : v.name;
    return cx.emit("Mul", [column, row]);
  },
  sum: (cx) => reduce(cx, "ReduceSum", cx.arg(0)),
  logsumexp: (cx) => reduce(cx, "ReduceLogSumExp", cx.arg(0)),
  broadcast: (cx) => {
    const a = cx.arg(0);
    const shape = cx.node.shape;
    if (shape.length === 0) return a.name;
    return cx.emit("Expand", [cx.aligned(a, shape.length), cx.b.ints("shape", a.batched ? [1, ...shape] : shape)]);
  },
  index: (cx) => {
    const a = cx.arg(0);
    const flat = cx.node.at.reduce((s, v, i) => s + v * strides(a.shape)[i]!, 0);
    const rows = a.shape.length > 1 ? cx.emit("Reshape", [a.name, cx.b.ints("shape", a.batched ? [0, -1] : [-1])]) : a.name;
    return cx.emit("Gather", [rows, cx.b.constant(`at_${flat}`, [], INT64, [flat])], { axis: { int: a.batched ? 1 : 0 } });
  },
  // zero but at one position: the value times a one-hot constant
  unindex: (cx) => {
    const shape = cx.node.shape;
    const oneHot = new Array<number>(numel(shape)).fill(0);
    oneHot[cx.node.at.reduce((s, v, i) => s + v * strides(shape)[i]!, 0)] = 1;
    const mask = cx.b.constant(`onehot_${cx.node.at.join("_")}`, shape, DOUBLE, oneHot);
    return cx.emit("Mul", [cx.aligned(cx.arg(0), shape.length), mask]);
  },
  cross_entropy: (cx) => {
    const [p, t] = [cx.arg(0), cx.arg(1)];
    return cx.emit("Neg", [reduce(cx, "ReduceSum", { ...p, batched: p.batched || t.batched, name: xlogy(cx, t.name, p.name) })]);
  },
  binary_cross_entropy: (cx) => {
    const [p, t] = [cx.arg(0), cx.arg(1)];
    const one = cx.b.double(1);
    const terms = cx.emit("Add", [xlogy(cx, t.name, p.name), xlogy(cx, cx.emit("Sub", [one, t.name]), cx.emit("Sub", [one, p.name]))]);
    return cx.emit("Neg", [reduce(cx, "ReduceSum", { ...p, batched: p.batched || t.batched, name: terms })]);
  },
  // the identity in inference mode (specialize removes it; kept for completeness)
  dropout: (cx) => cx.arg(0).name,
  // the image ops. onnxruntime has Conv and AveragePool for float32 only: in float64 a convolution
  // is spelt out as its k² strided slices of the padded input stacked into patches and one MatMul
  // with W as an [O, C·k²] matrix (im2col), an average pool as a sum over the window axes / k².
  // MaxPool runs in float64 and is used as it is (valid windows, stride k: its defaults).
  conv2d: (cx) => {
    const [x, w] = [cx.arg(0), cx.arg(1)];
    const { stride: s, top, left, bottom, right } = convAttrs(cx.node.at);
    const [, C, , k] = w.shape as [number, number, number, number];
    const [O, OH, OW] = cx.node.shape as [number, number, number];
    let image = withBatch(cx, x);
    if (top || left || bottom || right) image = cx.emit("Pad", [image, cx.b.ints("pads", [0, 0, top, left, 0, 0, bottom, right])]);
    const taps: string[] = [];
    for (let u = 0; u < k; u++)
      for (let v = 0; v < k; v++) {
        const tap = cx.emit("Slice", [image, cx.b.ints("starts", [u, v]), cx.b.ints("ends", [u + s * (OH - 1) + 1, v + s * (OW - 1) + 1]), cx.b.ints("axes", [2, 3]), cx.b.ints("steps", [s, s])]);
        taps.push(cx.emit("Unsqueeze", [tap, cx.b.ints("axes", [2])]));
      }
    // [N, C, k², OH, OW] → [N, C·k², OH·OW]: rows in W's (c, u, v) order
    const patches = cx.emit("Reshape", [taps.length === 1 ? taps[0]! : cx.emit("Concat", taps, { axis: { int: 2 } }), cx.b.ints("shape", [0, C * k * k, OH * OW])]);
    const matrix = cx.emit("Reshape", [w.name, cx.b.ints("shape", w.batched ? [0, O, C * k * k] : [O, C * k * k])]);
    const y = cx.emit("Reshape", [cx.emit("MatMul", [matrix, patches]), cx.b.ints("shape", [-1, O, OH, OW])]);
    return x.batched || w.batched ? y : cx.emit("Squeeze", [y, cx.b.ints("axes", [0])]);
  },
  conv2d_backward_input: unsupported,
  conv2d_backward_weight: unsupported,
  maxpool: (cx) => {
    const x = cx.arg(0);
    const k = cx.node.at[0]!;
    const y = cx.emit("MaxPool", [withBatch(cx, x)], { kernel_shape: { ints: [k, k] }, strides: { ints: [k, k] } });
    return x.batched ? y : cx.emit("Squeeze", [y, cx.b.ints("axes", [0])]);
  },
  maxpool_backward: unsupported,
  maxpool_gather: unsupported,
  // Σ of the window / k², as nnc computes it: the whole windows, their rows and columns as axes of their own
  avgpool: (cx) => {
    const x = cx.arg(0);
    const k = cx.node.at[0]!;
    const [C, H, W] = x.shape as [number, number, number];
    const [, OH, OW] = cx.node.shape as [number, number, number];
    let image = withBatch(cx, x);
    if (H !== OH * k || W !== OW * k) image = cx.emit("Slice", [image, cx.b.ints("starts", [0, 0]), cx.b.ints("ends", [OH * k, OW * k]), cx.b.ints("axes", [2, 3])]);
    const windows = cx.emit("Reshape", [image, cx.b.ints("shape", [-1, C, OH, k, OW, k])]);
    const sum = cx.emit("ReduceSum", [windows, cx.b.ints("axes", [3, 5])], { keepdims: { int: 0 } });
    const y = cx.emit("Div", [sum, cx.b.double(k * k)]);
    return x.batched ? y : cx.emit("Squeeze", [y, cx.b.ints("axes", [0])]);
  },
  avgpool_backward: unsupported,
  slice: (cx) => {
    const x = cx.arg(0);
    const axes = sliceAxes(cx.node.at);
    const shift = x.batched ? 1 : 0;
    const cut = axes.map((a, d) => ({ ...a, d })).filter((a) => a.start !== 0 || a.stop !== x.shape[a.d] || a.drop);
    const box = cx.emit("Slice", [
      x.name,
      cx.b.ints("starts", cut.map((a) => a.start)),
      cx.b.ints("ends", cut.map((a) => a.stop)),
      cx.b.ints("axes", cut.map((a) => a.d + shift)),
    ]);
    const dropped = cut.filter((a) => a.drop).map((a) => a.d + shift);
    return dropped.length === 0 ? box : cx.emit("Squeeze", [box, cx.b.ints("axes", dropped)]);
  },
  // the slice's adjoint, zeros around the box: the dropped axes back, then Pad
  unslice: (cx) => {
    const x = cx.arg(0);
    const axes = sliceAxes(cx.node.at);
    const shift = x.batched ? 1 : 0;
    const dropped = axes.flatMap((a, d) => (a.drop ? [d + shift] : []));
    const box = dropped.length === 0 ? x.name : cx.emit("Unsqueeze", [x.name, cx.b.ints("axes", dropped)]);
    const before = axes.map((a) => a.start), after = axes.map((a, d) => cx.node.shape[d]! - a.stop);
    return cx.emit("Pad", [box, cx.b.ints("pads", shift ? [0, ...before, 0, ...after] : [...before, ...after])]);
  },
  // a batched concatenation gives its unbatched parts the batch axis (Concat does not broadcast)
  concat: (cx) => {
    const args = cx.node.inputs.map((_, k) => cx.arg(k));
    const batched = args.find((a) => a.batched);
    const parts = args.map((a) => {
      if (batched === undefined || a.batched) return a.name;
      const n = cx.emit("Shape", [batched.name], { start: { int: 0 }, end: { int: 1 } });
      return cx.emit("Expand", [a.name, cx.emit("Concat", [n, cx.b.ints("shape", a.shape)], { axis: { int: 0 } })]);
    });
    return cx.emit("Concat", parts, { axis: { int: cx.node.at[0]! + (batched ? 1 : 0) } });
  },
  reshape: (cx) => {
    const x = cx.arg(0);
    return cx.emit("Reshape", [x.name, cx.b.ints("shape", x.batched ? [-1, ...cx.node.shape] : [...cx.node.shape])]);
  },
};

/** an image [C, H, W] as ONNX's image ops take it, [N, C, H, W]: a batch of one when it has none */
function withBatch(cx: Lowering, v: Value): string {
  return v.batched ? v.name : cx.emit("Unsqueeze", [v.name, cx.b.ints("axes", [0])]);
}

function where(n: Node): string {
  return n.origin ? `line ${n.origin.line} (${n.origin.text})` : "the model";
}

/** softmax(z) = exp(z − logsumexp z) for a vector z, as builtins.ts writes it: the z of one, else null */
function softmaxOf(g: Graph, n: Node): NodeId | null {
  if (n.op !== "exp") return null;
  const d = g.node(n.inputs[0]!);
  if (d.op !== "sub") return null;
  const z = d.inputs[0]!;
  const lse = g.node(d.inputs[1]!);
  return lse.op === "logsumexp" && lse.inputs[0] === z && g.shape(z).length === 1 ? z : null;
}

/**
 * A dense layer's pre-activation A·v + b (a shared matrix and bias, a per-sample vector, the product
 * used by nothing else) is one Gemm(v, A, b, transB=1), as ONNX writes a linear layer: the
 * product's node and the bias's, else null.
 */
function denseOf(g: Graph, n: Node, batched: Uint8Array, uses: Uint32Array): { product: NodeId; bias: NodeId } | null {
  if (n.op !== "add" || n.shape.length !== 1) return null;
  for (const k of [0, 1]) {
    const product = g.node(n.inputs[k]!);
    const bias = n.inputs[1 - k]!;
    if (product.op !== "matmul" || uses[product.id] !== 1 || batched[bias] || g.shape(bias).length !== 1) continue;
    const [a, v] = product.inputs as [NodeId, NodeId];
    if (!batched[a] && batched[v] && g.shape(v).length === 1) return { product: product.id, bias };
  }
  return null;
}

/** The ONNX model of `model`'s inference graph with the given weights. */
export function exportOnnx(model: Model, weights: ExportWeights, producer: { name: string; version: string; source: string }): OnnxModel {
  if (model.inputs.length === 0) throw new OnnxExportError(`model ${model.name} has no inputs: an ONNX graph without inputs has no batch to predict for`);
  if (model.outputs.length === 0) throw new OnnxExportError(`model ${model.name} has no outputs to export`);
  for (const o of model.outputs) {
    const kind = model.inputs.some((i) => i.name === o.name) ? "an input" : model.params.some((p) => p.name === o.name) ? "a parameter" : null;
    if (kind !== null)
      throw new OnnxExportError(`the output '${o.name}' is ${kind}: ONNX gives each value one name (write \`${o.name}_out = ${o.name}\` and output that)`);
  }

  const { graph: g, map } = specialize(model.graph, model.outputs.map((o) => o.node), inferenceMode);
  const outputNodes = model.outputs.map((o) => map.get(o.node)!);
  const b = new Builder();
  // inputs, outputs and parameters keep the DSL names exactly: taken first
  for (const t of [...model.inputs, ...model.outputs, ...model.params]) b.fresh(t.name);

  // the nodes the outputs need; a softmax is one ONNX node, so its logsumexp may be needed by nothing else
  const need = new Uint8Array(g.nodes.length);
  for (const id of outputNodes) need[id] = 1;
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    if (!need[id]) continue;
    const n = g.node(id);
    const z = softmaxOf(g, n);
    for (const i of z !== null ? [z] : n.inputs) need[i] = 1;
  }

  const batched = new Uint8Array(g.nodes.length);
  for (const n of g.nodes) batched[n.id] = n.op === "input" || n.inputs.some((i) => batched[i]) ? 1 : 0;
  // dense layers: the product is computed by the add's Gemm, not on its own
  const uses = new Uint32Array(g.nodes.length);
  for (const id of outputNodes) uses[id]! += 1;
  for (const n of g.nodes) if (need[n.id]) for (const i of softmaxOf(g, n) !== null ? [] : n.inputs) uses[i]! += 1;
  const dense = new Map<NodeId, { product: NodeId; bias: NodeId }>();
  for (const n of g.nodes) {
    const d = need[n.id] ? denseOf(g, n, batched, uses) : null;
    if (d === null) continue;
    dense.set(n.id, d);
    need[d.product] = 0;
  }

  // the name each IR node's value gets: an output's own name (unless the output repeats a shared
  // value N times: then the repetition has it), the user's, or its statement's
  const preferred = new Map<NodeId, string>();
  model.outputs.forEach((o, k) => {
    const id = outputNodes[k]!;
    if (batched[id] && !preferred.has(id)) preferred.set(id, o.name);
  });

  // every input of the model, used or not: a caller feeds what the model declares
  const inputs: ValueSpec[] = model.inputs.map((t) => ({ name: t.name, type: DOUBLE, dims: [BATCH, ...t.shape] }));
  const values = new Map<NodeId, Value>();
  for (let id = 0; id < g.nodes.length; id++) {
    if (!need[id]) continue;
    const n = g.node(id);
    const doc = n.origin ? `line ${n.origin.line}: ${n.origin.text}` : undefined;
    const base = n.name ?? (n.origin?.defines ? `${n.origin.defines}/${n.op}` : `${n.op}_${id}`);
    const name = () => preferred.get(id) ?? b.fresh(base);
    switch (n.op) {
      case "input": {
        values.set(id, { name: normalized(b, n, weights, preferred.get(id) ?? null), batched: true, shape: n.shape });
        continue;
      }
      case "param": {
        const p = weights.params[n.ref];
        if (p === undefined || p.length !== numel(n.shape)) throw new OnnxExportError(`the weights have no values of shape [${n.shape.join(", ")}] for the parameter '${n.ref}'`);
        values.set(id, { name: b.tensor(n.ref, n.shape, DOUBLE, Float64Array.from(p)), batched: false, shape: n.shape });
        continue;
      }
      case "const":
        values.set(id, { name: b.double(n.num, n.shape), batched: false, shape: n.shape });
        continue;
    }
    const z = softmaxOf(g, n);
    if (z !== null) {
      values.set(id, { name: b.node("Softmax", [values.get(z)!.name], name(), doc, { axis: { int: -1 } }), batched: batched[id] === 1, shape: n.shape });
      continue;
    }
    const d = dense.get(id);
    if (d !== undefined) {
      const [a, v] = g.node(d.product).inputs.map((i) => values.get(i)!.name) as [string, string];
      values.set(id, { name: b.node("Gemm", [v, a, values.get(d.bias)!.name], name(), doc, { transB: { int: 1 } }), batched: true, shape: n.shape });
      continue;
    }
    const args = n.inputs.map((i) => values.get(i)!);
    // intermediates are emitted under temporary names; the last one is renamed to the node's name
    const first = b.nodes.length;
    const cx: Lowering = {
      b,
      node: n,
      arg: (k) => args[k]!,
      emit: (op, ins, attributes) => b.node(op, ins, b.fresh(`${base}/${op}`), doc, attributes),
      aligned: (v, rank) => (v.batched && v.shape.length < rank ? cx.emit("Unsqueeze", [v.name, b.ints("axes", Array.from({ length: rank }, (_, i) => i + 1))]) : v.name),
      axes: (v) => Array.from({ length: v.shape.length }, (_, i) => i + (v.batched ? 1 : 0)),
    };
    let result = LOWER[n.op](cx);
    const last = b.nodes[b.nodes.length - 1];
    if (b.nodes.length > first && last!.outputs[0] === result) {
      result = name();
      b.nodes[b.nodes.length - 1] = { ...last!, outputs: [result], name: result };
    }
    values.set(id, { name: result, batched: batched[id] === 1, shape: n.shape });
  }

  // outputs: [N, …shape]; one that no input reaches (a parameter, a constant) is repeated N times
  const outputs: ValueSpec[] = model.outputs.map((o, k) => {
    const v = values.get(outputNodes[k]!)!;
    const doc = `output ${o.name}`;
    if (!v.batched) {
      const first = model.inputs[0]!.name;
      const n = b.node("Shape", [first], b.fresh(`${o.name}/batch`), doc, { start: { int: 0 }, end: { int: 1 } });
      const dims = b.node("Concat", [n, b.ints("shape", v.shape)], b.fresh(`${o.name}/shape`), doc, { axis: { int: 0 } });
      b.node("Expand", [v.name, dims], o.name, doc);
    } else if (v.name !== o.name) b.node("Identity", [v.name], o.name, doc);
    return { name: o.name, type: DOUBLE, dims: [BATCH, ...v.shape] };
  });

  const normalizedDoc = weights.normalization ? "Inputs are raw: the graph z-scores them first with the mean and std stored with the weights." : "Inputs are used as given (the weights store no normalization).";
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opset: OPSET,
    producer: { name: producer.name, version: producer.version },
    doc: `The inference graph of ${model.name} (${producer.source}), exported by ${producer.name} ${producer.version}. ${normalizedDoc}`,
    graph: { name: model.name, doc: normalizedDoc, nodes: b.nodes, initializers: b.initializers, inputs, outputs },
  });
  return { bytes, nodes: b.nodes.length, initializers: b.initializers.length, inputs, outputs };
}

/** The input as the model sees it: (x − mean) / std with the stored statistics, or x itself. */
function normalized(b: Builder, n: Node, weights: ExportWeights, preferred: string | null): string {
  const stats = weights.normalization;
  if (stats == null) {
    // an input that is also an output (under another name) needs a node between them
    return preferred === null ? n.ref : b.node("Identity", [n.ref], preferred, undefined);
  }
  // read from a file: checked as such
  const mean: unknown = (stats.mean as Record<string, unknown> | undefined)?.[n.ref];
  const std: unknown = (stats.std as Record<string, unknown> | undefined)?.[n.ref];
  const size = numel(n.shape);
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.length === size && v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!numbers(mean) || !numbers(std))
    throw new OnnxExportError(`the weights' normalization has no statistics of ${size} finite numbers for the input '${n.ref}'`);
  const doc = `z-score of ${n.ref} (the statistics nnc train stored with the weights)`;
  const centred = b.node("Sub", [n.ref, b.tensor(b.fresh(`${n.ref}.mean`), n.shape, DOUBLE, mean)], b.fresh(`${n.ref}/centred`), doc);
  return b.node("Div", [centred, b.tensor(b.fresh(`${n.ref}.std`), n.shape, DOUBLE, std)], preferred ?? b.fresh(`${n.ref}.normalized`), doc);
}
