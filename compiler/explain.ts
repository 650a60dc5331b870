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

/** The IR of the per-sample loss, its gradient and its Hessian-vector product (`--ir --hessian`). */
export function explainHessianIr(model: Model, plan: Plan): string {
  const { graph: g, loss, grads, hv } = plan.hessian;
  const roots = model.params.map((p, k) => `#   ∂L/∂${p.name} = %${grads[k]}\n#   (H·v)_${p.name} = %${hv[k]}`).join("\n");
  return `# IR of ${model.name}: the loss is %${loss}; v_θ (direction) is the direction of H·v\n${roots}\n${printGraph(g, [loss, ...grads, ...hv])}`;
}

/**
 * `nnc explain --hessian`: the second derivative the compiler derived, forward-over-reverse — the
 * tangent along v of every named value of the forward pass, then of every adjoint of the
 * backward pass, then each parameter's part of H·v (plan/derivations.ts, deriveHessian).
 */
export function explainHessian(model: Model, plan: Plan): string {
  const { forward, backward, params } = plan.hessianDerivations;
  const out: string[] = [];
  out.push(`Model ${model.name}: Hessian-vector product H·v of the per-sample loss L, forward-over-reverse.`);
  out.push("R{x} = ∂x(θ + εv)/∂ε at ε = 0 is the tangent of x along the direction v (v_W: the part of v for W);");
  out.push("H·v = R{∂L/∂θ}, the tangent of the gradient. Names are the values of `nnc explain`.");
  out.push("");
  const block = (title: string, lines: ReadonlyMap<number, { readonly text: string; readonly equations: readonly string[] }>, order: 1 | -1) => {
    out.push(title);
    out.push("");
    for (const line of [...lines.keys()].sort((a, b) => order * (a - b))) {
      const s = lines.get(line)!;
      out.push(`line ${line}: ${s.text}`);
      out.push(...s.equations.map((e) => `  ${e}`));
      out.push("");
    }
  };
  block("tangent of the forward pass, from the inputs up:", forward, 1);
  block("tangent of the backward pass, from the loss down:", backward, -1);
  out.push("Hessian-vector product, per parameter:");
  for (const p of params) out.push(`  ${p.equation}    ${showShape(p.shape)}`);
  out.push("");
  out.push("Kinks (relu, abs, max, min, the selects 𝟙[·]) have second derivative 0 away from the kink: their tangent");
  out.push("is the selected piece's. Dropout is off: H·v is of the inference-mode loss.");
  return out.join("\n") + "\n";
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
