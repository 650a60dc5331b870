/**
 * `nnc explain`: the backward equations the compiler derived, in the notation of the lecture
 * notes, statement by statement from the loss down. It prints what the plan derived
 * (Plan.derivations, made by plan/derivations.ts from the loss as written, in inference mode: the
 * same text the emitted code carries above its backward blocks); it derives nothing itself.
 */
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
  const { statements, params } = plan.derivations;
  const out: string[] = [];
  out.push(`Model ${model.name}: backward pass, from the loss down (L is the per-sample loss).`);
  out.push("");
  // adjoints of named forward values, grouped by the statement they come from, last statement first
  for (const line of [...statements.keys()].sort((a, b) => b - a)) {
    const s = statements.get(line)!;
    out.push(`line ${line}: ${s.text}`);
    out.push(...s.equations.map((e) => `  ${e}`));
    out.push("");
  }
  out.push("parameter gradients (a parameter used several times gets the sum over its uses):");
  for (const p of params) out.push(`  ${p.equation}    ${showShape(p.shape)}`);
  out.push("");
  out.push("⊙ is the element-wise product, ᵀ the transpose, 𝟙[·] an indicator; σ′ = σ(1 − σ) and tanh′ = 1 − tanh² appear");
  out.push("as products of the forward values the emitted code keeps.");
  return out.join("\n") + "\n";
}
