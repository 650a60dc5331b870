/**
 * Which `const`s of a model are regularization weights, for `nnc tune` (docs/training.md, "Tuning").
 *
 * The rule: a const is a regularization weight when the loss uses it only in parameter-only terms
 * (the terms compiler/plan/split-loss.ts computes once per batch: weight decay). It is found by
 * trying it: the model is elaborated with the const set to two unusual probe values, the loss split
 * into its sample-dependent and parameter-only parts each time, and the const qualifies when the
 * sample part is the same expression both times and the parameter-only part is not. A const that
 * also shapes a layer, scales a data term, sets a dropout rate or only an initializer does not.
 * Constants are folded into the graph (λ·0.5 is one number), so the test compares the expressions
 * rather than looking for the const's node.
 */
import type { Graph, NodeId } from "../../compiler/ir/graph.js";
import { check } from "../../compiler/pipeline.js";
import { splitLoss } from "../../compiler/plan/split-loss.js";

/** Unlikely to equal any other number of a model, and not an integer (a dimension refuses them). */
const PROBES = [0.012345678901, 0.023456789012] as const;

/** The expression rooted at `root` as text, nodes numbered in the order a depth-first walk meets them (not by id). */
export function canonical(g: Graph, root: NodeId): string {
  const index = new Map<NodeId, number>();
  const lines: string[] = [];
  const stack: { id: NodeId; expanded: boolean }[] = [{ id: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (index.has(top.id)) continue;
    const n = g.node(top.id);
    if (!top.expanded) {
      stack.push({ id: top.id, expanded: true });
      for (let k = n.inputs.length - 1; k >= 0; k--) if (!index.has(n.inputs[k]!)) stack.push({ id: n.inputs[k]!, expanded: false });
      continue;
    }
    index.set(top.id, lines.length);
    const ref = n.op === "dropout_mask" ? "" : n.ref;
    lines.push(`${n.op}(${n.inputs.map((i) => index.get(i)).join(",")}) ${n.num} ${ref} [${n.at.join(",")}] [${n.shape.join(",")}]`);
  }
  return lines.join("\n");
}

/** The loss's two parts as text with `name` set to `value`; null when the model does not check then. */
function parts(source: string, file: string, set: Readonly<Record<string, number>>, name: string, value: number): { sample: string; paramOnly: string } | null {
  const { model } = check(source, { file, set: { ...set, [name]: value } });
  if (model === null) return null;
  const split = splitLoss(model.graph, model.loss);
  return { sample: canonical(model.graph, split.sample), paramOnly: split.paramOnly === null ? "" : canonical(model.graph, split.paramOnly) };
}

/** The regularization weights among the model's consts (with `set` applied), in declaration order, with their values. */
export function regularizationConsts(source: string, file: string, consts: Readonly<Record<string, number>>, set: Readonly<Record<string, number>>): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [name, value] of Object.entries(consts)) {
    const [a, b] = PROBES.map((p) => parts(source, file, set, name, p));
    if (a && b && a.sample === b.sample && a.paramOnly !== b.paramOnly) found[name] = value;
  }
  return found;
}
