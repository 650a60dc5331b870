/**
 * The element expressions of the image ops (ir/conv.ts has their attributes and meaning): one
 * element of a convolution, a pooling, a slice, a concatenation or a reshape, from its inputs. With
 * constant indices (an unrolled step) every tap is resolved here — taps on the zero padding are not
 * emitted at all —; with loop indices the sum becomes loops with constant bounds whose bounds
 * checks are emitted only where the padding can actually be reached.
 */
import type { Node, NodeId } from "../../ir/graph.js";
import { convAttrs, sliceAxes } from "../../ir/conv.js";
import { numel, strides, type Shape } from "../../ir/shape.js";
import { elem, compute, paren, sumOf } from "./expressions.js";
import { flat, indices, type Ix } from "./indexing.js";
import { read, wrapLoops } from "./loops.js";
import type { Printer } from "./printer.js";

const isNum = (i: Ix): i is number => typeof i === "number";
/** a + b as an index, folded when both are constants */
function plus(a: Ix, b: number): Ix {
  if (isNum(a)) return a + b;
  return b === 0 ? a : b > 0 ? `${a} + ${b}` : `${a} - ${-b}`;
}
function times(a: Ix, k: number): Ix {
  if (isNum(a)) return a * k;
  return k === 1 ? a : `${paren(a)} * ${k}`;
}

/** Element `idx` of an image op, or null for another op. */
export function computeImage(p: Printer, sink: string[], node: Node, idx: readonly Ix[]): string | null {
  switch (node.op) {
    case "conv2d":
      return conv2d(p, sink, node, idx);
    case "conv2d_backward_input":
      return convBackwardInput(p, sink, node, idx);
    case "conv2d_backward_weight":
      return convBackwardWeight(p, sink, node, idx);
    case "maxpool":
    case "avgpool":
      return pool(p, sink, node, idx);
    case "maxpool_gather":
      return argmaxPick(p, sink, node.inputs[0]!, node.at[0]!, idx, (s, w) => elem(p, s, node.inputs[1]!, w));
    case "maxpool_backward":
      return maxpoolBackward(p, sink, node, idx);
    case "avgpool_backward":
      return avgpoolBackward(p, sink, node, idx);
    case "slice":
      return slice(p, sink, node, idx);
    case "unslice":
      return unslice(p, sink, node, idx);
    case "concat":
      return concat(p, sink, node, idx);
    case "reshape":
      return reshape(p, sink, node, idx);
    default:
      return null;
  }
}

/**
 * Σ over a box of loop variables with a statement body, as loops: `body(vars, inner)` pushes the
 * statements of one iteration (which add to `acc`); returns the accumulator.
 */
function loopSum(p: Printer, sink: string[], dims: Shape, body: (vars: string[], out: string[], acc: string) => void): string {
  const acc = p.names.fresh("acc");
  const vars = dims.map((_, d) => p.loopVar(p.depth + d));
  p.depth += dims.length;
  const inner: string[] = [];
  body(vars, inner, acc);
  p.depth -= dims.length;
  sink.push(`let ${acc} = 0;`, ...wrapLoops(vars, dims, inner));
  return acc;
}

/** `if (i < lo || i >= hi) continue;` with only the comparisons that can fail */
function skipUnless(i: string, canBeLow: boolean, canBeHigh: boolean, hi: number): string[] {
  const tests = [canBeLow ? `${i} < 0` : null, canBeHigh ? `${i} >= ${hi}` : null].filter((t) => t !== null);
  return tests.length === 0 ? [] : [`if (${tests.join(" || ")}) continue;`];
}

