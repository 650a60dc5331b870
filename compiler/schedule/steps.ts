/**
 * Pass 7, order: the steps in emission order. Nodes come in id (topological) order, each stored
 * node where it is computed and each sink right after its node; a softmax computed by its
 * log-sum-exp has no step of its own, a swept sink none either (its sweep is the step, at Wᵀδ when
 * fused), a sink whose term is the constant 0 none at all. The return comes last. Every gradient
 * still goes to grad here: update.ts turns accumulations into in-place updates.
 */
import type { NodeId } from "../ir/graph.js";
import type { Sink } from "../plan/sinks.js";
import type { ConvKernel, Fused, Ordered, Sweep } from "./facts.js";
import type { BufferStorage, Mode, SinkStep, Step } from "./types.js";

export function orderSteps(f: Fused): Ordered {
  const { spec, graph: g } = f;
  const sinksAt = new Map<NodeId, SinkStep["sink"][]>();
  let ret: NodeId | null = null;
  for (const s of spec.sinks) {
    if (s.kind === "return") ret = s.node;
    else sinksAt.set(s.node, [...(sinksAt.get(s.node) ?? []), s]);
  }
  const byLse = new Set(f.softmaxOf.values());
  const steps: Step[] = [];
  for (const id of f.reach) {
    const sweep = f.sweeps.get(id);
    if (f.staged.has(id)) steps.push({ kind: "stage", node: id, storage: bufferOf(f, id) });
    if (f.stored.has(id) && !byLse.has(id)) steps.push(sweep !== undefined ? sweepStep(f, sweep, id) : nodeStep(f, id));
    for (const s of sinksAt.get(id) ?? []) {
      if (g.isConst(s.node, 0)) continue;
      const conv = f.convSinks.get(s);
      if (conv !== undefined) steps.push(convStep(f, conv));
      if (f.swept.has(s)) {
        if (sweep?.sink === s && sweep.back === null) steps.push(sweepStep(f, sweep, id));
        continue;
      }
      // every lane adds its own term to grad, or writes its own output, even one that does not depend on the sample
      steps.push({ kind: "sink", sink: s, mode: sinkMode(f, s), perLane: f.lanes > 0 });
    }
  }
  if (ret !== null) steps.push({ kind: "return", node: ret, cell: spec.lossCell ?? null, perLane: f.lanes > 0 && f.perSample[ret] === 1 });
  return { ...f, steps };
}

function sinkMode(f: Fused, s: Sink): Mode {
  return f.sinkUnrolled.get(s)! ? "unrolled" : "loop";
}

function bufferOf(f: Fused, id: NodeId): BufferStorage {
  const storage = f.storage.get(id)!;
  if (storage.kind !== "buffer") throw new Error(`internal: %${id}, read or written by a kernel, is not in a buffer`);
  return storage;
}

function nodeStep(f: Fused, id: NodeId): Step {
  const dense = f.dense.get(id);
  if (dense !== undefined) {
    const param = (n: NodeId) => f.graph.node(n).ref;
    return { kind: "dense", node: id, storage: bufferOf(f, id), x: dense.x, weight: param(dense.weight), bias: dense.bias === null ? null : param(dense.bias), relu: dense.relu };
  }
  const conv = f.convs.get(id);
  if (conv !== undefined) return convStep(f, conv);
  const mode: Mode = f.unrolled.get(id)! ? "unrolled" : "loop";
  const storage = f.storage.get(id)!;
  const perLane = f.lanes > 0 && f.perSample[id] === 1;
  if (f.graph.node(id).op !== "logsumexp") return { kind: "node", node: id, mode, storage, perLane };
  const softmax = f.softmaxOf.get(id);
  return { kind: "logsumexp", node: id, mode, storage, softmax: softmax === undefined ? null : { node: softmax, storage: f.storage.get(softmax)! }, perLane };
}

function convStep(f: Fused, c: ConvKernel): Step {
  return { kind: "conv", pass: c.pass, node: c.node, storage: c.pass === "weight" ? null : bufferOf(f, c.node), kernels: c.kernels, input: c.input, delta: c.delta, weight: c.weight, bias: c.bias, relu: c.relu };
}

function sweepStep(f: Fused, sw: Sweep, at: NodeId): Step {
  let back = null;
  if (sw.back !== null) {
    const storage = f.storage.get(sw.back)!;
    if (storage.kind !== "buffer") throw new Error("internal: Wᵀδ of a sweep is not a buffer");
    back = { node: sw.back, weight: sw.weight!, storage };
  }
  return { kind: "sweep", param: sw.sink.param, grad: sw.sink.node, delta: sw.delta, b: sw.b, back, blocked: f.lanes > 0 ? f.lanes : null, update: false, kernel: f.kernelSweeps.get(at) ?? null };
}
