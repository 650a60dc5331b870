/**
 * The IR's text form, one node a line, for `nnc explain --ir` and for reading tests:
 *
 *   %3 = matmul %0, %2 : [4]                  h_z      xor.nn:4
 *   %9 = gt_select %5, %6, %8, %6 : [4]       ← backward
 */
import type { Graph, NodeId } from "./graph.js";
import { showShape } from "./shape.js";
import { reachable } from "./walk.js";

export function printNode(g: Graph, id: NodeId): string {
  const n = g.node(id);
  const attrs: string[] = [];
  if (n.op === "const" || n.op === "pow" || n.op === "leaky_relu" || n.op === "elu" || n.op === "dropout" || n.op === "dropout_mask") attrs.push(String(n.num));
  if (n.ref !== "" && n.op !== "dropout_mask") attrs.push(JSON.stringify(n.ref));
  if (n.at.length > 0) attrs.push(`at [${n.at.join(", ")}]`);
  const args = [...n.inputs.map((i) => `%${i}`), ...attrs].join(", ");
  const head = `%${id} = ${n.op}${args ? " " + args : ""} : ${showShape(n.shape)}`;
  const notes = [n.name ?? "", n.origin ? `line ${n.origin.line}` : "", n.backward ? "backward" : "", n.tangent ? "tangent" : ""].filter((x) => x !== "");
  return notes.length > 0 ? `${head.padEnd(48)} # ${notes.join("  ")}` : head;
}

/** The nodes the roots reach, in order. */
export function printGraph(g: Graph, roots: readonly NodeId[]): string {
  const need = reachable(g, roots);
  const lines: string[] = [];
  for (let id = 0; id < g.nodes.length; id++) if (need[id]) lines.push(printNode(g, id));
  return lines.join("\n") + "\n";
}
