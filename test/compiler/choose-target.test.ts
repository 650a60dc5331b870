/**
 * The target nnc train and predict pick without --target (compiler/choose-target.ts, the rule
 * measured in docs/performance.md "Which target"), on the examples.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { chooseTarget, MIN_WASM_BATCH } from "../../compiler/choose-target.js";
import { DEFAULT_UNROLL } from "../../compiler/codegen/emit-module.js";
import { check } from "../../compiler/pipeline.js";

const model = (name: string) => {
  const file = `examples/${name}.nn`;
  const m = check(readFileSync(file, "utf8"), { file }).model;
  expect(m).not.toBeNull();
  return m!;
};

describe("chooseTarget", () => {
  it("ts for a model without a looped dense layer, whatever the batch and optimizer", () => {
    for (const batch of [1, 32, Infinity]) for (const optimizer of ["sgd", "adam"]) expect(chooseTarget(model("xor"), batch, DEFAULT_UNROLL, optimizer).target).toBe("ts");
  });
  it("wasm for a looped dense layer from batch MIN_WASM_BATCH on, and for a whole data set (predict)", () => {
    expect(MIN_WASM_BATCH).toBe(2);
    for (const batch of [2, 32, Infinity]) expect(chooseTarget(model("mnist"), batch, DEFAULT_UNROLL).target).toBe("wasm");
    expect(chooseTarget(model("mnist"), 32, DEFAULT_UNROLL).why).toMatch(/101632 weights in 2 dense layers/);
  });
  it("at batch 1: ts for SGD (the same fused per-sample code on both), wasm for the other optimizers", () => {
    expect(chooseTarget(model("mnist"), 1, DEFAULT_UNROLL, "sgd").target).toBe("ts");
    for (const optimizer of ["momentum", "adam", "rmsprop"]) expect(chooseTarget(model("mnist"), 1, DEFAULT_UNROLL, optimizer).target).toBe("wasm");
  });
  it("follows the unroll threshold: a layer unrolled under --unroll is no kernel's", () => {
    expect(chooseTarget(model("digits"), 32, DEFAULT_UNROLL).target).toBe("wasm");
    expect(chooseTarget(model("digits"), 32, 1 << 14).target).toBe("ts");
  });
});
