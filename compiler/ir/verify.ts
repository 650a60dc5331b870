/**
 * The IR verifier: checks the invariants every pass relies on, and reports a broken node with a
 * window of the graph around it. A failure is a compiler bug, never the user's mistake.
 *  - inputs exist and come before their user (creation order is a topological order);
 *  - leaves have no inputs, element-wise ops their arity;
 *  - every shape equals what the op's shape rule computes from the inputs.
 */
import type { Graph } from "./graph.js";
import { OPS, shapeOf } from "./ops.js";
import { printNode } from "./print.js";
import { sameShape } from "./shape.js";

export function verify(g: Graph): string[] {
  const problems: string[] = [];
  const report = (id: number, what: string) => {
    const window = [];
    for (let k = Math.max(0, id - 2); k <= Math.min(g.nodes.length - 1, id + 2); k++) window.push(`${k === id ? "→" : " "} ${printNode(g, k)}`);
    problems.push(`%${id}: ${what}\n${window.join("\n")}`);
  };
  for (const n of g.nodes) {
    const def = OPS[n.op];
    if (n.inputs.some((i) => !(i >= 0 && i < n.id))) {
      report(n.id, "an input does not come before its user");
      continue;
    }
    if (def.kind === "leaf" && n.inputs.length > 0) report(n.id, "a leaf with inputs");
    if (def.kind === "elementwise" && n.inputs.length !== def.arity) report(n.id, `${n.op} takes ${def.arity} inputs, has ${n.inputs.length}`);
    let expected;
    try {
      expected = shapeOf(g, n.op, n.inputs, { at: n.at, shape: n.shape });
    } catch (e) {
      report(n.id, `shape rule failed: ${(e as Error).message}`);
      continue;
    }
    if (!sameShape(expected, n.shape)) report(n.id, `shape [${n.shape}] but the op gives [${expected}]`);
  }
  return problems;
}

/** Throws (an internal error) when the graph is broken. */
export function assertValid(g: Graph, stage: string): void {
  const problems = verify(g);
  if (problems.length > 0) throw new Error(`IR verification failed after ${stage}:\n${problems.join("\n")}`);
}
