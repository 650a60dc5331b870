/**
 * Pass 4b, kernels (the wasm target, lane mode only): the dense layers of a block of samples as
 * calls of the WebAssembly SIMD kernels (codegen/wasm/kernels.ts), lanes = the block's samples,
 * stored sample-major as the per-lane buffers already are.
 *
 *  - forward: a matrix product W x of a parameter W[m, k] and a per-sample vector x, large enough
 *    to be looped, becomes one `dense_forward` call for every lane; the bias b[m] of `W x + b` and
 *    a ReLU on top are fused into the call when nothing else reads the intermediate values. The
 *    node the call computes is stored; x must be stored too (a sample input is staged: copied for
 *    the block's lanes into a per-lane buffer the kernel can read).
 *  - backward: a sweep (∂W += δ bᵀ and Wᵀδ, sweeps.ts) becomes a `dense_backward_weight` call and,
 *    with Wᵀδ, a `dense_backward_data` call; the bias gradient ∂b += δ joins the weight kernel when
 *    its term is that same δ.
 * Everything else stays in the printer's language, reading and writing the same buffers, which
 * the module places in the kernels' memory.
 */
import { convKernelName, convShapeOf } from "../codegen/wasm/conv-layers.js";
import type { Graph, NodeId } from "../ir/graph.js";
import type { Sink } from "../plan/sinks.js";
import type { ConvKernel, DenseKernel, Kerneled, Laned } from "./facts.js";
import type { Target } from "../target.js";
import { sinkModes } from "./mode.js";

