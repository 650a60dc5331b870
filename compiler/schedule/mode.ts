/**
 * Pass 2, mode: a stored node (or a sink) whose work — elements × the inner reduction lengths of
 * its inlined expression — is at most the unroll threshold is unrolled with constant indices;
 * anything larger becomes loops with constant bounds. docs/performance.md has the curve behind the
 * default threshold.
 */
import type { Graph, Node, NodeId } from "../ir/graph.js";
import { numel } from "../ir/shape.js";
import type { Sink } from "../plan/sinks.js";
import type { Materialized, Moded } from "./facts.js";

export function chooseModes(f: Materialized, unroll: number): Moded {
  const { graph: g, stored } = f;
  // the work of each node's inlined tree, per element
  const work = new Float64Array(g.nodes.length).fill(1);
  for (const id of f.reach) {
    const node = g.node(id);
    let w = 1;
    for (const i of node.inputs) if (!stored.has(i)) w = Math.max(w, work[i]!);
    work[id] = w * reductionLength(g, node);
  }
  const unrolled = new Map<NodeId, boolean>();
  for (const id of stored) unrolled.set(id, numel(g.shape(id)) * work[id]! <= unroll);
  return { ...f, unroll, work, unrolled, sinkUnrolled: sinkModes({ ...f, unroll, work }) };
}

/**
 * The mode of each sink: by the work of its inlined expression, or one read per element when its
 * node is stored. The sweeps pass asks again once it has stored the Wᵀδ nodes it fills.
 */
export function sinkModes(f: Materialized & Pick<Moded, "unroll" | "work">): Map<Sink, boolean> {
  const modes = new Map<Sink, boolean>();
  for (const s of f.spec.sinks) modes.set(s, numel(f.graph.shape(s.node)) * (f.stored.has(s.node) ? 1 : f.work[s.node]!) <= f.unroll);
  return modes;
}

function reductionLength(g: Graph, node: Node): number {
  switch (node.op) {
    case "matmul":
      return g.shape(node.inputs[0]!)[1]!;
    // the taps of one output element
    case "conv2d": {
      const w = g.shape(node.inputs[1]!);
      return w[1]! * w[2]! * w[3]!;
    }
    case "conv2d_backward_input": {
      const w = g.shape(node.inputs[1]!);
      return Math.max(1, Math.ceil((w[0]! * w[2]! * w[3]!) / (node.at[0]! * node.at[0]!)));
    }
    case "conv2d_backward_weight": {
      const d = g.shape(node.inputs[1]!);
      return d[1]! * d[2]!;
    }
    case "maxpool":
    case "avgpool":
    case "maxpool_gather":
    case "maxpool_backward":
      return node.at[0]! * node.at[0]!;
    case "sum":
    case "logsumexp":
    case "cross_entropy":
    case "binary_cross_entropy":
      return numel(g.shape(node.inputs[0]!));
    default:
      return 1;
  }
}
