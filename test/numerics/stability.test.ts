/**
 * Numerics: where the mathematical loss and gradient are finite, the emitted ones are too —
 * huge logits, saturated sigmoids, log of a softmax or sigmoid the user wrote out, zero
 * probabilities under zero targets. Each case puts the model where a naive formula overflows.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";

async function load(source: string, file = "m.nn"): Promise<CompiledModule> {
  const r = await compile(source, { file });
  expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
  return loadModule(r.js!);
}

function allFinite(set: Record<string, Float64Array | Float32Array>): boolean {
  return Object.values(set).every((v) => v.every(Number.isFinite));
}

/** gradient at parameters all equal to `value`, one sample */
function at(mod: CompiledModule, value: number, inputs: Record<string, Float64Array | number>, targets: Record<string, Float64Array | number>) {
  const params = mod.createParams();
  for (const v of Object.values(params)) v.fill(value);
  const grad = mod.createParams();
  const loss = mod.gradient(params, inputs, targets, grad);
  return { loss, grad, finite: Number.isFinite(loss) && allFinite(grad) };
}

describe("stable forms keep finite values finite", () => {
  it("softmax + cross-entropy with logits of ±1e4", async () => {
    const mod = await load("input x[2]\ntarget t[3]\nparam W[3, 2]\ny = softmax(W @ x)\nloss cross_entropy(y, t)\n");
    const params = mod.createParams();
    params.W!.set([1e4, 0, -1e4, 0, 0, 1e4]);
    const grad = mod.createParams();
    const loss = mod.gradient(params, { x: Float64Array.of(1, 1) }, { t: Float64Array.of(0, 1, 0) }, grad);
    // logits 1e4, -1e4, 1e4: the target class is 2e4 below the best, so the loss is 2e4 + log 2
    expect(loss).toBeCloseTo(2e4 + Math.log(2), 6);
    expect(allFinite(grad)).toBe(true);
  });

  it("log(softmax(a)) written by the user is rewritten to a − logsumexp(a)", async () => {
    const mod = await load("input x[3]\ntarget t[3]\nparam s\np = softmax(s * x)\nloss -sum(t * log(p))\n");
    const r = at(mod, 1e4, { x: Float64Array.of(1, -1, 0) }, { t: Float64Array.of(0, 1, 0) });
    expect(r.finite).toBe(true);
    expect(r.loss).toBeCloseTo(2e4, 6);
  });

  it("sigmoid + binary cross-entropy saturated at ±1000", async () => {
    const mod = await load("input x\ntarget t\nparam w\ny = sigmoid(w * x)\nloss binary_cross_entropy(y, t)\n");
    for (const [x, t, expected] of [[1000, 0, 1e6], [-1000, 1, 1e6], [1000, 1, 0], [-1000, 0, 0]] as const) {
      const r = at(mod, 1000, { x }, { t });
      expect(r.finite).toBe(true);
      expect(r.loss).toBeCloseTo(expected, 3);
    }
  });

  it("log(sigmoid(a)) and log(1 − sigmoid(a)) written by the user", async () => {
    const mod = await load("input x\ntarget t\nparam w\ny = sigmoid(w * x)\nloss -(t * log(y) + (1 - t) * log(1 - y))\n");
    const r = at(mod, 1000, { x: 1 }, { t: 0 });
    expect(r.finite).toBe(true);
    expect(r.loss).toBeCloseTo(1000, 6); // softplus(1000)
    expect(r.grad.w![0]).toBeCloseTo(1, 6); // d/dw softplus(w x) = σ(wx)·x = 1
  });

  it("cross-entropy of probabilities with exact zeros under zero targets (0 · log 0 = 0)", async () => {
    const mod = await load("input x[3]\ntarget t[3]\nparam w[3]\np = relu(w * x) / sum(relu(w * x))\nloss cross_entropy(p, t)\n");
    const params = mod.createParams();
    params.w!.set([1, 1, 1]);
    const grad = mod.createParams();
    // p = (0.5, 0.5, 0): the third class has probability 0 and target 0
    const loss = mod.gradient(params, { x: Float64Array.of(1, 1, -1) }, { t: Float64Array.of(1, 0, 0) }, grad);
    expect(loss).toBeCloseTo(Math.log(2), 12);
    expect(allFinite(grad)).toBe(true);
  });

  it("binary cross-entropy of a probability that is exactly its target", async () => {
    const mod = await load("input x\ntarget t\nparam w\np = min(max(w * x, 0), 1)\nloss binary_cross_entropy(p, t)\n");
    for (const t of [0, 1]) {
      const r = at(mod, 1, { x: t }, { t });
      expect(Math.abs(r.loss)).toBe(0);
      expect(r.finite).toBe(true);
    }
  });

  it("logsumexp of huge values, and softplus far out on both sides", async () => {
    const mod = await load("input x[2]\ntarget t\nparam w\nloss logsumexp(w * x) + softplus(w * t) + softplus(-w * t)\n");
    const r = at(mod, 1e5, { x: Float64Array.of(1, 2) }, { t: 1 });
    expect(r.finite).toBe(true);
    expect(r.loss).toBeCloseTo(2e5 + 1e5, 3);
  });
});

describe("unstable patterns that cannot be rewritten are reported with their line", () => {
  it("warns about a softmax and a sigmoid written out by hand", async () => {
    const source = "input x[3]\ntarget t[3]\nparam w[3]\np = exp(w * x) / sum(exp(w * x))\nq = 1 / (1 + exp(-sum(w)))\nloss cross_entropy(p, t) + q\n";
    const r = await compile(source, { file: "hand.nn" });
    expect(r.ts).not.toBeNull();
    const warnings = r.diagnostics.list.filter((d) => d.severity === "warning" && d.code === "NN3101");
    const { renderDiagnostics } = await import("../../compiler/diagnostics/render.js");
    const text = renderDiagnostics("hand.nn", source, warnings);
    expect(text).toMatch(/hand\.nn:4:1: warning NN3101: exp\(a\) \/ sum\(exp\(a\)\) .* write softmax\(a\)/);
    expect(text).toMatch(/hand\.nn:5:1: warning NN3101: 1 \/ \(1 \+ exp\(-a\)\) .* write sigmoid\(a\)/);
  });

  it("does not warn about the stable spellings", async () => {
    const r = await compile("input x[3]\ntarget t[3]\nparam w[3]\np = softmax(w * x)\nloss cross_entropy(p, t) + sum(log(sigmoid(w)))\n", { file: "ok.nn" });
    expect(r.diagnostics.list.filter((d) => d.code === "NN3101")).toEqual([]);
  });
});
