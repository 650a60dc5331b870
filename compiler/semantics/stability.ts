/**
 * Warnings for numerically unstable patterns the rewrite rules cannot turn into a stable form:
 * a softmax or sigmoid written out by hand. (softmax, log_softmax, log(softmax), log(sigmoid),
 * log(1 − sigmoid), cross-entropy of a softmax and binary cross-entropy of a sigmoid are all
 * rewritten; see optimize/rules.ts.) The warning points at the .nn line.
 */
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import { LineMap } from "../diagnostics/span.js";
import type { Graph, Node, NodeId } from "../ir/graph.js";
import type { Model } from "./model.js";

export function warnUnstable(model: Model, source: string, diags: Diagnostics): void {
  const g = model.graph;
  const lines = new LineMap(source);
  const warned = new Set<number>();
  const warn = (n: Node, what: string, instead: string) => {
    if (n.origin === null || warned.has(n.origin.line)) return;
    warned.add(n.origin.line);
    diags.warning("NN3101", lines.lineSpan(n.origin.line), what, instead);
  };
  for (const n of g.nodes) {
    if (isManualSoftmax(g, n)) warn(n, "exp(a) / sum(exp(a))", "softmax(a), or log_softmax(a) under a log");
    else if (isManualSigmoid(g, n)) warn(n, "1 / (1 + exp(-a))", "sigmoid(a)");
  }
}

const op = (g: Graph, id: NodeId | undefined) => (id === undefined ? null : g.node(id).op);

/** exp(a) / Σ exp(a) (also with a broadcast sum) */
function isManualSoftmax(g: Graph, n: Node): boolean {
  if (n.op !== "div") return false;
  const [num, den] = n.inputs;
  if (op(g, num) !== "exp") return false;
  let d = den!;
  if (op(g, d) === "broadcast") d = g.node(d).inputs[0]!;
  return op(g, d) === "sum" && g.node(g.node(d).inputs[0]!).op === "exp" && g.node(g.node(d).inputs[0]!).inputs[0] === g.node(num!).inputs[0];
}

/** 1 / (1 + exp(−a)) */
function isManualSigmoid(g: Graph, n: Node): boolean {
  if (n.op !== "div" || !g.isConst(n.inputs[0]!, 1)) return false;
  const d = g.node(n.inputs[1]!);
  return d.op === "add" && d.inputs.some((i) => g.isConst(i, 1)) && d.inputs.some((i) => op(g, i) === "exp");
}