export function denseKernels(f: Laned, target: Target): Kerneled {
  const none: Kerneled = { ...f, dense: new Map(), kernelSweeps: new Map(), convs: new Map(), convSinks: new Map(), staged: new Set(), placed: [] };
  if (target !== "wasm" || f.lanes === 0) return none;
  const g = f.graph;
  const users = new Uint32Array(g.nodes.length);
  for (const id of f.reach) for (const i of g.node(id).inputs) users[i]!++;
  for (const s of f.spec.sinks) users[s.node]!++;
  const only = (id: NodeId, op: string): NodeId | null => {
    if (users[id] !== 1) return null;
    const user = f.reach.find((u) => u > id && g.node(u).op === op && g.node(u).inputs.includes(id));
    return user ?? null;
  };

  const stored = new Set(f.stored);
  const unrolled = new Map(f.unrolled);
  const staged = new Set<NodeId>();
  const placed: { param: string; grad: boolean }[] = [];
  const place = (param: string, grad: boolean) => {
    if (!placed.some((p) => p.param === param && p.grad === grad)) placed.push({ param, grad });
  };
  /** a per-sample vector (an image: rank 3) a kernel reads: staged when a sample input, else stored */
  const readable = (id: NodeId, rank = 1): boolean => {
    const n = g.node(id);
    if (f.perSample[id] !== 1 || g.shape(id).length !== rank) return false;
    if (n.op === "input") staged.add(id);
    else if (n.op === "target" || n.op === "dropout_mask") return false;
    else {
      stored.add(id);
      unrolled.set(id, false);
    }
    return true;
  };

  const dense = new Map<NodeId, DenseKernel>();
  for (const id of f.reach) {
    const mm = g.node(id);
    if (mm.op !== "matmul") continue;
    const [w, x] = mm.inputs as [NodeId, NodeId];
    const W = g.node(w);
    const shape = g.shape(w);
    if (W.op !== "param" || shape.length !== 2 || g.shape(x).length !== 1 || shape[0]! * shape[1]! <= f.unroll) continue;
    if (f.perSample[x] !== 1 || stored.has(id) && f.unrolled.get(id) === true) continue;
    if (!readable(x)) continue;
    let node = id;
    let bias: NodeId | null = null;
    const add = only(node, "add");
    if (add !== null) {
      const other = g.node(add).inputs.find((i) => i !== node)!;
      const b = g.node(other);
      if (b.op === "param" && g.shape(other).length === 1) {
        bias = other;
        node = add;
      }
    }
    const relu = only(node, "relu");
    if (relu !== null) node = relu;
    stored.add(node);
    unrolled.set(node, false);
    dense.set(node, { node, x, weight: w, bias, relu: relu !== null });
    place(W.ref, false);
    if (bias !== null) place(g.node(bias).ref, false);
  }

  const kernelSweeps = new Map<NodeId, { bias: string | null }>();
  const swept = new Set<Sink>(f.swept);
  for (const [at, sw] of f.sweeps) {
    if (!readable(sw.delta) || !readable(sw.b)) continue;
    const biasSink = f.spec.sinks.find((s) => s.kind === "accumulate" && s.node === sw.delta && !swept.has(s) && g.shape(s.node).length === 1);
    const bias = biasSink?.kind === "accumulate" ? biasSink.param : null;
    if (biasSink !== undefined) swept.add(biasSink);
    kernelSweeps.set(at, { bias });
    if (sw.back !== null) place(sw.sink.param, false);
    place(sw.sink.param, true);
    if (bias !== null) place(bias, true);
  }
  // convolutions (conv2d of a per-sample image and a parameter kernel [O, C, k, k], and its two
  // adjoints): one kernel call per pass for every lane; the forward takes the layer's bias
  // (language §11: b spread over the positions, reshape(outer(b, 1))) and a ReLU on top
  const convs = new Map<NodeId, ConvKernel>();
  const convSinks = new Map<Sink, ConvKernel>();
  const kernelParam = (id: NodeId) => g.node(id).op === "param" && g.shape(id).length === 4;
  const perSampleImage = (id: NodeId) => f.perSample[id] === 1 && g.shape(id).length === 3 && !["target", "dropout_mask"].includes(g.node(id).op);
  for (const id of f.reach) {
    const n = g.node(id);
    if (n.op !== "conv2d" && n.op !== "conv2d_backward_input") continue;
    const shape = convShapeOf(g, n);
    const [input, w] = n.inputs as [NodeId, NodeId];
    if (shape === null || !kernelParam(w) || f.perSample[id] !== 1 || !perSampleImage(input) || (stored.has(id) && f.unrolled.get(id) === true)) continue;
    readable(input, 3);
    let node = id;
    let bias: string | null = null;
    if (n.op === "conv2d") {
      const add = only(id, "add");
      const b = add === null ? null : channelBias(g, g.node(add).inputs.find((i) => i !== id)!);
      if (b !== null) {
        bias = b;
        node = add!;
      }
      const relu = only(node, "relu");
      if (relu !== null) node = relu;
    }
    stored.add(node);
    unrolled.set(node, false);
    const weight = g.node(w).ref;
    convs.set(node, { pass: n.op === "conv2d" ? "forward" : "data", node, kernels: convKernelName(shape), input, delta: null, weight, bias, relu: node !== id && g.node(node).op === "relu" });
    place(weight, false);
    if (bias !== null) place(bias, false);
  }
  for (const s of f.spec.sinks) {
    if (s.kind !== "accumulate" || swept.has(s)) continue;
    const n = g.node(s.node);
    const shape = n.op === "conv2d_backward_weight" ? convShapeOf(g, n) : null;
    if (shape === null || !perSampleImage(n.inputs[0]!) || !perSampleImage(n.inputs[1]!)) continue;
    const [x, delta] = n.inputs as [NodeId, NodeId];
    readable(x, 3);
    readable(delta, 3);
    swept.add(s);
    convSinks.set(s, { pass: "weight", node: s.node, kernels: convKernelName(shape), input: x, delta, weight: s.param, bias: null, relu: false });
    place(s.param, true);
  }
  // a sink whose node is now stored reads it from storage: its mode is asked again
  return { ...f, stored, unrolled, sinkUnrolled: sinkModes({ ...f, stored }), swept, dense, kernelSweeps, convs, convSinks, staged, placed };
}

/** The bias parameter b[f] of a conv2d layer's `z + reshape(outer(b, 1))`, given that addend, or null. */
function channelBias(g: Graph, addend: NodeId): string | null {
  const r = g.node(addend);
  if (r.op !== "reshape") return null;
  const o = g.node(r.inputs[0]!);
  if (o.op !== "outer" || !g.isConst(o.inputs[1]!, 1)) return null;
  const b = g.node(o.inputs[0]!);
  return b.op === "param" && g.shape(b.id).length === 1 ? b.ref : null;
}