/** y[o, p, q] = Σ_{c,u,v} x[c, ps + u − top, qs + v − left] · W[o, c, u, v] (taps on the padding are zero) */
function conv2d(p: Printer, sink: string[], node: Node, [o, r, q]: readonly Ix[]): string {
  const [x, w] = node.inputs as [NodeId, NodeId];
  const a = convAttrs(node.at);
  const [C, H, W] = p.g.shape(x) as [number, number, number];
  const [, , kh, kw] = p.g.shape(w) as [number, number, number, number];
  const [, Ho, Wo] = node.shape as [number, number, number];
  if (p.unrolled && isNum(r!) && isNum(q!)) {
    const terms: string[] = [];
    for (let c = 0; c < C; c++)
      for (let u = 0; u < kh; u++)
        for (let v = 0; v < kw; v++) {
          const i = r * a.stride + u - a.top, j = q * a.stride + v - a.left;
          if (i >= 0 && i < H && j >= 0 && j < W) terms.push(`${paren(elem(p, sink, x, [c, i, j]))} * ${paren(elem(p, sink, w, [o!, c, u, v]))}`);
        }
    return terms.length === 0 ? "0" : sumOf(terms);
  }
  const highRow = (Ho - 1) * a.stride + kh - 1 - a.top >= H, highCol = (Wo - 1) * a.stride + kw - 1 - a.left >= W;
  return loopSum(p, sink, [C, kh], ([c, u], out, acc) => {
    const i = p.names.fresh("xi");
    out.push(`const ${i} = ${times(r!, a.stride)} + ${u}${a.top > 0 ? ` - ${a.top}` : ""};`);
    out.push(...skipUnless(i, a.top > 0, highRow, H));
    const v = p.loopVar(p.depth);
    p.depth += 1;
    const j = p.names.fresh("xj");
    const body = [`const ${j} = ${times(q!, a.stride)} + ${v}${a.left > 0 ? ` - ${a.left}` : ""};`, ...skipUnless(j, a.left > 0, highCol, W)];
    body.push(`${acc} += ${paren(elem(p, body, x, [c!, i, j]))} * ${paren(elem(p, body, w, [o!, c!, u!, v]))};`);
    p.depth -= 1;
    out.push(...wrapLoops([v], [kw], body));
  });
}

/** δx[c, i, j] = Σ_{o,u,v} δ[o, p, q] · W[o, c, u, v] over ps = i + top − u, qs = j + left − v inside δ: full-corr(δ, rot180(W)) */
function convBackwardInput(p: Printer, sink: string[], node: Node, [c, i, j]: readonly Ix[]): string {
  const [d, w] = node.inputs as [NodeId, NodeId];
  const a = convAttrs(node.at);
  const [O, , kh, kw] = p.g.shape(w) as [number, number, number, number];
  const [, Ho, Wo] = p.g.shape(d) as [number, number, number];
  const s = a.stride;
  if (p.unrolled && isNum(i!) && isNum(j!)) {
    const terms: string[] = [];
    for (let u = 0; u < kh; u++)
      for (let v = 0; v < kw; v++) {
        const pr = i + a.top - u, pc = j + a.left - v;
        if (pr < 0 || pc < 0 || pr % s !== 0 || pc % s !== 0 || pr / s >= Ho || pc / s >= Wo) continue;
        for (let o = 0; o < O; o++) terms.push(`${paren(elem(p, sink, d, [o, pr / s, pc / s]))} * ${paren(elem(p, sink, w, [o, c!, u, v]))}`);
      }
    return terms.length === 0 ? "0" : sumOf(terms);
  }
  // the δ row (column) a tap reads: (i + top − u) / s, when that is a whole number inside δ
  const position = (ix: Ix, pad: number, k: string, n: number, out: string[]): string => {
    const t = p.names.fresh("t");
    out.push(`const ${t} = ${plus(ix, pad)} - ${k};`);
    out.push(`if (${t} < 0 || ${t} >= ${n * s}${s > 1 ? ` || ${t} % ${s} !== 0` : ""}) continue;`);
    if (s === 1) return t;
    const at = p.names.fresh("at");
    out.push(`const ${at} = ${t} / ${s};`);
    return at;
  };
  return loopSum(p, sink, [kh], ([u], out, acc) => {
    const pr = position(i!, a.top, u!, Ho, out);
    const v = p.loopVar(p.depth);
    p.depth += 1;
    const body: string[] = [];
    const pc = position(j!, a.left, v, Wo, body);
    const o = p.loopVar(p.depth);
    p.depth += 1;
    const inner: string[] = [];
    inner.push(`${acc} += ${paren(elem(p, inner, d, [o, pr, pc]))} * ${paren(elem(p, inner, w, [o, c!, u!, v]))};`);
    p.depth -= 2;
    body.push(...wrapLoops([o], [O], inner));
    out.push(...wrapLoops([v], [kw], body));
  });
}

