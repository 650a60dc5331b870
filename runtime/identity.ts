/**
 * A model's identity for checkpoints: the SHA-256 of a canonical print of what the model computes —
 * its inputs, targets, parameters and outputs with their shapes, and every operation of its graph
 * that the loss and the outputs reach (operation, operands, constants, shape). A checkpoint records
 * it, and resuming refuses a checkpoint of another graph that happens to have the same parameter
 * names and shapes (tanh changed to relu, a --set constant, another loss).
 *
 * Not included, so that resuming stays possible across them: the train block (resuming with more
 * epochs is the point), comments and layout of the source, initializers (the weights come from
 * the checkpoint), the target, precision and unroll threshold (how the same function is emitted),
 * and source line numbers. The graph is the elaborated one, before code generation.
 */
import { reachable } from "../compiler/ir/walk.js";
import type { Model } from "../compiler/semantics/model.js";
import { sha256Hex } from "./sha256.js";

export function canonicalGraph(model: Model): string {
  const g = model.graph;
  const need = reachable(g, [model.loss, ...model.outputs.map((o) => o.node)]);
  // reachable nodes renumbered densely in creation (topological) order: ids of unrelated nodes do not matter
  const index = new Map<number, number>();
  const lines: string[] = [];
  const shape = (s: readonly number[]) => `[${s.join(",")}]`;
  for (const t of model.inputs) lines.push(`input ${JSON.stringify(t.name)} ${shape(t.shape)}`);
  for (const t of model.targets) lines.push(`target ${JSON.stringify(t.name)} ${shape(t.shape)}`);
  for (const t of model.params) lines.push(`param ${JSON.stringify(t.name)} ${shape(t.shape)}`);
  for (let id = 0; id < g.nodes.length; id++) {
    if (!need[id]) continue;
    const n = g.node(id);
    index.set(id, index.size);
    const args = n.inputs.map((i) => `%${index.get(i)}`).join(" ");
    lines.push(`%${index.get(id)} = ${n.op}(${args}) num=${n.num} ref=${JSON.stringify(n.ref)} at=${shape(n.at)} : ${shape(n.shape)}`);
  }
  for (const o of model.outputs) lines.push(`output ${JSON.stringify(o.name)} = %${index.get(o.node)}`);
  lines.push(`loss = %${index.get(model.loss)}`);
  return lines.join("\n") + "\n";
}

/** "sha256:" and the hash of canonicalGraph, as a weights file's `graph` field holds it. */
export function modelIdentity(model: Model): string {
  return `sha256:${sha256Hex(canonicalGraph(model))}`;
}
