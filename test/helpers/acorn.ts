/** Walking an acorn syntax tree: every node below `node`, depth first. */
import type * as acorn from "acorn";

export type AnyNode = acorn.Node & Record<string, unknown>;

export function* walk(node: unknown): Generator<AnyNode> {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const n of node) yield* walk(n);
    return;
  }
  const n = node as AnyNode;
  if (typeof n.type === "string") yield n;
  for (const [k, v] of Object.entries(n)) if (k !== "type" && k !== "start" && k !== "end") yield* walk(v);
}