/** ∂W[o, c, u, v] = Σ_{p,q} x[c, ps + u − top, qs + v − left] · δ[o, p, q]: corr(x, δ), summed over positions */
function convBackwardWeight(p: Printer, sink: string[], node: Node, [o, c, u, v]: readonly Ix[]): string {
  const [x, d] = node.inputs as [NodeId, NodeId];
  const a = convAttrs(node.at);
  const [, H, W] = p.g.shape(x) as [number, number, number];
  const [, Ho, Wo] = p.g.shape(d) as [number, number, number];
  const [, , kh, kw] = node.shape as [number, number, number, number];
  if (p.unrolled && isNum(u!) && isNum(v!)) {
    const terms: string[] = [];
    for (let r = 0; r < Ho; r++)
      for (let q = 0; q < Wo; q++) {
        const i = r * a.stride + u - a.top, j = q * a.stride + v - a.left;
        if (i >= 0 && i < H && j >= 0 && j < W) terms.push(`${paren(elem(p, sink, x, [c!, i, j]))} * ${paren(elem(p, sink, d, [o!, r, q]))}`);
      }
    return terms.length === 0 ? "0" : sumOf(terms);
  }
  const highRow = (Ho - 1) * a.stride + kh - 1 - a.top >= H, highCol = (Wo - 1) * a.stride + kw - 1 - a.left >= W;
  return loopSum(p, sink, [Ho], ([r], out, acc) => {
    const i = p.names.fresh("xi");
    out.push(`const ${i} = ${times(r!, a.stride)} + ${u}${a.top > 0 ? ` - ${a.top}` : ""};`);
    out.push(...skipUnless(i, a.top > 0, highRow, H));
    const q = p.loopVar(p.depth);
    p.depth += 1;
    const j = p.names.fresh("xj");
    const body = [`const ${j} = ${times(q, a.stride)} + ${v}${a.left > 0 ? ` - ${a.left}` : ""};`, ...skipUnless(j, a.left > 0, highCol, W)];
    body.push(`${acc} += ${paren(elem(p, body, x, [c!, i, j]))} * ${paren(elem(p, body, d, [o!, r!, q]))};`);
    p.depth -= 1;
    out.push(...wrapLoops([q], [Wo], body));
  });
}

/** the k×k window of pooled element (c, r, q), as input indices in row-major order */
function windowOf(k: number, [c, r, q]: readonly Ix[]): Ix[][] {
  const out: Ix[][] = [];
  for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) out.push([c!, plus(times(r!, k), u), plus(times(q!, k), v)]);
  return out;
}

function pool(p: Printer, sink: string[], node: Node, idx: readonly Ix[]): string {
  const x = node.inputs[0]!;
  const k = node.at[0]!;
  const terms = windowOf(k, idx).map((w) => elem(p, sink, x, w));
  if (node.op === "maxpool") return k === 1 ? terms[0]! : `Math.max(${terms.join(", ")})`;
  return k === 1 ? terms[0]! : `${paren(sumOf(terms.map(paren)))} / ${k * k}`;
}

/**
 * The value `pick` gives at the arg-max of x's window (c, r, q), ties to the first in row-major
 * order: a chain of strict comparisons, so the first maximum stays.
 */
