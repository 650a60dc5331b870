/**
 * The middle end as a stage of its own (compiler/plan/plan.ts): it leaves the model as elaboration
 * made it, it is deterministic, the verifier stops a broken graph at the step that has it, and the
 * derivation it prints (plan/derivations.ts) stays readable.
 */
import { describe, expect, it } from "vitest";
import { emitModule } from "../../compiler/codegen/emit-module.js";
import { explain } from "../../compiler/explain.js";
import type { Graph } from "../../compiler/ir/graph.js";
import { printNode } from "../../compiler/ir/print.js";
import { MAX_EQUATION } from "../../compiler/plan/derivations.js";
import { check, plan, VERSION } from "../../compiler/pipeline.js";
import type { Model } from "../../compiler/semantics/model.js";
import { validModels } from "../helpers/corpus.js";

const OPTIONS = { file: "model.nn", unroll: 64, version: VERSION };

function model(source: string): Model {
  const { diagnostics, model } = check(source, { file: "model.nn" });
  expect(diagnostics.hasErrors).toBe(false);
  return model!;
}

/** Every node, one a line, with its name, origin and direction. */
function printed(g: Graph): string {
  return g.nodes.map((n) => `${printNode(g, n.id)}  ${JSON.stringify(n.origin)}`).join("\n");
}

describe("plan", () => {
  for (const entry of validModels())
    it(`leaves the model unchanged and plans the same module twice: ${entry.path}`, () => {
      const m = model(entry.source);
      const before = { count: m.graph.nodes.length, text: printed(m.graph), nodes: structuredClone(m.graph.nodes) };
      const first = plan(m);
      expect(m.graph.nodes.length).toBe(before.count);
      expect(printed(m.graph)).toBe(before.text);
      expect(m.graph.nodes).toEqual(before.nodes);
      const second = plan(m);
      const emitted = emitModule(m, first, OPTIONS);
      expect(emitModule(m, second, OPTIONS)).toBe(emitted);
      // emission does not change the plan either
      expect(emitModule(m, first, OPTIONS)).toBe(emitted);
      expect(m.graph.nodes).toEqual(before.nodes);
    });

  it("gives each function a graph of its own, not the model's", () => {
    const m = model("input x[2]\ntarget t\nparam w[2]\nloss (dot(w, x) - t)^2 + 0.1 * sumsq(w)\n");
    const p = plan(m);
    expect(p.hasRegularizer).toBe(true);
    expect(p.regularized).toEqual(["w"]);
    for (const f of p.functions) expect(f.graph).not.toBe(m.graph);
    expect(p.functions.map((f) => f.name)).toEqual([
      "samplePredict", "sampleLoss", "sampleGradient", "sampleEvaluate", "regularizerLoss", "regularizerGradient", "sampleSgdStep",
      "sampleHessianVector", "regularizerHessianVector",
    ]);
    // the Hessian-vector products' graph is a copy of the inference graph, which stays as it was
    const [infer, hessian] = ["sampleGradient", "sampleHessianVector"].map((n) => p.functions.find((f) => f.name === n)!.graph);
    expect(hessian).not.toBe(infer);
    expect(infer!.nodes.some((n) => n.tangent || n.op === "direction")).toBe(false);
    expect(hessian!.nodes.some((n) => n.op === "direction")).toBe(true);
  });

  it("keeps the loss as written, parameter-only terms included, for explain", () => {
    const m = model("input x[2]\ntarget t\nparam w[2]\nloss (dot(w, x) - t)^2 + 0.1 * sumsq(w)\n");
    const p = plan(m);
    expect(p.explained.graph).not.toBe(m.graph);
    for (const f of p.functions) expect(p.explained.graph).not.toBe(f.graph);
    expect(explain(m, p)).toContain("  ∂L/∂w = 0.2·w + ((2·(Σ (w ⊙ x) − t))·𝟙) ⊙ x    [2]\n");
  });

  it("prints an equation too long to read as a note (a 2000-factor product overflowed the stack)", () => {
    const m = model(`input x\nparam w\nloss x * ${Array(2000).fill("w").join(" * ")}\n`);
    const note = `∂L/∂w = (an expression of more than ${MAX_EQUATION} characters: nnc explain --ir shows it as a graph)`;
    expect(explain(m, plan(m))).toBe(
      ["Model model: backward pass, from the loss down (L is the per-sample loss).", "", "line 2: param w", `  ${note}`, "",
        "parameter gradients (a parameter used several times gets the sum over its uses):", `  ${note}    scalar`, ""].join("\n") +
        "\n⊙ is the element-wise product, ᵀ the transpose, 𝟙[·] an indicator; σ′ = σ(1 − σ) and tanh′ = 1 − tanh² appear\nas products of the forward values the emitted code keeps.\n",
    );
  });

  it("reports a broken graph after the step that made it, naming the step", () => {
    const m = model("input x[2]\ntarget t\nparam w[2]\nloss (dot(w, x) - t)^2\n");
    // a model whose graph holds exp with two inputs: specialization copies it, and its verifier
    // reports it before differentiation ever sees it
    const g = m.graph.copy();
    const broken = g.raw("exp", [m.loss, m.loss]);
    const loss = g.add("add", [m.loss, broken]);
    expect(() => plan({ ...m, graph: g, loss })).toThrow(/IR verification failed after specialization \(inference mode\):\n%\d+: exp takes 1 inputs, has 2/);
  });
});
