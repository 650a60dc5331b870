/**
 * `nnc explain`: the backward equations the compiler derived, in the notation of the lecture
 * notes, statement by statement from the loss down. Values the user named print as their names,
 * adjoints as ∂L/∂name; everything else is written out inline. It prints what the plan derived
 * (Plan.explained: the loss as written, in inference mode); it derives nothing itself.
 */
import type { Graph, NodeId } from "./ir/graph.js";
import { printGraph } from "./ir/print.js";
import { showShape } from "./ir/shape.js";
import type { Plan } from "./plan/plan.js";
import type { Model } from "./semantics/model.js";

/** The IR of the per-sample loss and its gradient, in text form. */
export function explainIr(model: Model, plan: Plan): string {
  const { graph: g, loss, grads, outputs } = plan.explained;
  const roots = model.params.map((p, k) => `#   ∂L/∂${p.name} = %${grads[k]}`).join("\n");
  return `# IR of ${model.name}: the loss is %${loss}\n${roots}\n${printGraph(g, [loss, ...grads, ...outputs])}`;
}

export function explain(model: Model, plan: Plan): string {
  const { graph: g, grads, firstBackward } = plan.explained;
  const out: string[] = [];
  out.push(`Model ${model.name}: backward pass, from the loss down (L is the per-sample loss).`);
  out.push("");
  // adjoints of named forward values, grouped by the statement they come from, last statement first
  const printer = new MathPrinter(g, firstBackward);
  const groups = new Map<number, string[]>();
  const headers = new Map<number, string>();
  for (let id = firstBackward; id < g.nodes.length; id++) {
    const n = g.node(id);
    if (n.name === null || !n.name.startsWith("d") || n.origin === null) continue;
    const of = n.name.slice(1);
    if (!printer.forwardNames.has(of)) continue;
    const line = n.origin.line;
    headers.set(line, `line ${line}: ${n.origin.text}`);
    const list = groups.get(line) ?? [];
    list.push(`  ∂L/∂${of} = ${printer.expr(id, true)}`);
    groups.set(line, list);
  }
  for (const line of [...groups.keys()].sort((a, b) => b - a)) {
    out.push(headers.get(line)!);
    out.push(...groups.get(line)!);
    out.push("");
  }
  out.push("parameter gradients (a parameter used several times gets the sum over its uses):");
  model.params.forEach((p, k) => {
    const named = printer.expr(grads[k]!);
    const text = named === `∂L/∂${p.name}` ? printer.expr(grads[k]!, true) : named;
    out.push(`  ∂L/∂${p.name} = ${text}    ${showShape(p.shape)}`);
  });
  out.push("");
  out.push("⊙ is the element-wise product, ᵀ the transpose, 𝟙[·] an indicator; σ′ = σ(1 − σ) and tanh′ = 1 − tanh² appear");
  out.push("as products of the forward values the emitted code keeps.");
  return out.join("\n") + "\n";
}

class MathPrinter {
  readonly forwardNames = new Set<string>();
  constructor(
    readonly g: Graph,
    readonly firstBackward: number,
  ) {
    for (let id = 0; id < firstBackward; id++) {
      const n = g.node(id);
      if (n.name !== null) this.forwardNames.add(n.name);
    }
  }

  /** A node as math; `top` expands a named node instead of printing its name. */
  expr(id: NodeId, top = false): string {
    const g = this.g;
    const n = g.node(id);
    if (!top && n.name !== null) {
      if (id >= this.firstBackward && n.name.startsWith("d") && this.forwardNames.has(n.name.slice(1))) return `∂L/∂${n.name.slice(1)}`;
      if (id < this.firstBackward) return n.name;
    }
    const a = (k: number) => this.wrap(n.inputs[k]!);
    switch (n.op) {
      case "const":
        return String(n.num);
      case "input":
      case "target":
      case "param":
        return n.ref;
      case "neg":
        return `−${a(0)}`;
      case "add":
        return `${this.expr(n.inputs[0]!)} + ${this.expr(n.inputs[1]!)}`;
      case "sub":
        return `${this.expr(n.inputs[0]!)} − ${a(1)}`;
      case "mul":
        return [0, 1].some((k) => g.shape(n.inputs[k]!).length === 0 || g.isConst(n.inputs[k]!)) ? `${a(0)}·${a(1)}` : `${a(0)} ⊙ ${a(1)}`;
      case "div":
        return `${a(0)} / ${a(1)}`;
      case "pow":
        return `${a(0)}^${n.num}`;
      case "matmul":
        return `${a(0)} ${a(1)}`;
      case "transpose":
        return `${a(0)}ᵀ`;
      case "outer":
        return `${a(0)} ${a(1)}ᵀ`;
      case "sum":
        return `Σ ${a(0)}`;
      case "broadcast":
        return `${a(0)}·𝟙`;
      case "index":
        return `${a(0)}[${n.at.join(", ")}]`;
      case "unindex":
        return `e[${n.at.join(", ")}]·${a(0)}`;
      case "gt_select":
        return `𝟙[${this.expr(n.inputs[0]!)} > ${this.expr(n.inputs[1]!)}] ${this.selected(n.inputs[2]!, n.inputs[3]!)}`;
      case "ge_select":
        return `𝟙[${this.expr(n.inputs[0]!)} ≥ ${this.expr(n.inputs[1]!)}] ${this.selected(n.inputs[2]!, n.inputs[3]!)}`;
      case "sigmoid":
        return `σ(${this.expr(n.inputs[0]!)})`;
      case "leaky_relu":
      case "elu":
        return `${n.op}(${this.expr(n.inputs[0]!)}, ${n.num})`;
      default:
        return `${n.op}(${n.inputs.map((i) => this.expr(i)).join(", ")})`;
    }
  }

  selected(x: NodeId, y: NodeId): string {
    if (this.g.isConst(y, 0)) return `⊙ ${this.wrap(x)}`;
    if (this.g.isConst(x, 0)) return `(else ${this.expr(y)})`;
    return `? ${this.wrap(x)} : ${this.wrap(y)}`;
  }

  wrap(id: NodeId): string {
    const s = this.expr(id);
    return /^[\p{L}\p{N}_.∂/\[\], ·ᵀ]*$/u.test(s) && !/[ ]/.test(s) ? s : `(${s})`;
  }
}
