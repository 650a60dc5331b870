/**
 * Prints a scheduled function as TypeScript: the signature, the bindings, then each step in the
 * schedule's order under a comment naming the `.nn` statement it comes from. Only prints: what is
 * computed, where it is stored, in which mode and by which pattern is the Schedule's.
 */
import type { NodeId } from "../../ir/graph.js";
import { numel } from "../../ir/shape.js";
import type { NodeStep, ReturnStep, Schedule, SinkStep, Step, UpdateStep } from "../../schedule/types.js";
import { commentText } from "../names.js";
import { arrayType } from "../../target.js";
import { compute, elem, num, paren } from "./expressions.js";
import { add, flat, type Ix } from "./indexing.js";
import { forEachElement, store } from "./loops.js";
import { printLogSumExp, printSweep } from "./patterns.js";
import { placementHead, placementTail, printConv, printDense, printStage } from "./kernels.js";
import { Printer } from "./printer.js";
import { spelling, type Lang } from "../lang.js";

/** What the TypeScript backend made of one function. */
export interface EmittedFunction {
  readonly code: string;
  /** the function takes a `lanes` argument after the sample index (see FunctionSpec.maxLanes) */
  readonly lanes: boolean;
  /** with FunctionSpec.update: the parameters whose gradient still goes to grad */
  readonly accumulated: readonly string[];
}

export function printFunction(s: Schedule, lang: Lang = "ts"): EmittedFunction {
  const p = new Printer(s);
  const body = printSteps(p);
  const { spec, bindings: b } = s;
  const { param, type } = spelling(lang);
  const args = [param("params", "Params")];
  const F = arrayType(s.precision);
  for (const a of b.samples) args.push(param(a.array, F));
  if (spec.samples.length > 0) args.push(param(b.sampleIndex, "number"));
  if (s.lanes !== null) args.push(param(s.lanes.arg, "number"));
  if (b.lr !== null) args.push(param(b.lr, "number"));
  for (const o of b.outputs) args.push(param(o.array, F));
  if (spec.grad) args.push(param("grad", "Params"));
  if (spec.hessian === true) args.push(param("v", "Params"), param(b.accumulator, "Params"));
  if (b.random !== null) args.push(param(b.random, "() => number"));
  const head: string[] = [];
  // in lane mode each lane loop declares the offsets it reads
  if (s.lanes === null) for (const a of p.samples.values()) if (a.offset !== null) head.push(`const ${a.offset} = ${b.sampleIndex} * ${numel(a.shape)};`);
  for (const name of s.usedParams) head.push(`const ${b.params.get(name)!} = params[${JSON.stringify(name)}];`);
  for (const name of s.usedDirections) head.push(`const ${b.directions.get(name)!} = v[${JSON.stringify(name)}];`);
  const placed = placementHead(p, s.placements);
  for (const [param, alias] of p.gradAlias) head.push(`const ${alias} = ${b.accumulator}[${JSON.stringify(param)}];`);
  head.push(...placed);
  const returns = spec.lossCell !== undefined ? "void" : spec.returns;
  const code = `/** ${spec.doc} */\nfunction ${spec.name}(${args.join(", ")})${type(returns)} {\n${[...head, ...body].join("\n")}\n}\n`;
  return { code, lanes: s.lanes !== null, accumulated: spec.update === true ? s.accumulated : [] };
}

