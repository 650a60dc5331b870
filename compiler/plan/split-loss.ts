/**
 * Splits the loss into the terms that depend on the sample (inputs, targets, dropout) and the
 * terms that depend on parameters only (weight decay). The batch objective is the mean over the
 * batch of the loss, so a parameter-only term counts once per batch: the batch functions compute
 * the sample part per sample and the parameter part once.
 * Terms are collected through +, −, unary minus and multiplication by a constant.
 */
import type { Graph, NodeId } from "../ir/graph.js";

export interface SplitLoss {
  readonly sample: NodeId;
  /** null when every term depends on the sample */
  readonly paramOnly: NodeId | null;
}

export function splitLoss(g: Graph, loss: NodeId): SplitLoss {
  const sampleDep = new Uint8Array(g.nodes.length);
  for (const n of g.nodes) {
    if (n.op === "input" || n.op === "target" || n.op === "dropout" || n.op === "dropout_mask") sampleDep[n.id] = 1;
    else if (n.inputs.some((i) => sampleDep[i])) sampleDep[n.id] = 1;
  }
  const terms: { coef: number; node: NodeId }[] = [];
  // depth first, left before right, with an explicit stack: a 5000-term loss line is a chain
  // 5000 nodes deep
  const stack: { coef: number; node: NodeId }[] = [{ coef: 1, node: loss }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { coef, node: id } = top;
    const n = g.node(id);
    const [a, b] = n.inputs;
    if (n.op === "add") stack.push({ coef, node: b! }, { coef, node: a! });
    else if (n.op === "sub") stack.push({ coef: -coef, node: b! }, { coef, node: a! });
    else if (n.op === "neg") stack.push({ coef: -coef, node: a! });
    else if (n.op === "mul" && g.isConst(a!) && g.shape(a!).length === 0) stack.push({ coef: coef * g.node(a!).num, node: b! });
    else if (n.op === "mul" && g.isConst(b!) && g.shape(b!).length === 0) stack.push({ coef: coef * g.node(b!).num, node: a! });
    else terms.push({ coef, node: id });
  }
  const sum = (ts: typeof terms): NodeId | null => {
    let acc: NodeId | null = null;
    for (const t of ts) {
      const scaled = g.add("mul", [g.c(t.coef), t.node]);
      acc = acc === null ? scaled : g.add("add", [acc, scaled]);
    }
    return acc;
  };
  const sampleTerms = terms.filter((t) => sampleDep[t.node]);
  const paramTerms = terms.filter((t) => !sampleDep[t.node] && !g.isConst(t.node, 0));
  if (paramTerms.length === 0) return { sample: loss, paramOnly: null };
  return { sample: sum(sampleTerms) ?? g.c(0), paramOnly: sum(paramTerms) };
}
