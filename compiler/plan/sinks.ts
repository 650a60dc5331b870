/**
 * What a planned function produces from its graph: the value it returns (the loss), the gradients
 * it accumulates into `grad` (or, in update mode, applies to the parameters), and the outputs it
 * writes. The middle end (plan) decides the sinks; the scheduler and the printers consume them.
 */
import type { NodeId } from "../ir/graph.js";

export type Sink =
  | { readonly kind: "return"; readonly node: NodeId }
  | { readonly kind: "accumulate"; readonly node: NodeId; readonly param: string }
  | { readonly kind: "output"; readonly node: NodeId; readonly name: string };

export type AccumulateSink = Extract<Sink, { kind: "accumulate" }>;
