/**
 * Pass 1, materialize: which nodes are computed once into storage, and which are inlined into
 * their users' expressions (fusing bias, activation and the matrix product into one sum).
 *
 * A node is stored when it is read more than once — counting reads through inlined users, and the
 * re-reads of a matrix product or a broadcast —, when the user named it (the code then reads like
 * the derivation), when it is the returned loss, a dropout mask or a log-sum-exp (or the input of
 * one, which it reads twice). Views are never stored: they are recomputed at every read for free.
 * An inlined tree deeper than MAX_INLINE_DEPTH is cut by storing the node at the cut.
 */
import type { Graph, Node, NodeId } from "../ir/graph.js";
import { OPS } from "../ir/ops.js";
import { numel } from "../ir/shape.js";
import { reachable } from "../ir/walk.js";
import type { Materialized, Start } from "./facts.js";

/** ops that are views of their input: cheap to recompute at every read, never stored */
const VIEWS = new Set(["broadcast", "transpose", "index", "unindex", "dropout", "slice", "unslice", "concat", "reshape"]);
/** image ops that read each input element many times (a window, a kernel's taps, an arg-max): their tensor inputs are stored */
const WINDOWED = new Set(["conv2d", "conv2d_backward_input", "conv2d_backward_weight", "maxpool", "maxpool_backward", "maxpool_gather", "avgpool", "avgpool_backward"]);

/**
 * Inlined expressions nest at most this many operations deep: a printer recurses through inlined
 * trees, and so do prettier and every JavaScript parser that reads the emitted expression (a
 * 5000-term `a + b + c + …` line would overflow their stacks).
 */
const MAX_INLINE_DEPTH = 64;

export function materialize(f: Start): Materialized {
  const { spec, graph: g } = f;
  const n = g.nodes.length;
  const need = reachable(g, spec.sinks.map((s) => s.node));
  const reach: NodeId[] = [];
  for (let id = 0; id < n; id++) if (need[id]) reach.push(id);
  const stored = new Set<NodeId>();

  // from the sinks down: effective uses count reads through inlined users
  const uses = new Float64Array(n);
  const forced = new Set<NodeId>();
  for (const s of spec.sinks) {
    uses[s.node]! += 1;
    if (s.kind === "return") forced.add(s.node);
  }
  for (let k = reach.length - 1; k >= 0; k--) {
    const id = reach[k]!;
    const node = g.node(id);
    if (node.op === "logsumexp") forced.add(node.inputs[0]!);
    const leaf = OPS[node.op].kind === "leaf";
    const mat =
      node.op === "dropout_mask" ||
      (!leaf && !VIEWS.has(node.op) && (forced.has(id) || node.op === "logsumexp" || uses[id]! > 1 || isNamed(node)));
    if (mat) stored.add(id);
    node.inputs.forEach((input, k) => {
      uses[input]! += (mat ? 1 : uses[id]!) * readsPerElement(g, node, k);
    });
  }

  // the depth cut, from the leaves up
  const depth = new Uint16Array(n);
  for (const id of reach) {
    const node = g.node(id);
    let d = 0;
    for (const i of node.inputs) if (!stored.has(i)) d = Math.max(d, depth[i]!);
    const cut = d >= MAX_INLINE_DEPTH && OPS[node.op].kind !== "leaf" && !VIEWS.has(node.op);
    if (cut) stored.add(id);
    depth[id] = cut ? 0 : d + 1;
  }
  return { ...f, reach, stored };
}

/**
 * How often one evaluation of `node` reads each element of its k-th input: a matrix product reads
 * every element of A once per column of B, a scalar broadcast is read once per element, … An
 * inlined input would be recomputed that often, so more than one read makes it materialize.
 */
function readsPerElement(g: Graph, node: Node, k: number): number {
  const input = node.inputs[k]!;
  switch (node.op) {
    case "matmul": {
      const b = g.shape(node.inputs[1]!);
      return k === 0 ? (b.length === 1 ? 1 : b[1]!) : g.shape(node.inputs[0]!)[0]!;
    }
    case "outer":
      return g.shape(node.inputs[1 - k]!)[0]!;
    case "broadcast":
      return numel(node.shape);
    default:
      if (WINDOWED.has(node.op)) return 2;
      return OPS[node.op].kind === "elementwise" && g.shape(input).length === 0 ? numel(node.shape) : 1;
  }
}

/** Values the user named (an equation, a layer) and their adjoints are kept as named locals, so
 * the emitted code reads like the derivation: one block per statement. */
function isNamed(node: Node): boolean {
  if (node.name === null || node.origin === null) return false;
  if (!node.backward) return node.name === node.origin.defines;
  return node.name === `d${node.origin.defines}`;
}
