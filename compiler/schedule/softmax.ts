/**
 * Pass 6, softmax from log-sum-exp: a stored softmax exp(z − lse) whose lse = logsumexp(z) is
 * stored too, in the same mode and lane layout, is computed by the log-sum-exp's step from the
 * exponentials it sums: zᵢ − lse = zᵢ − max − log Σ, so softmaxᵢ = exp(zᵢ − max) / Σ, with no
 * second call of exp (types.ts LogSumExpStep). In loop mode the softmax must be a buffer, which
 * the exponentials are written to before the division.
 */
import type { NodeId } from "../ir/graph.js";
import type { Fused, Stored } from "./facts.js";

export function fuseSoftmax(f: Stored): Fused {
  const g = f.graph;
  const softmaxOf = new Map<NodeId, NodeId>();
  for (const id of f.stored) {
    const e = g.node(id);
    if (e.op !== "exp" || f.sweeps.has(id)) continue;
    const d = g.node(e.inputs[0]!);
    if (d.op !== "sub") continue;
    const [z, lse] = d.inputs as [NodeId, NodeId];
    const l = g.node(lse);
    if (l.op !== "logsumexp" || l.inputs[0] !== z || !f.stored.has(lse) || g.shape(z).length !== 1) continue;
    const sameMode = f.unrolled.get(id) === f.unrolled.get(lse) && f.perSample[id] === f.perSample[lse];
    if (!sameMode || softmaxOf.has(lse) || (!f.unrolled.get(lse) && f.storage.get(id)!.kind !== "buffer")) continue;
    softmaxOf.set(lse, id);
  }
  return { ...f, softmaxOf };
}
