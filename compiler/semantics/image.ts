/**
 * The language of §11: convolution (as a layer and as an expression), pooling, flatten, concat and
 * slices, checked and lowered to the image ops of the IR (ir/conv.ts has their attributes). Every
 * user mistake is a diagnostic with the shapes involved; a stride or pooling window that leaves
 * the last rows or columns unread is computed as PyTorch does (the remainder is dropped) and warned
 * about (docs/language.md, "Convolution and pooling").
 */
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import type { Span } from "../diagnostics/span.js";
import { concatShape, convAt, conv2dShape, poolShape, sliceAt, type ConvAttrs, type SliceAxis } from "../ir/conv.js";
import type { Graph, NodeId } from "../ir/graph.js";
import { numel, showShape, type Shape } from "../ir/shape.js";
import type { Call, Expr, Ident, Index } from "../syntax/ast.js";
import { ACTIVATIONS, RELU_LIKE } from "./builtins.js";
import type { InitSpec } from "./model.js";

/** What the elaborator lends these checks. */
export interface ImageContext {
  readonly g: Graph;
  readonly diags: Diagnostics;
  readonly source: string;
  expr(e: Expr): NodeId | null;
  constant(e: Expr, what: string): number | null;
  bindArgs(fn: string, spec: readonly { name: string; constant?: { default?: number } }[], args: Call["args"], span: Span): (number | Expr)[] | null;
  addParam(name: string, span: Span, shape: Shape | null, init: InitSpec | null, line: number): NodeId | null;
  init(e: Expr): InitSpec | null;
  line(span: Span): number;
  activate(act: string, z: NodeId): NodeId;
  /** false (reported) when a tensor of n elements would pass the limit */
  withinLimits(what: string, n: number, span: Span): boolean;
}

/** the functions of this file that are called in expressions */
export const IMAGE_FUNCTIONS = new Set(["conv2d", "maxpool", "avgpool", "flatten", "concat"]);
/** activations a convolution layer takes: element-wise ones (softmax is over a vector) */
const CONV_ACTIVATIONS = ACTIVATIONS.filter((a) => a !== "softmax" && a !== "log_softmax");

const text = (cx: ImageContext, e: Expr) => `'${cx.source.slice(e.span.start, e.span.end).split("\n")[0]}'`;

/** A positive integer constant argument, or null (reported). */
function positive(cx: ImageContext, fn: string, what: string, v: number | Expr, span: Span): number | null {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    cx.diags.error("NN3020", span, fn, what, "a positive integer", typeof v === "number" ? String(v) : text(cx, v));
    return null;
  }
  return v;
}

type Padding = "valid" | "same" | number;

function padding(cx: ImageContext, fn: string, e: Expr): Padding | null {
  if (e.kind === "string" && (e.value === "valid" || e.value === "same")) return e.value;
  if (e.kind === "string") {
    cx.diags.error("NN3020", e.span, fn, "padding", '"valid", "same" or a number of zeros per side', text(cx, e));
    return null;
  }
  const v = cx.constant(e, `${fn}(padding)`);
  if (v === null) return null;
  if (!Number.isInteger(v) || v < 0) {
    cx.diags.error("NN3020", e.span, fn, "padding", '"valid", "same" or a number of zeros per side', String(v));
    return null;
  }
  return v;
}

/**
 * The zeros before and after one axis of length n: "same" pads (k − 1)/2 on each side for an odd
 * kernel and, for an even one, TensorFlow's rule (the total that makes the output ⌈n/s⌉ long, the
 * odd zero after).
 */
