/**
 * The TypeScript of the schedule's patterns: the dense backward sweep (plain, blocked over a full
 * block of lanes, or updating W in place) and the log-sum-exp with its softmax. Which pattern a
 * step uses, and with which storage, is the schedule's; this file spells it.
 */
import type { Node } from "../../ir/graph.js";
import type { LogSumExpStep, Storage, SweepStep } from "../../schedule/types.js";
import { elem, paren, sumOf } from "./expressions.js";
import { flat, indices } from "./indexing.js";
import { bufferIndex, inLaneLoop, store, wrapLoops } from "./loops.js";
import type { Printer } from "./printer.js";
import { printKernelSweep } from "./kernels.js";

/** ∂W += δ bᵀ (and Wᵀδ) row by row, skipping rows with δᵢ = 0; in lane mode, blocked when the block is full. */
export function printSweep(p: Printer, out: string[], sw: SweepStep): void {
  p.unrolled = false;
  if (sw.kernel !== null) {
    printKernelSweep(p, out, sw);
    return;
  }
  if (sw.update) {
    printUpdateSweep(p, out, sw);
    return;
  }
  const shape = p.g.shape(sw.grad);
  const [m, n] = shape as [number, number];
  const dW = p.grad(sw.param);
  const i = p.loopVar(p.depth);
  const j = p.loopVar(p.depth + 1);
  const d = p.names.fresh("d");
  p.depth += 2;
  const rowOfLane = (): string[] => {
    const row: string[] = [];
    row.push(`const ${d} = ${elem(p, row, sw.delta, [i])};`);
    row.push(`if (${d} === 0) continue;`);
    const inner: string[] = [];
    const bj = elem(p, inner, sw.b, [j]);
    inner.push(`${dW}[${flat(shape, [i, j])}] += ${d} * ${paren(bj)};`);
    if (sw.back !== null) inner.push(`${sw.back.storage.name}[${bufferIndex(p, sw.back.storage, [j])}] += ${paren(elem(p, inner, sw.back.weight, [i, j]))} * ${d};`);
    return [...row, ...wrapLoops([j], [n], inner)];
  };
  const row = sw.blocked !== null ? inLaneLoop(p, rowOfLane) : rowOfLane();
  p.depth -= 2;
  if (sw.back !== null) out.push(`${sw.back.storage.name}.fill(0);`);
  if (sw.blocked === null) {
    out.push(...wrapLoops([i], [m], row));
    return;
  }
  out.push(`if (${p.schedule.lanes!.arg} === ${sw.blocked}) {`, ...blockedSweep(p, sw, dW, sw.blocked), "} else {", ...wrapLoops([i], [m], row), "}");
}

/**
 * The sweep in update mode (one sample): W −= lr δ bᵀ in place, each element of W read for Wᵀδ
 * just before it changes, so the backward pass sees the old W and no gradient array is written.
 */
function printUpdateSweep(p: Printer, out: string[], sw: SweepStep): void {
  const shape = p.g.shape(sw.grad);
  const [m, n] = shape as [number, number];
  const W = p.param(sw.param);
  const i = p.loopVar(p.depth);
  const j = p.loopVar(p.depth + 1);
  const d = p.names.fresh("d");
  const step = p.names.fresh("step");
  p.depth += 2;
  const row: string[] = [];
  row.push(`const ${d} = ${elem(p, row, sw.delta, [i])};`);
  row.push(`if (${d} === 0) continue;`);
  row.push(`const ${step} = ${p.schedule.bindings.lr!} * ${d};`);
  const inner: string[] = [];
  const bj = elem(p, inner, sw.b, [j]);
  if (sw.back !== null) {
    const back = sw.back.storage;
    const w = p.names.fresh("w");
    inner.push(`const ${w} = ${elem(p, inner, sw.back.weight, [i, j])};`);
    inner.push(`${back.name}[${bufferIndex(p, back, [j])}] += ${w} * ${d};`);
    inner.push(`${W}[${flat(shape, [i, j])}] = ${w} - ${step} * ${paren(bj)};`);
    out.push(`${back.name}.fill(0);`);
  } else {
    inner.push(`${W}[${flat(shape, [i, j])}] -= ${step} * ${paren(bj)};`);
  }
  p.depth -= 2;
  out.push(...wrapLoops([i], [m], [...row, ...wrapLoops([j], [n], inner)]));
}

/**
 * The sweep for a full block of lanes: one pass over ∂W adds all of the block's terms δᵢ bⱼ,
 * where the lane loop would read and write ∂W once per lane. ∂W is the largest array a step
 * touches, and this halved its traffic's cost (docs/performance.md).
 */