function argmaxPick(p: Printer, sink: string[], x: NodeId, k: number, idx: readonly Ix[], pick: (sink: string[], w: Ix[]) => string): string {
  const window = windowOf(k, idx);
  const m = p.names.fresh("max");
  const r = p.names.fresh("at");
  sink.push(`let ${m} = ${elem(p, sink, x, window[0]!)}, ${r} = ${pick(sink, window[0]!)};`);
  for (const w of window.slice(1)) {
    const t = p.names.fresh("t");
    sink.push(`const ${t} = ${elem(p, sink, x, w)};`);
    const body: string[] = [];
    const value = pick(body, w);
    sink.push(`if (${t} > ${m}) {`, ...body, `${m} = ${t};`, `${r} = ${value};`, "}");
  }
  return r;
}

/** δ of the window at its arg-max in x, 0 elsewhere and on the rows and columns no window reads */
function maxpoolBackward(p: Printer, sink: string[], node: Node, [c, i, j]: readonly Ix[]): string {
  const [x, d] = node.inputs as [NodeId, NodeId];
  const k = node.at[0]!;
  const [, H, W] = node.shape as [number, number, number];
  const Hp = Math.floor(H / k), Wp = Math.floor(W / k);
  if (isNum(i!) && isNum(j!)) {
    if (i >= Hp * k || j >= Wp * k) return "0";
    const r = Math.floor(i / k), q = Math.floor(j / k);
    const me = (i % k) * k + (j % k);
    const which = argmaxPick(p, sink, x, k, [c!, r, q], (_s, w) => String(windowOf(k, [c!, r, q]).findIndex((v) => v.join() === w.join())));
    return `${which} === ${me} ? ${paren(elem(p, sink, d, [c!, r, q]))} : 0`;
  }
  const r = p.names.fresh("r"), q = p.names.fresh("q");
  sink.push(`const ${r} = Math.floor(${i} / ${k}), ${q} = Math.floor(${j} / ${k});`);
  const inside = [H % k !== 0 ? `${r} < ${Hp}` : null, W % k !== 0 ? `${q} < ${Wp}` : null].filter((t) => t !== null);
  const body: string[] = [];
  const window = windowOf(k, [c!, r, q]);
  const which = argmaxPick(p, body, x, k, [c!, r, q], (_s, w) => String(window.findIndex((v) => v.join() === w.join())));
  const value = p.names.fresh("back");
  const me = `(${i} - ${r} * ${k}) * ${k} + ${j} - ${q} * ${k}`;
  if (inside.length === 0) {
    sink.push(...body);
    return `${which} === ${me} ? ${paren(elem(p, sink, d, [c!, r, q]))} : 0`;
  }
  sink.push(`let ${value} = 0;`, `if (${inside.join(" && ")}) {`, ...body, `${value} = ${which} === ${me} ? ${paren(elem(p, body, d, [c!, r, q]))} : 0;`, "}");
  return value;
}

/** each window's δ / k² on its elements; 0 past the last window */
function avgpoolBackward(p: Printer, sink: string[], node: Node, [c, i, j]: readonly Ix[]): string {
  const d = node.inputs[0]!;
  const k = node.at[0]!;
  const [, H, W] = node.shape as [number, number, number];
  const Hp = Math.floor(H / k), Wp = Math.floor(W / k);
  const row = isNum(i!) ? Math.floor(i / k) : `Math.floor(${i} / ${k})`;
  const col = isNum(j!) ? Math.floor(j / k) : `Math.floor(${j} / ${k})`;
  const inside: string[] = [];
  if (isNum(row) ? row >= Hp : H % k !== 0) inside.push(isNum(row) ? "false" : `${i} < ${Hp * k}`);
  if (isNum(col) ? col >= Wp : W % k !== 0) inside.push(isNum(col) ? "false" : `${j} < ${Wp * k}`);
  if (inside.includes("false")) return "0";
  const value = `${paren(elem(p, sink, d, [c!, row, col]))} / ${k * k}`;
  return inside.length === 0 ? value : `${inside.join(" && ")} ? ${value} : 0`;
}

function slice(p: Printer, sink: string[], node: Node, idx: readonly Ix[]): string {
  const at: Ix[] = [];
  let next = 0;
  for (const a of sliceAxes(node.at)) at.push(a.drop ? a.start : plus(idx[next++]!, a.start));
  return elem(p, sink, node.inputs[0]!, at);
}

