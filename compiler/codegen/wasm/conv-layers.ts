/**
 * Which convolution kernels a `--target wasm` module embeds: one set (forward, input gradient,
 * weight gradient; conv.ts) per distinct convolution geometry its functions compute, named after
 * the geometry, so that the kernel step of a conv2d node and those of its two adjoints find the
 * same kernels by their shapes and attributes alone.
 */
import type { Graph, Node } from "../../ir/graph.js";
import { convAttrs } from "../../ir/conv.js";
import type { ConvShape } from "./conv.js";

/** `conv_1x28x28_8k3s1_p1_1_1_1`: input, filters, kernel, stride, pads (top, left, bottom, right) */
export function convKernelName(s: ConvShape): string {
  return `conv_${s.channels}x${s.height}x${s.width}_${s.filters}k${s.kernel}s${s.stride}_p${s.pads.join("_")}`;
}

/**
 * The geometry of a conv2d node or of one of its adjoints (conv2d_backward_input: its shape is the
 * input's; conv2d_backward_weight: its shape is the weights'), or null for another node or a kernel
 * that is not square.
 */
export function convShapeOf(g: Graph, n: Node): ConvShape | null {
  let x: readonly number[], w: readonly number[];
  if (n.op === "conv2d") [x, w] = [g.shape(n.inputs[0]!), g.shape(n.inputs[1]!)];
  else if (n.op === "conv2d_backward_input") [x, w] = [n.shape, g.shape(n.inputs[1]!)];
  else if (n.op === "conv2d_backward_weight") [x, w] = [g.shape(n.inputs[0]!), n.shape];
  else return null;
  if (x.length !== 3 || w.length !== 4 || w[2] !== w[3]) return null;
  const a = convAttrs(n.at);
  return { channels: x[0]!, height: x[1]!, width: x[2]!, filters: w[0]!, kernel: w[2]!, stride: a.stride, pads: [a.top, a.left, a.bottom, a.right] };
}

/** Every geometry the graphs compute, once each, in the order of their names. */
export function convShapesOf(graphs: readonly Graph[]): ConvShape[] {
  const found = new Map<string, ConvShape>();
  for (const g of graphs)
    for (const n of g.nodes) {
      const s = convShapeOf(g, n);
      if (s !== null) found.set(convKernelName(s), s);
    }
  return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}
