/**
 * Pass 3, sweeps: a dense layer's looped backward, ∂W += outer(δ, b) and Wᵀδ, as one pass over the
 * rows of W (types.ts SweepStep): each row of W and ∂W is read once, contiguously, instead of once
 * by rows and once by columns, and rows whose δᵢ is exactly 0 (the inactive units of a ReLU layer)
 * are skipped. Every accumulate sink `outer(δ, b)` in loop mode becomes a sweep; when the graph also
 * computes Wᵀδ (`matmul(transpose(W), δ)`), that node is stored, in loop mode, and filled by the
 * sweep at its own place (a sink that reads it then reads it from storage: its mode is asked again).
 */
import type { NodeId } from "../ir/graph.js";
import type { Sink } from "../plan/sinks.js";
import type { Moded, Sweep, Swept } from "./facts.js";
import { sinkModes } from "./mode.js";

export function findSweeps(f: Moded): Swept {
  const g = f.graph;
  const stored = new Set(f.stored);
  const unrolled = new Map(f.unrolled);
  const sweeps = new Map<NodeId, Sweep>();
  const swept = new Set<Sink>();
  for (const s of f.spec.sinks) {
    if (s.kind !== "accumulate" || f.sinkUnrolled.get(s)! || stored.has(s.node)) continue;
    const outer = g.node(s.node);
    if (outer.op !== "outer") continue;
    const [delta, b] = outer.inputs as [NodeId, NodeId];
    const back = f.reach.find((id) => {
      const m = g.node(id);
      if (m.op !== "matmul" || m.inputs[1] !== delta || id < b) return false;
      const t = g.node(m.inputs[0]!);
      if (t.op !== "transpose") return false;
      const w = g.node(t.inputs[0]!);
      return w.op === "param" && w.ref === s.param;
    });
    swept.add(s);
    if (back === undefined) {
      sweeps.set(s.node, { sink: s, delta, b, back: null, weight: null });
      continue;
    }
    stored.add(back);
    unrolled.set(back, false);
    sweeps.set(back, { sink: s, delta, b, back, weight: g.node(g.node(back).inputs[0]!).inputs[0]! });
  }
  return { ...f, stored, unrolled, sinkUnrolled: sinkModes({ ...f, stored }), sweeps, swept };
}
