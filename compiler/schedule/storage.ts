/**
 * Pass 5, storage: where each stored value lives. A scalar is a local; an unrolled tensor read
 * only by unrolled code is a group of locals (z_0, z_1, …); any other tensor lives in a
 * module-level scratch buffer, so the function never allocates. In lane mode every per-sample value
 * is a buffer with one row per lane. Names are taken here, in the order of `stored`, after the
 * function's bindings (see schedule.ts).
 */
import type { Node, NodeId } from "../ir/graph.js";
import { numel } from "../ir/shape.js";
import type { NameTable } from "../codegen/names.js";
import type { Kerneled, Stored } from "./facts.js";
import type { ModuleContext } from "./input.js";
import type { Placement, Storage } from "./types.js";

export function assignStorage(f: Kerneled, names: NameTable, mod: ModuleContext): Stored {
  const { graph: g, stored } = f;
  // which stored values are read inside loops (they cannot be locals), from the sinks down
  const readInLoop = new Uint8Array(g.nodes.length);
  for (const s of f.spec.sinks) if (!f.sinkUnrolled.get(s)) readInLoop[s.node] = 1;
  for (let k = f.reach.length - 1; k >= 0; k--) {
    const id = f.reach[k]!;
    const loopHere = stored.has(id) ? !f.unrolled.get(id) : readInLoop[id] === 1;
    if (loopHere) for (const i of g.node(id).inputs) readInLoop[i] = 1;
  }
  const taken = new Set<string>();
  const buffer = (hint: string, size: number) => mod.buffer(hint, size, taken);
  const storage = new Map<NodeId, Storage>();
  for (const id of stored) {
    const node = g.node(id);
    const hint = node.name ?? hintFor(node);
    const size = numel(node.shape);
    if (f.lanes > 0 && f.perSample[id] === 1) storage.set(id, { kind: "buffer", name: buffer(`${hint}_lanes`, size * f.lanes), shape: node.shape, perLane: true });
    else if (node.shape.length === 0) storage.set(id, { kind: "scalar", name: names.fresh(hint) });
    else if (f.unrolled.get(id) && !readInLoop[id]) storage.set(id, { kind: "locals", base: names.freshGroup(hint, size), shape: node.shape });
    else storage.set(id, { kind: "buffer", name: buffer(hint, size), shape: node.shape, perLane: false });
  }
  // a sample input the kernels read: its block of lanes, copied
  for (const id of f.staged) {
    const node = g.node(id);
    storage.set(id, { kind: "buffer", name: buffer(`${node.ref}_lanes`, numel(node.shape) * f.lanes), shape: node.shape, perLane: true });
  }
  // a parameter or gradient array made outside the kernels' memory is copied into a stage of its size
  const placements: Placement[] = f.placed.map(({ param, grad }) => {
    const hint = grad ? `d${param}` : param;
    const size = numel(f.spec.params.find((p) => p.name === param)!.shape);
    return { param, grad, stage: buffer(`${hint}_stage`, size), at: names.fresh(`${hint}_at`) };
  });
  return { ...f, storage, placements };
}

/** the name of an unnamed stored value */
function hintFor(node: Node): string {
  switch (node.op) {
    case "logsumexp":
      return "lse";
    case "dropout_mask":
      return "mask";
    case "sum":
      return "sum";
    default:
      return "tmp";
  }
}
