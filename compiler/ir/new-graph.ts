import { Graph } from "./graph.js";
import { shapeOf } from "./ops.js";
import { rewrite } from "../optimize/rules.js";

/** A graph that simplifies as it is built (the normal case). */
export function newGraph(options: { simplify?: boolean } = {}): Graph {
  return new Graph(shapeOf, options.simplify === false ? null : rewrite);
}