function blockedSweep(p: Printer, sw: SweepStep, dW: string, lanes: number): string[] {
  const shape = p.g.shape(sw.grad);
  const [m, n] = shape as [number, number];
  const i = p.loopVar(p.depth);
  const j = p.loopVar(p.depth + 1);
  p.depth += 2;
  const outerOffsets = p.laneOffsets;
  p.laneOffsets = new Map();
  const all = Array.from({ length: lanes }, (_, l) => l);
  const ds = all.map((l) => p.names.fresh(`d${l}`));
  const row: string[] = [];
  for (const l of all) {
    p.lane = l;
    row.push(`const ${ds[l]} = ${elem(p, row, sw.delta, [i])};`);
  }
  row.push(`if (${ds.map((d) => `${d} === 0`).join(" && ")}) continue;`);
  const inner: string[] = [];
  const terms = all.map((l) => {
    p.lane = l;
    return `${ds[l]} * ${paren(elem(p, inner, sw.b, [j]))}`;
  });
  inner.push(`${dW}[${flat(shape, [i, j])}] += ${terms.join(" + ")};`);
  if (sw.back !== null) {
    const back = sw.back.storage;
    const w = p.names.fresh("w");
    inner.push(`const ${w} = ${elem(p, inner, sw.back.weight, [i, j])};`);
    for (const l of all) {
      p.lane = l;
      inner.push(`${back.name}[${bufferIndex(p, back, [j])}] += ${w} * ${ds[l]};`);
    }
  }
  p.lane = p.schedule.lanes!.lane;
  const offsets = [...p.laneOffsets.values()];
  p.laneOffsets = outerOffsets;
  p.depth -= 2;
  return [...offsets, ...wrapLoops([i], [m], [...row, ...wrapLoops([j], [n], inner)])];
}

/** lse = m + log Σ exp(xᵢ − m), m = max x; with the step's softmax, exp(xᵢ − m) / Σ from the same exponentials. */
export function printLogSumExp(p: Printer, out: string[], step: LogSumExpStep): void {
  p.unrolled = step.mode === "unrolled";
  const node = p.g.node(step.node);
  if (step.perLane) out.push(...inLaneLoop(p, () => logSumExp(p, [], node, step.storage, step.softmax?.storage ?? null)));
  else logSumExp(p, out, node, step.storage, step.softmax?.storage ?? null);
}

function logSumExp(p: Printer, out: string[], node: Node, st: Storage, sm: Storage | null): string[] {
  const a = node.inputs[0]!;
  const shape = p.g.shape(a);
  const name = st.kind === "scalar" ? st.name : (node.name ?? "lse");
  const m = p.names.fresh(`${name}_max`);
  const s = p.names.fresh(`${name}_sum`);
  if (p.unrolled) {
    const xs = indices(shape).map((idx) => elem(p, out, a, idx));
    out.push(`const ${m} = Math.max(${xs.join(", ")});`);
    const exps = xs.map((x) => `Math.exp(${x} - ${m})`);
    if (sm === null) {
      out.push(store(p, st, [], `${m} + Math.log(${sumOf(exps)})`));
      return out;
    }
    const es = p.names.freshGroup(`${name}_exp`, xs.length);
    exps.forEach((e, k) => out.push(`const ${es}_${k} = ${e};`));
    out.push(`const ${s} = ${sumOf(xs.map((_, k) => `${es}_${k}`))};`);
    out.push(store(p, st, [], `${m} + Math.log(${s})`));
    xs.forEach((_, k) => out.push(store(p, sm, [k], `${es}_${k} / ${s}`)));
    return out;
  }
  const i = p.loopVar(p.depth);
  const x = elem(p, [], a, [i]);
  out.push(`let ${m} = -Infinity;`);
  out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) if (${x} > ${m}) ${m} = ${x};`);
  out.push(`let ${s} = 0;`);
  if (sm !== null && sm.kind !== "buffer") throw new Error("internal: a looped softmax from its log-sum-exp is not a buffer");
  if (sm === null) {
    out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) ${s} += Math.exp(${x} - ${m});`);
    out.push(store(p, st, [], `${m} + Math.log(${s})`));
    return out;
  }
  const y = `${sm.name}[${bufferIndex(p, sm, [i])}]`;
  out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) {`, `${y} = Math.exp(${x} - ${m});`, `${s} += ${y};`, "}");
  out.push(store(p, st, [], `${m} + Math.log(${s})`));
  out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) ${y} /= ${s};`);
  return out;
}
