/**
 * TypeScript expressions for the elements of nodes: a stored node is read from its storage, any
 * other node is computed inline from its inputs (the op table's `ts` for element-wise ops),
 * recursing through the inlined tree — as deep as the materialize pass's depth cut allows.
 */
import type { Node, NodeId } from "../../ir/graph.js";
import { OPS } from "../../ir/ops.js";
import { numel, type Shape } from "../../ir/shape.js";
import { add, flat, indices, type Ix } from "./indexing.js";
import { laneOffset, read, wrapLoops } from "./loops.js";
import type { Printer } from "./printer.js";
import { computeImage } from "./image.js";

/** a loop reduction of at least MIN_SPLIT_REDUCTION terms keeps DOT_WAYS partial sums (see reduceSplit) */
const DOT_WAYS = 4;
const MIN_SPLIT_REDUCTION = 16;
/** an unrolled sum is one chain of at most this many terms (see sumOf) */
const MAX_SUM_CHAIN = 128;
const ATOMIC = /^(?:[A-Za-z_$][\w$]*(?:\[[^\][]*\])?|\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/;

/** The expression for element `idx` of node `id`, pushing any statements it needs to `sink`. */
export function elem(p: Printer, sink: string[], id: NodeId, idx: readonly Ix[]): string {
  const st = p.schedule.storage.get(id);
  if (st !== undefined) return read(p, st, idx);
  return compute(p, sink, p.g.node(id), idx);
}

/** Element `idx` of `node` computed from its inputs. */
export function compute(p: Printer, sink: string[], node: Node, idx: readonly Ix[]): string {
  const g = p.g;
  if (node.op === "const") return num(node.num);
  if (node.op === "param") return `${p.param(node.ref)}[${flat(node.shape, idx)}]`;
  if (node.op === "direction") return `${p.direction(node.ref)}[${flat(node.shape, idx)}]`;
  if (node.op === "input" || node.op === "target") {
    const a = p.samples.get(node.ref)!;
    const n = p.schedule.bindings.sampleIndex;
    if (a.shape.length === 0) return `${a.array}[${p.laneOffsets !== null && p.lane !== 0 ? `${n} + ${p.lane}` : n}]`;
    if (a.offset === null) a.offset = p.names.fresh(`${a.array}o`);
    if (p.laneOffsets !== null) return `${a.array}[${add(laneOffset(p, a.array, a.offset, numel(a.shape)), flat(node.shape, idx))}]`;
    return `${a.array}[${add(a.offset, flat(node.shape, idx))}]`;
  }
  if (node.op === "dropout_mask") throw new Error("internal: dropout mask not materialized");
  const def = OPS[node.op];
  if (def.kind === "elementwise") {
    const args = node.inputs.map((input, k) => {
      let a = elem(p, sink, input, g.shape(input).length === 0 ? [] : idx);
      if (!ATOMIC.test(a) && def.reused?.includes(k)) {
        const t = p.names.fresh("tmp");
        sink.push(`const ${t} = ${a};`);
        a = t;
      }
      return ATOMIC.test(a) ? a : `(${a})`;
    });
    return def.ts(args, node);
  }
  const [a, b] = node.inputs;
  switch (node.op) {
    case "dropout":
      return elem(p, sink, a!, idx);
    case "broadcast":
      return elem(p, sink, a!, []);
    case "transpose":
      return elem(p, sink, a!, [idx[1]!, idx[0]!]);
    case "index":
      return elem(p, sink, a!, node.at);
    case "unindex": {
      const f = flat(node.shape, idx);
      const at = flat(node.shape, node.at);
      if (typeof f === "number") return f === at ? elem(p, sink, a!, []) : "0";
      return `${f} === ${at} ? ${paren(elem(p, sink, a!, []))} : 0`;
    }
    case "outer":
      return product(elem(p, sink, a!, [idx[0]!]), elem(p, sink, b!, [idx[1]!]));
    case "matmul": {
      const k = g.shape(a!)[1]!;
      const vec = g.shape(b!).length === 1;
      return reduce(p, sink, [k], (s, [l]) => product(elem(p, s, a!, [idx[0]!, l!]), elem(p, s, b!, vec ? [l!] : [l!, idx[1]!])));
    }
    case "sum":
      return reduce(p, sink, g.shape(a!), (s, ix) => elem(p, s, a!, ix));
    // 0 · log 0 = 0: a term whose weight is 0 costs nothing, even where its probability is 0
    case "cross_entropy":
      return `-${paren(reduce(p, sink, g.shape(a!), (s, ix) => xlogy(p, s, elem(p, s, b!, ix), elem(p, s, a!, ix))))}`;
    case "binary_cross_entropy":
      return `-${paren(
        reduce(p, sink, g.shape(a!), (s, ix) => {
          const q = bind(p, s, elem(p, s, a!, ix));
          const t = bind(p, s, elem(p, s, b!, ix));
          return `${paren(xlogy(p, s, t, q))} + ${paren(xlogy(p, s, `1 - ${t}`, `1 - ${q}`))}`;
        }),
      )}`;
    default: {
      const image = computeImage(p, sink, node, idx);
      if (image === null) throw new Error(`internal: cannot inline ${node.op}`);
      return image;
    }
  }
}

/** a · b, where a factor 1 (a channel bias b 𝟙ᵀ, its gradient δ 𝟙) is left out */
function product(a: string, b: string): string {
  return b === "1" ? a : a === "1" ? b : `${paren(a)} * ${paren(b)}`;
}

/** An expression used more than once: a temporary unless it is atomic. */
function bind(p: Printer, sink: string[], expr: string): string {
  if (ATOMIC.test(expr)) return expr;
  const t = p.names.fresh("tmp");
  sink.push(`const ${t} = ${expr};`);
  return t;
}

/** x log y, with 0 log 0 = 0 */
function xlogy(p: Printer, sink: string[], x: string, y: string): string {
  const xv = bind(p, sink, x);
  return `${xv} === 0 ? 0 : ${paren(xv)} * Math.log(${y})`;
}

/** Σ over the index space `dims` of term(idx): unrolled as one sum, or an accumulator loop. */
function reduce(p: Printer, sink: string[], dims: Shape, term: (sink: string[], idx: Ix[]) => string): string {
  if (p.unrolled) {
    const terms = indices(dims).map((ix) => paren(term(sink, ix)));
    return terms.length === 0 ? "0" : sumOf(terms);
  }
  if (dims.length === 1 && dims[0]! >= MIN_SPLIT_REDUCTION) return reduceSplit(p, sink, dims[0]!, term, DOT_WAYS);
  const acc = p.names.fresh("acc");
  const vars = dims.map((_, d) => p.loopVar(p.depth + d));
  p.depth += dims.length;
  const body: string[] = [];
  const t = term(body, vars);
  body.push(`${acc} += ${t};`);
  p.depth -= dims.length;
  sink.push(`let ${acc} = 0;`);
  sink.push(...wrapLoops(vars, dims, body));
  return acc;
}

/**
 * A long dot product as `ways` interleaved partial sums: one chain of dependent additions waits
 * for each add's latency, several independent chains overlap (docs/performance.md).
 */
function reduceSplit(p: Printer, sink: string[], len: number, term: (sink: string[], idx: Ix[]) => string, ways: number): string {
  const accs = Array.from({ length: ways }, (_, w) => p.names.fresh(`acc${w}`));
  const j = p.loopVar(p.depth);
  p.depth += 1;
  const body: string[] = [];
  accs.forEach((a, w) => body.push(`${a} += ${term(body, [w === 0 ? j : `${j} + ${w}`])};`));
  p.depth -= 1;
  const main = len - (len % ways);
  sink.push(`let ${accs.map((a) => `${a} = 0`).join(", ")};`);
  sink.push(`for (let ${j} = 0; ${j} < ${main}; ${j} += ${ways}) {`, ...body, "}");
  const rest: string[] = [];
  for (let c = main; c < len; c++) rest.push(paren(term(sink, [c])));
  return [...accs, ...rest].join(" + ");
}

/**
 * `a + b + c + …` as one chain when it has at most MAX_SUM_CHAIN terms, else as parenthesized
 * groups of that many (recursively): a chain is parsed as deep as it is long, and prettier's parser
 * overflows the stack at about 760 terms (`--unroll 4096` on digits gives 2048-term sums).
 */
export function sumOf(terms: readonly string[]): string {
  let parts = terms;
  while (parts.length > MAX_SUM_CHAIN) {
    const groups: string[] = [];
    for (let i = 0; i < parts.length; i += MAX_SUM_CHAIN) groups.push(`(${parts.slice(i, i + MAX_SUM_CHAIN).join(" + ")})`);
    parts = groups;
  }
  return parts.join(" + ");
}

/** A number literal; negative ones parenthesized, so that it can stand anywhere. */
export function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  const s = String(v);
  return v < 0 || Object.is(v, -0) ? `(${s === "0" ? "-0" : s})` : s;
}

export function paren(s: string): string {
  return ATOMIC.test(s) ? s : `(${s})`;
}
