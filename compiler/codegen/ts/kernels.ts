/**
 * The TypeScript side of the wasm target's kernel steps (schedule/kernels.ts): calls of the
 * module's WebAssembly kernels (`kernels`, set up by codegen/wasm/prelude.ts) with the byte offsets
 * of the buffers and parameter arrays they read and write, and the copy of a sample input's block
 * of lanes into the kernels' memory. The kernels' semantics are in codegen/wasm/kernels.ts.
 */
import { numel } from "../../ir/shape.js";
import type { BufferStorage, ConvStep, DenseStep, Placement, StageStep, SweepStep } from "../../schedule/types.js";
import { CONV_SCRATCH } from "../wasm/prelude.js";
import type { Printer } from "./printer.js";

/** the local holding where the kernels find a parameter's (or its gradient's) array */
function at(p: Printer, param: string, grad: boolean): string {
  const found = p.schedule.placements.find((x) => x.param === param && x.grad === grad);
  if (found === undefined) throw new Error(`internal: ${grad ? "the gradient of " : ""}'${param}' is not placed for the kernels`);
  if (grad) p.grad(param);
  return found.at;
}

function offset(st: BufferStorage): string {
  return `${st.name}.byteOffset`;
}

function buffer(p: Printer, id: number): BufferStorage {
  const st = p.schedule.storage.get(id);
  if (st?.kind !== "buffer") throw new Error(`internal: %${id}, read by a kernel, is not in a buffer`);
  return st;
}

/** x[n … n + lanes − 1] into the buffer the kernels read */
export function printStage(p: Printer, out: string[], step: StageStep): void {
  const node = p.g.node(step.node);
  const a = p.samples.get(node.ref)!;
  const size = numel(a.shape);
  const i = p.loopVar(p.depth);
  const lanes = p.schedule.lanes!.arg;
  const n = p.schedule.bindings.sampleIndex;
  out.push(`// ${node.ref} of samples ${n} … ${n} + ${lanes} − 1, where the kernels read it`);
  out.push(`for (let ${i} = 0; ${i} < ${lanes} * ${size}; ${i}++) ${step.storage.name}[${i}] = ${a.array}[${n} * ${size} + ${i}];`);
}

/** node = W x (+ b) (then relu) for every lane, one kernel call */
export function printDense(p: Printer, out: string[], step: DenseStep): void {
  const [m, k] = p.g.shape(p.g.nodes.find((n) => n.op === "param" && n.ref === step.weight)!.id) as [number, number];
  const sum = `${step.weight} ${p.g.node(step.x).name ?? p.g.node(step.x).ref}${step.bias === null ? "" : ` + ${step.bias}`}`;
  out.push(`// ${p.g.node(step.node).name ?? "z"} = ${step.relu ? `relu(${sum})` : sum}, every lane: WebAssembly SIMD kernel`);
  const args = [offset(buffer(p, step.x)), at(p, step.weight, false), step.bias === null ? "0" : at(p, step.bias, false), offset(step.storage), p.schedule.lanes!.arg, m, k, step.relu ? 1 : 0];
  out.push(`kernels.dense_forward(${args.join(", ")});`);
}

/** a convolution's pass for every lane: one call of the layer's kernels (codegen/wasm/conv.ts) */
export function printConv(p: Printer, out: string[], step: ConvStep): void {
  const lanes = p.schedule.lanes!.arg;
  const scratch = `${CONV_SCRATCH}.byteOffset`;
  const label = (id: number) => p.g.node(id).name ?? p.g.node(id).ref ?? `%${id}`;
  const input = offset(buffer(p, step.input));
  switch (step.pass) {
    case "forward": {
      const sum = `conv2d(${label(step.input)}, ${step.weight})${step.bias === null ? "" : ` + ${step.bias}`}`;
      out.push(`// ${p.g.node(step.node).name ?? "z"} = ${step.relu ? `relu(${sum})` : sum}, every lane: WebAssembly SIMD kernel`);
      const args = [input, at(p, step.weight, false), step.bias === null ? "0" : at(p, step.bias, false), offset(step.storage!), lanes, step.relu ? 1 : 0, scratch];
      out.push(`kernels.${step.kernels}_forward(${args.join(", ")});`);
      return;
    }
    case "data":
      out.push(`// ${p.g.node(step.node).name ?? "δx"} = full correlation of ${label(step.input)} with ${step.weight} flipped, every lane: WebAssembly SIMD kernel`);
      out.push(`kernels.${step.kernels}_backward_data(${[input, at(p, step.weight, false), offset(step.storage!), lanes, 0, scratch].join(", ")});`);
      return;
    case "weight":
      out.push(`// ∂${step.weight} += Σ over the lanes of the correlation of ${label(step.input)} and ${label(step.delta!)}: WebAssembly SIMD kernel`);
      out.push(`kernels.${step.kernels}_backward_weight(${[offset(buffer(p, step.delta!)), input, at(p, step.weight, true), 0, lanes, scratch].join(", ")});`);
      return;
  }
}

/** ∂W += Σ δ bᵀ (and ∂bias += Σ δ), and Wᵀδ, over every lane: kernel calls */
export function printKernelSweep(p: Printer, out: string[], sw: SweepStep): void {
  const [m, k] = p.g.shape(sw.grad) as [number, number];
  const lanes = p.schedule.lanes!.arg;
  const delta = offset(buffer(p, sw.delta));
  if (sw.back !== null) {
    out.push(`// ${p.g.node(sw.back.node).name ?? "Wᵀδ"} = ${sw.param}ᵀ δ, every lane: WebAssembly SIMD kernel`);
    out.push(`kernels.dense_backward_data(${[delta, at(p, sw.param, false), offset(sw.back.storage), lanes, m, k, 0].join(", ")});`);
  }
  const bias = sw.kernel!.bias;
  out.push(`// ∂${sw.param} += Σ δ bᵀ${bias === null ? "" : `, ∂${bias} += Σ δ`} over the lanes: WebAssembly SIMD kernel`);
  out.push(`kernels.dense_backward_weight(${[delta, offset(buffer(p, sw.b)), at(p, sw.param, true), bias === null ? "0" : at(p, bias, true), lanes, m, k].join(", ")});`);
}

/** the head's lines: where the kernels find each placed array (copied in when it lives elsewhere) */
export function placementHead(p: Printer, placements: readonly Placement[]): string[] {
  return placements.map((x) => `const ${x.at} = inMemory(${x.grad ? p.grad(x.param) : p.param(x.param)}, ${x.stage});`);
}

/** the end's lines: gradients the kernels wrote into a stage, copied back */
export function placementTail(p: Printer, placements: readonly Placement[]): string[] {
  return placements.filter((x) => x.grad).map((x) => `leaveMemory(${p.grad(x.param)}, ${x.stage});`);
}
