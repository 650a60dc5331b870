/**
 * The verifier runs after each differentiation inside plan: a reverse sweep that left a broken
 * node (simulated here by wrapping the real one) is reported as a failure after differentiation,
 * naming the loss, before any code is emitted. In a file of its own: the mock replaces the module
 * for every import in this file.
 */
import { describe, expect, it, vi } from "vitest";
import type { Graph, NodeId } from "../../compiler/ir/graph.js";
import { check, plan } from "../../compiler/pipeline.js";

const sabotage = { on: false };

vi.mock("../../compiler/autodiff/backprop.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../compiler/autodiff/backprop.js")>();
  return {
    ...real,
    differentiate(g: Graph, loss: NodeId, wrt: readonly NodeId[]): NodeId[] {
      const grads = real.differentiate(g, loss, wrt);
      if (sabotage.on) g.raw("exp", [loss, loss]); // an element-wise op with one input too many
      return grads;
    },
  };
});

describe("the verifier after differentiation", () => {
  it("names the differentiation that left a broken graph", () => {
    const { model } = check("input x[2]\ntarget t\nparam w[2]\nloss (dot(w, x) - t)^2\n", { file: "model.nn" });
    expect(() => plan(model!)).not.toThrow();
    sabotage.on = true;
    try {
      expect(() => plan(model!)).toThrow(/IR verification failed after differentiation of L in inference mode:\n%\d+: exp takes 1 inputs, has 2/);
    } finally {
      sabotage.on = false;
    }
  });
});