export function pads(p: Padding, n: number, k: number, s: number): [number, number] {
  if (p === "valid") return [0, 0];
  if (typeof p === "number") return [p, p];
  if (k % 2 === 1) return [(k - 1) / 2, (k - 1) / 2];
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** conv2d(x, W) with its checks; `at` the call, for the diagnostics. */
function convolve(cx: ImageContext, fn: string, x: NodeId, xE: Expr, w: NodeId, wE: Expr, stride: number, pad: Padding, at: Span): NodeId | null {
  const xs = cx.g.shape(x), ws = cx.g.shape(w);
  if (xs.length !== 3) {
    cx.diags.error("NN3007", xE.span, fn, "an image [channels, height, width]", showShape(xs));
    return null;
  }
  if (ws.length !== 4 || ws[1] !== xs[0]) {
    cx.diags.error("NN3007", wE.span, fn, `filters [out, ${xs[0]}, kh, kw] for an input of ${xs[0]} channel${xs[0] === 1 ? "" : "s"}`, showShape(ws));
    return null;
  }
  const [top, bottom] = pads(pad, xs[1]!, ws[2]!, stride);
  const [left, right] = pads(pad, xs[2]!, ws[3]!, stride);
  const a: ConvAttrs = { stride, top, left, bottom, right };
  if (ws[2]! > xs[1]! + top + bottom || ws[3]! > xs[2]! + left + right) {
    cx.diags.error("NN3017", at, fn, `${ws[2]}×${ws[3]}`, showShape(xs), top === bottom && left === right && top === left ? String(top) : `${top}, ${left}, ${bottom}, ${right}`);
    return null;
  }
  const out = conv2dShape(xs, ws, a)!;
  if (!cx.withinLimits(fn, numel(out), at)) return null;
  // the last input row (column) a window reads: (out − 1)·s + k − 1 − pad before
  const unreadRows = xs[1]! - ((out[1]! - 1) * stride + ws[2]! - top);
  const unreadCols = xs[2]! - ((out[2]! - 1) * stride + ws[3]! - left);
  if (unreadRows > 0 || unreadCols > 0)
    cx.diags.warning("NN3102", at, fn, `stride ${stride} with a ${ws[2]}×${ws[3]} kernel`, leftover(unreadRows, unreadCols), showShape(xs), showShape(out));
  return cx.g.add("conv2d", [x, w], { at: convAt(a) });
}

function leftover(rows: number, cols: number): string {
  const part = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  return [rows > 0 ? part(rows, "row") : null, cols > 0 ? part(cols, "column") : null].filter((s) => s !== null).join(" and ");
}

/** The bias b[f] added to every position of z[f, h, w]: b 𝟙ᵀ, reshaped. */
function addChannelBias(g: Graph, z: NodeId, b: NodeId): NodeId {
  const [f, h, w] = g.shape(z) as [number, number, number];
  const spread = g.add("reshape", [g.add("outer", [b, g.c(1, [h * w])])], { shape: [f, h, w] });
  return g.add("add", [z, spread]);
}

/** `layer NAME = conv2d(input, filters, kernel, activation, stride = 1, padding = "valid", init = …)` */
export function conv2dLayer(cx: ImageContext, name: Ident, e: Call): NodeId | null {
  const spec = [
    { name: "input" },
    { name: "filters", constant: {} },
    { name: "kernel", constant: {} },
    { name: "activation" },
    { name: "stride", constant: { default: 1 } },
    { name: "padding" },
    { name: "init" },
  ];
  const marker = (n: string): Expr => ({ kind: "name", name: n, span: e.span });
  const args = [...e.args];
  if (!args.some((a) => a.name?.name === "padding") && args.length < 6) args.push({ name: { name: "padding", span: e.span }, value: { kind: "string", value: "valid", span: e.span }, span: e.span });
  if (!args.some((a) => a.name?.name === "init") && args.length < 7) args.push({ name: { name: "init", span: e.span }, value: marker("__default__"), span: e.span });
  const vals = cx.bindArgs("conv2d", spec, args, e.span);
  if (vals === null) return null;
  const [inputE, filtersV, kernelV, actE, strideV, padE, initE] = vals as [Expr, number, number, Expr, number, Expr, Expr];
  const filters = positive(cx, "conv2d", "filters", filtersV, e.span);
  const kernel = positive(cx, "conv2d", "kernel", kernelV, e.span);
  const stride = positive(cx, "conv2d", "stride", strideV, e.span);
  const pad = padding(cx, "conv2d", padE);
  if (actE.kind !== "name" || !(CONV_ACTIVATIONS as readonly string[]).includes(actE.name)) {
    cx.diags.error("NN2011", actE.span, text(cx, actE), CONV_ACTIVATIONS.join(", "));
    return null;
  }
  const x = cx.expr(inputE);
  if (x === null || filters === null || kernel === null || stride === null || pad === null) return null;
  const xs = cx.g.shape(x);
  if (xs.length !== 3) {
    cx.diags.error("NN3007", inputE.span, "conv2d", "an image [channels, height, width]", showShape(xs));
    return null;
  }
  const init = initE.kind === "name" && initE.name === "__default__" ? { kind: RELU_LIKE.has(actE.name) ? ("he" as const) : ("xavier" as const) } : cx.init(initE);
  if (init === null) return null;
  const line = cx.line(name.span);
  if (!cx.withinLimits(`${name.name}.W`, filters * xs[0]! * kernel * kernel, e.span)) return null;
  const W = cx.addParam(`${name.name}.W`, name.span, [filters, xs[0]!, kernel, kernel], init, line);
  const b = cx.addParam(`${name.name}.b`, name.span, [filters], { kind: "zeros" }, line);
  if (W === null || b === null) return null;
  const z = convolve(cx, "conv2d", x, inputE, W, e, stride, pad, e.span);
  if (z === null) return null;
  const zb = addChannelBias(cx.g, z, b);
  cx.g.nameIt(zb, `${name.name}_z`);
  return cx.activate(actE.name, zb);
}

/** conv2d(x, W, stride, padding), maxpool, avgpool, flatten, concat in an expression. */
export function imageCall(cx: ImageContext, e: Call): NodeId | null {
  const fn = e.callee.name;
  if (fn === "concat") return concat(cx, e);
  const spec =
    fn === "conv2d"
      ? [{ name: "input" }, { name: "filters" }, { name: "stride", constant: { default: 1 } }, { name: "padding" }]
      : fn === "flatten"
        ? [{ name: "input" }]
        : [{ name: "input" }, { name: "k", constant: {} }];
  const args = [...e.args];
  if (fn === "conv2d" && !args.some((a) => a.name?.name === "padding") && args.length < 4)
    args.push({ name: { name: "padding", span: e.span }, value: { kind: "string", value: "valid", span: e.span }, span: e.span });
  const vals = cx.bindArgs(fn, spec, args, e.span);
  if (vals === null) return null;
  const inputE = vals[0] as Expr;
  if (fn === "conv2d") {
    const wE = vals[1] as Expr;
    const stride = positive(cx, fn, "stride", vals[2]!, e.span);
    const pad = padding(cx, fn, vals[3] as Expr);
    const x = cx.expr(inputE), w = cx.expr(wE);
    if (x === null || w === null || stride === null || pad === null) return null;
    return convolve(cx, fn, x, inputE, w, wE, stride, pad, e.span);
  }
  const x = cx.expr(inputE);
  if (x === null) return null;
  const xs = cx.g.shape(x);
  if (fn === "flatten") return xs.length === 1 ? x : cx.g.add("reshape", [x], { shape: [numel(xs)] });
  const k = positive(cx, fn, "k", vals[1]!, e.span);
  if (k === null) return null;
  if (xs.length !== 3) {
    cx.diags.error("NN3007", inputE.span, fn, "an image [channels, height, width]", showShape(xs));
    return null;
  }
  const out = poolShape(xs, k);
  if (out === null) {
    cx.diags.error("NN3018", e.span, fn, k, showShape(xs));
    return null;
  }
  if (xs[1]! % k !== 0 || xs[2]! % k !== 0) cx.diags.warning("NN3102", e.span, fn, `the ${k}×${k} window`, leftover(xs[1]! % k, xs[2]! % k), showShape(xs), showShape(out));
  return cx.g.add(fn as "maxpool" | "avgpool", [x], { at: [k] });
}

/** concat(a, b, …, axis = k): any number of tensors, one keyword */
function concat(cx: ImageContext, e: Call): NodeId | null {
  let axis = 0;
  const parts: { node: NodeId; expr: Expr }[] = [];
  let ok = true;
  for (const a of e.args) {
    if (a.name !== null) {
      if (a.name.name !== "axis") {
        cx.diags.error("NN2009", a.name.span, a.name.name, "concat");
        ok = false;
        continue;
      }
      const v = cx.constant(a.value, "concat(axis)");
      if (v === null) ok = false;
      else axis = v;
      continue;
    }
    const node = cx.expr(a.value);
    if (node === null) ok = false;
    else parts.push({ node, expr: a.value });
  }
  if (!ok) return null;
  if (parts.length === 0) {
    cx.diags.error("NN2008", e.span, "concat", "at least 1 argument", 0);
    return null;
  }
  const shapes = parts.map((p) => cx.g.shape(p.node));
  const first = shapes[0]!;
  if (first.length === 0) {
    cx.diags.error("NN3007", parts[0]!.expr.span, "concat", "a tensor", showShape(first));
    return null;
  }
  if (!Number.isInteger(axis) || axis < 0 || axis >= first.length) {
    cx.diags.error("NN3020", e.span, "concat", "axis", `an integer from 0 to ${first.length - 1} for shape ${showShape(first)}`, String(axis));
    return null;
  }
  for (const [k, s] of shapes.entries()) {
    if (concatShape([first, s], axis) === null) {
      cx.diags.error("NN3019", parts[k]!.expr.span, text(cx, parts[k]!.expr), showShape(s), showShape(first), axis);
      return null;
    }
  }
  if (parts.length === 1) return parts[0]!.node;
  return cx.g.add("concat", parts.map((p) => p.node), { at: [axis] });
}

/** `x[i, a:b, :]`: an index drops its axis, a range keeps it; all indices: one element. */
export function sliceOrIndex(cx: ImageContext, e: Index, a: NodeId): NodeId | null {
  const shape = cx.g.shape(a);
  if (e.indices.length !== shape.length) {
    cx.diags.error("NN3005", e.span, e.indices.length, showShape(shape));
    return null;
  }
  const axes: SliceAxis[] = [];
  const bound = (b: Expr | null, dflt: number): number | null => {
    if (b === null) return dflt;
    const v = cx.expr(b);
    if (v === null) return null;
    const g = cx.g;
    if (!g.isConst(v) || g.shape(v).length !== 0 || !Number.isInteger(g.node(v).num) || g.node(v).num < 0) {
      cx.diags.error("NN3009", b.span);
      return null;
    }
    return g.node(v).num;
  };
  for (const [d, ie] of e.indices.entries()) {
    const n = shape[d]!;
    if (ie.kind === "range") {
      const start = bound(ie.start, 0), stop = bound(ie.stop, n);
      if (start === null || stop === null) return null;
      if (stop > n || start > n) {
        cx.diags.error("NN3015", ie.span, `${start}:${stop}`, d, showShape(shape));
        return null;
      }
      if (stop <= start) {
        cx.diags.error("NN3016", ie.span, `${start}:${stop}`, d, showShape(shape));
        return null;
      }
      axes.push({ start, stop, drop: false });
    } else {
      const i = bound(ie, 0);
      if (i === null) return null;
      if (i >= n) {
        cx.diags.error("NN3004", ie.span, i, n);
        return null;
      }
      axes.push({ start: i, stop: i + 1, drop: true });
    }
  }
  if (axes.every((x) => x.drop)) return cx.g.add("index", [a], { at: axes.map((x) => x.start) });
  if (axes.every((x, d) => !x.drop && x.start === 0 && x.stop === shape[d])) return a;
  return cx.g.add("slice", [a], { at: sliceAt(axes) });
}