function printSteps(p: Printer): string[] {
  const out: string[] = [];
  let lastHeader = "";
  /** a comment naming the statement a step comes from, when it changes */
  const header = (id: NodeId) => {
    const { origin, backward, tangent } = p.g.node(id);
    if (origin === null) return;
    const h = tangent
      ? `// ── H·v: tangent along v of the ${backward ? "backward" : "forward"} pass through line ${origin.line}: ${commentText(origin.text)}`
      : backward
        ? `// ── backward through line ${origin.line}: ${commentText(origin.text)}`
        : `// ── ${commentText(origin.text)}  (${commentText(p.schedule.file)}:${origin.line})`;
    if (h !== lastHeader) {
      if (out.length > 0) out.push("");
      out.push(h);
      // a backward or tangent block shows the equations it implements, as `nnc explain` prints them
      const t = p.schedule.spec.tangentDerivations;
      const equations = tangent ? (backward ? t?.backward : t?.forward) : backward ? p.schedule.spec.derivations : undefined;
      for (const e of equations?.get(origin.line) ?? []) out.push(`//    ${commentText(e)}`);
      lastHeader = h;
    }
  };
  let updates = false;
  for (const step of p.schedule.steps) {
    const at = headerNode(step);
    if (at !== null) header(at);
    switch (step.kind) {
      case "stage":
        printStage(p, out, step);
        break;
      case "dense":
        printDense(p, out, step);
        break;
      case "conv":
        printConv(p, out, step);
        break;
      case "node":
        printNode(p, out, step);
        break;
      case "logsumexp":
        printLogSumExp(p, out, step);
        break;
      case "sweep":
        printSweep(p, out, step);
        break;
      case "sink":
        printSink(p, out, step);
        break;
      case "update":
        if (!updates) out.push("", "// ── SGD: θ ← θ − lr · ∂loss/∂θ, now that nothing reads θ any more");
        updates = true;
        printUpdate(p, out, step);
        break;
      case "return":
        out.push(...placementTail(p, p.schedule.placements));
        printReturn(p, out, step);
        break;
    }
  }
  if (p.schedule.steps.at(-1)?.kind !== "return") out.push(...placementTail(p, p.schedule.placements));
  return out;
}

/** the node whose statement a step's comment names; none for the deferred updates and the return */
function headerNode(step: Step): NodeId | null {
  switch (step.kind) {
    case "node":
    case "dense":
    case "conv":
    case "logsumexp":
      return step.node;
    case "stage":
      return null;
    case "sweep":
      return step.back?.node ?? step.grad;
    case "sink":
      return step.sink.node;
    case "update":
    case "return":
      return null;
  }
}

function printNode(p: Printer, out: string[], step: NodeStep): void {
  p.unrolled = step.mode === "unrolled";
  const node = p.g.node(step.node);
  const st = step.storage;
  if (node.op === "dropout_mask") {
    const keep = 1 / (1 - node.num);
    const value = `${p.schedule.bindings.random!}() < ${num(node.num)} ? 0 : ${num(keep)}`;
    forEachElement(p, out, node.shape, () => value, (idx, v) => store(p, st, idx, v), false);
    return;
  }
  forEachElement(p, out, node.shape, (sink, idx) => compute(p, sink, node, idx), (idx, v) => store(p, st, idx, v), step.perLane);
}

function printSink(p: Printer, out: string[], step: SinkStep): void {
  p.unrolled = step.mode === "unrolled";
  const s = step.sink;
  const shape = p.g.shape(s.node);
  const value = (sink: string[], idx: Ix[]) => elem(p, sink, s.node, idx);
  if (s.kind === "accumulate") {
    const a = p.grad(s.param);
    forEachElement(p, out, shape, value, (idx, v) => `${a}[${flat(shape, idx)}] += ${v};`, step.perLane);
    return;
  }
  const arr = p.outputs.get(s.name)!;
  const size = numel(shape);
  const n = p.schedule.bindings.sampleIndex;
  // in a lane loop, sample n + lane's row
  const row = () => (p.laneOffsets !== null ? `(${n} + ${p.lane})` : n);
  const base = () => (size === 1 ? row() : `${row()} * ${size}`);
  forEachElement(p, out, shape, value, (idx, v) => `${arr}[${add(base(), flat(shape, idx))}] = ${v};`, step.perLane);
}

function printUpdate(p: Printer, out: string[], step: UpdateStep): void {
  p.unrolled = step.mode === "unrolled";
  const s = step.sink;
  const shape = p.g.shape(s.node);
  const w = p.param(s.param);
  const lr = p.schedule.bindings.lr!;
  forEachElement(p, out, shape, (sink, idx) => elem(p, sink, s.node, idx), (idx, v) => `${w}[${flat(shape, idx)}] -= ${lr} * ${paren(v)};`, step.perLane);
}

function printReturn(p: Printer, out: string[], step: ReturnStep): void {
  p.unrolled = true;
  const cell = step.cell;
  if (cell === null) out.push(`return ${elem(p, out, step.node, [])};`);
  else forEachElement(p, out, [], (sink) => elem(p, sink, step.node, []), (_idx, v) => `${cell}[0] += ${v};`, step.perLane);
}
