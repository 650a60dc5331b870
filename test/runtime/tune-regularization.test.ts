import { describe, expect, it } from "vitest";
import { check } from "../../compiler/pipeline.js";
import { regularizationConsts } from "../../runtime/tune/regularization.js";
import { readFileSync } from "node:fs";

const found = (source: string, set: Record<string, number> = {}) => {
  const { model, diagnostics } = check(source, { file: "m.nn", set });
  expect(diagnostics.hasErrors).toBe(false);
  return regularizationConsts(source, "m.nn", model!.consts, set);
};

describe("regularization weights (consts the loss uses only in parameter-only terms)", () => {
  it("finds weight decay and leaves a layer width, a data-term scale, an initializer's scale and a dropout rate alone", () => {
    const source = [
      "input x[4]",
      "target t[3]",
      "const H = 8",
      "const lambda = 1e-3",
      "const mu = 0.5",
      "const s = 0.1",
      "const beta = 0",
      "param w ~ normal(0, s)",
      "layer h = dense(x, H, tanh)",
      "layer y = dense(h, 3, softmax)",
      "loss mu * cross_entropy(y, t) + lambda * 0.5 * sumsq(h.W) + beta * w^2 + 0.1 * w^2",
    ].join("\n");
    // beta is 0 in the source: the term vanishes there, but beta still weighs a parameter-only term
    expect(found(source)).toEqual({ lambda: 1e-3, beta: 0 });
    // --set values are the ones reported
    expect(found(source, { lambda: 0.25 })).toEqual({ lambda: 0.25, beta: 0 });
  });
  it("a const in both a data term and a regularizer is not a regularization weight", () => {
    const source = ["input x[2]", "target t", "param w[2]", "const k = 0.1", "y = sum(w * x)", "loss k * (y - t)^2 + k * sumsq(w)"].join("\n");
    expect(found(source)).toEqual({});
  });
  it("the shipped digits example: lambda", () => {
    const source = readFileSync("examples/digits.nn", "utf8");
    expect(found(source)).toEqual({ lambda: 1e-3 });
  });
});
