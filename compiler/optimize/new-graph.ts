/**
 * The graph factory that puts the rewrite rules into Graph.add. It lives here, above ir/, so that
 * ir/ imports nothing above it: the IR knows a graph may have a rewriter, not which one.
 */
import { Graph } from "../ir/graph.js";
import { shapeOf } from "../ir/ops.js";
import { rewrite } from "./rules.js";

/** A graph that simplifies as it is built (the normal case). */
export function newGraph(options: { simplify?: boolean } = {}): Graph {
  return new Graph(shapeOf, options.simplify === false ? null : rewrite);
}
