/**
 * Which parameters a step reads: those its expressions reach through inlined nodes (a stored node
 * is read from its storage, whatever it was computed from). The update pass orders and checks the
 * in-place updates with it; with the updated parameters, it says which parameter arrays a
 * function binds (Schedule.usedParams).
 */
import type { Graph, NodeId } from "../ir/graph.js";
import type { Updated } from "./facts.js";
import type { Step, Storage } from "./types.js";

export function paramsReadBy(g: Graph, storage: ReadonlyMap<NodeId, Storage>, step: Step): Set<string> {
  return paramsRead(g, storage, rootsOf(g, step));
}

/** The parameters the expressions of `roots` read: a walk through the nodes that are not stored. */
export function paramsRead(g: Graph, storage: ReadonlyMap<NodeId, Storage>, roots: readonly NodeId[], leaf: "param" | "direction" = "param"): Set<string> {
  const found = new Set<string>();
  const seen = new Set<NodeId>();
  const todo = [...roots];
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (seen.has(id) || storage.has(id)) continue;
    seen.add(id);
    const node = g.node(id);
    if (node.op === leaf) found.add(node.ref);
    else todo.push(...node.inputs);
  }
  return found;
}

/** the expressions a step evaluates */
function rootsOf(g: Graph, step: Step): readonly NodeId[] {
  switch (step.kind) {
    case "stage":
      return [];
    case "node":
    case "logsumexp":
      return g.node(step.node).inputs;
    case "dense": {
      // the kernel reads W and b; x is in its buffer
      const { weight, bias } = step;
      return g.nodes.filter((n) => n.op === "param" && (n.ref === weight || n.ref === bias)).map((n) => n.id);
    }
    case "conv": {
      // the kernels read W and b; the images are in their buffers
      const { weight, bias } = step;
      return step.pass === "weight" ? [] : g.nodes.filter((n) => n.op === "param" && (n.ref === weight || n.ref === bias)).map((n) => n.id);
    }
    case "sweep":
      return step.back === null ? [step.delta, step.b] : [step.delta, step.b, step.back.weight];
    case "sink":
    case "update":
      return [step.sink.node];
    case "return":
      return [step.node];
  }
}

/** The parameters whose direction (a Hessian-vector product's v) the steps read, in spec.params order. */
export function directionsUsed(f: Updated): string[] {
  const used = new Set<string>();
  for (const step of f.steps) for (const p of paramsRead(f.graph, f.storage, rootsOf(f.graph, step), "direction")) used.add(p);
  return f.spec.params.map((p) => p.name).filter((p) => used.has(p));
}

/** The parameters the steps read or update in place, in spec.params order. */
export function paramsUsed(f: Updated): string[] {
  const used = new Set(f.inPlace);
  for (const step of f.steps) for (const p of paramsReadBy(f.graph, f.storage, step)) used.add(p);
  return f.spec.params.map((p) => p.name).filter((p) => used.has(p));
}