/** d at the box, zero elsewhere: conditions only on the axes the box does not fill */
function unslice(p: Printer, sink: string[], node: Node, idx: readonly Ix[]): string {
  const conds: string[] = [];
  const inner: Ix[] = [];
  for (const [k, a] of sliceAxes(node.at).entries()) {
    const i = idx[k]!;
    if (isNum(i)) {
      if (i < a.start || i >= a.stop) return "0";
    } else {
      if (a.drop) conds.push(`${i} === ${a.start}`);
      else {
        if (a.start > 0) conds.push(`${i} >= ${a.start}`);
        if (a.stop < node.shape[k]!) conds.push(`${i} < ${a.stop}`);
      }
    }
    if (!a.drop) inner.push(plus(i, -a.start));
  }
  const value = elem(p, sink, node.inputs[0]!, inner);
  return conds.length === 0 ? value : `${conds.join(" && ")} ? ${paren(value)} : 0`;
}

/** the part that holds index idx[axis]: a choice by constants, or a chain of comparisons */
function concat(p: Printer, sink: string[], node: Node, idx: readonly Ix[]): string {
  const axis = node.at[0]!;
  const i = idx[axis]!;
  let start = 0;
  const parts = node.inputs.map((x) => {
    const part = { x, start, stop: start + p.g.shape(x)[axis]! };
    start = part.stop;
    return part;
  });
  const at = (x: NodeId, s: number) => idx.map((v, k) => (k === axis ? plus(v, -s) : v));
  if (isNum(i)) {
    const part = parts.find((pt) => i >= pt.start && i < pt.stop)!;
    return elem(p, sink, part.x, at(part.x, part.start));
  }
  let text = paren(elem(p, sink, parts[parts.length - 1]!.x, at(parts[parts.length - 1]!.x, parts[parts.length - 1]!.start)));
  for (let k = parts.length - 2; k >= 0; k--) text = `${i} < ${parts[k]!.stop} ? ${paren(elem(p, sink, parts[k]!.x, at(parts[k]!.x, parts[k]!.start)))} : ${text}`;
  return text;
}

/**
 * A reshape that splits the last axis of its input (b 𝟙ᵀ [f, h·w] as [f, h, w], a channel bias)
 * keeps the leading indices; any other reads the input at the flat index.
 */
function reshape(p: Printer, sink: string[], node: Node, idx: readonly Ix[]): string {
  const x = node.inputs[0]!;
  const from = p.g.shape(x);
  const lead = from.length - 1;
  if (lead > 0 && !p.schedule.storage.has(x) && node.shape.length > lead && from.slice(0, lead).every((d, k) => d === node.shape[k]))
    return elem(p, sink, x, [...idx.slice(0, lead), flat(node.shape.slice(lead), idx.slice(lead))]);
  return elemFlat(p, sink, x, flat(node.shape, idx));
}

/**
 * Element f (a flat, row-major index) of node `id`: a stored value or a leaf is read at f directly;
 * anything else at f's position in its own shape.
 */
export function elemFlat(p: Printer, sink: string[], id: NodeId, f: Ix): string {
  const node = p.g.node(id);
  const n = numel(node.shape);
  const st = p.schedule.storage.get(id);
  if (st !== undefined) return read(p, st.kind === "scalar" ? st : { ...st, shape: [n] }, [f]);
  if (node.op === "param" || node.op === "direction" || node.op === "input" || node.op === "target" || node.op === "const")
    return compute(p, sink, { ...node, shape: node.shape.length === 0 ? [] : [n] }, node.shape.length === 0 ? [] : [f]);
  if (isNum(f)) return elem(p, sink, id, indices(node.shape)[f]!);
  const s = strides(node.shape);
  const at = node.shape.map((d, k) => (k === 0 ? (s[0] === 1 ? f : `Math.floor(${paren(f)} / ${s[0]})`) : `${s[k] === 1 ? paren(f) : `Math.floor(${paren(f)} / ${s[k]})`} % ${d}`));
  return elem(p, sink, id, at);
}
