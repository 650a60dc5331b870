/**
 * The training loop on real problems, within CI time: XOR to 100%, the UCI digits to a loss
 * threshold, and the loop's promises — divergence guard, early stopping that restores the best
 * weights, resuming from a checkpoint exactly where the uninterrupted run would be.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { loadDataset } from "../../runtime/data/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { evaluate } from "../../runtime/metrics.js";
import { train, type Checkpoint } from "../../runtime/train.js";
import type { Dataset } from "../../runtime/types.js";
import { toWeightsFile } from "../../runtime/weights.js";
import { ROOT } from "../helpers/corpus.js";

async function example(name: string, set: Record<string, number> = {}): Promise<CompiledModule> {
  const file = join(ROOT, "examples", name);
  const r = await compile(readFileSync(file, "utf8"), { file, set });
  return loadModule(r.js!);
}

/** Element i of parameter k as initParams(seed 5) sets it (the runs below use seed 5). */
function initial(mod: CompiledModule, k: string, i: number): number {
  const p = mod.createParams();
  mod.initParams(p, 5);
  return p[k]![i]!;
}

const xorData: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };

describe("training", () => {
  it("learns XOR to 100% with the example's settings (sgd, lr 0.5, batch 4)", async () => {
    const mod = await example("xor.nn");
    const r = train(mod, xorData, { epochs: 2000, batch: 4, optimizer: { name: "sgd", args: { lr: 0.5 } }, seed: 1 });
    expect(r.stopped).toBe("completed");
    const last = r.history[r.history.length - 1]!;
    expect(last.train.accuracy).toBe(1);
    expect(last.train.loss).toBeLessThan(0.05);
    expect(r.initial.loss).toBeGreaterThan(0.5);
  });

  it("trains the digits classifier (Adam) below a loss threshold in a few epochs", async () => {
    const mod = await example("digits.nn");
    const shape = { inputs: mod.meta.inputs, targets: mod.meta.targets };
    const data = loadDataset(join(ROOT, "examples/data/digits-train.csv"), shape);
    const test = loadDataset(join(ROOT, "examples/data/digits-test.csv"), shape);
    const r = train(mod, data, { epochs: 8, batch: 32, optimizer: { name: "adam", args: { lr: 0.003, beta1: 0.9, beta2: 0.999, eps: 1e-8 } }, seed: 42, validation: test });
    // the notes' sanity check: softmax over 10 classes starts near log 10
    expect(Math.abs(r.initial.loss - Math.log(10))).toBeLessThan(1);
    const last = r.history[r.history.length - 1]!;
    expect(last.train.loss).toBeLessThan(0.15);
    expect(last.validation!.accuracy!).toBeGreaterThan(0.93);
  });

  it("sgd (the module's fused sgdStep) trains like momentum with γ = 0 (the same update through the optimizer), at batch 1 and 16", async () => {
    const mod = await example("digits.nn");
    const shape = { inputs: mod.meta.inputs, targets: mod.meta.targets };
    const full = loadDataset(join(ROOT, "examples/data/digits-train.csv"), shape);
    const data: Dataset = { count: 100, inputs: { x: full.inputs.x!.slice(0, 100 * 64) }, targets: { t: full.targets.t!.slice(0, 1000) } };
    for (const batch of [1, 16]) {
      const common = { epochs: 2, batch, seed: 5 };
      let calls = 0;
      const counted: CompiledModule = { ...mod, sgdStep: (...args) => (calls++, mod.sgdStep(...args)) };
      const fused = train(counted, data, { ...common, optimizer: { name: "sgd", args: { lr: 0.05 } } });
      expect(calls, "steps through sgdStep").toBe(2 * Math.ceil(100 / batch));
      // m ← γm + (1 − γ)g with γ = 0 is m = g: θ ← θ − ηg, taken by the optimizer from gradientBatchTrain
      const plain = train(mod, data, { ...common, optimizer: { name: "momentum", args: { lr: 0.05, gamma: 0 } } });
      expect(fused.stopped).toBe("completed");
      let moved = 0;
      for (const k of Object.keys(plain.params)) {
        const a = fused.params[k]!;
        const b = plain.params[k]!;
        for (let i = 0; i < b.length; i++) {
          expect(Math.abs(a[i]! - b[i]!), `batch ${batch}, ${k}[${i}]`).toBeLessThan(1e-9 * Math.max(1, Math.abs(b[i]!)));
          moved = Math.max(moved, Math.abs(b[i]! - initial(mod, k, i)));
        }
      }
      expect(moved, "training moved the weights").toBeGreaterThan(1e-3);
      expect(fused.history[1]!.train.loss).toBeLessThan(fused.initial.loss);
    }
  });

  it("stops on divergence, names the step and the parameter, and keeps the last good weights", async () => {
    const mod = await example("xor.nn");
    const r = train(mod, xorData, { epochs: 50, batch: 4, optimizer: { name: "sgd", args: { lr: 1e308 } }, seed: 1 });
    expect(r.stopped).toBe("diverged");
    expect(r.message).toMatch(/epoch \d+, step \d+/);
    expect(r.message).toMatch(/first parameter affected: (h|o)\.(W|b)/);
    for (const v of Object.values(r.params)) for (const x of v) expect(Number.isFinite(x)).toBe(true);
  });

  it("stops on divergence under a fused optimizer step too (Adam), naming the step and the parameter", async () => {
    const mod = await example("xor.nn");
    const r = train(mod, xorData, { epochs: 50, batch: 4, optimizer: { name: "adam", args: { lr: 1e308 } }, seed: 1 });
    expect(r.stopped).toBe("diverged");
    expect(r.message).toMatch(/epoch \d+, step \d+/);
    expect(r.message).toMatch(/first parameter affected: (h|o)\.(W|b)/);
    for (const v of Object.values(r.params)) for (const x of v) expect(Number.isFinite(x)).toBe(true);
  });

  it("early stopping restores the weights of the best validation epoch", async () => {
    const mod = await example("digits.nn");
    const shape = { inputs: mod.meta.inputs, targets: mod.meta.targets };
    const full = loadDataset(join(ROOT, "examples/data/digits-train.csv"), shape);
    // a tiny training set and a large lr overfit quickly, so validation loss turns up
    const small: Dataset = { count: 60, inputs: { x: full.inputs.x!.slice(0, 60 * 64) }, targets: { t: full.targets.t!.slice(0, 600) } };
    const valid: Dataset = { count: 300, inputs: { x: full.inputs.x!.slice(600 * 64, 900 * 64) }, targets: { t: full.targets.t!.slice(6000, 9000) } };
    const r = train(mod, small, { epochs: 200, batch: 8, optimizer: { name: "adam", args: { lr: 0.01 } }, seed: 3, validation: valid, earlyStopping: { patience: 3, minDelta: 0 } });
    expect(r.stopped).toBe("early-stopping");
    const best = Math.min(...r.history.map((h) => h.validation!.loss));
    expect(r.history.length).toBeLessThan(200);
    // the returned weights are those of the best epoch: evaluate them on the (normalized) validation set
    const { applyNormalization } = await import("../../runtime/data/index.js");
    const again = evaluate(mod, r.params, applyNormalization(valid, r.normalization!));
    expect(again.loss).toBeCloseTo(best, 12);
    expect(r.history[r.bestEpoch! - 1]!.validation!.loss).toBe(best);
  });

  it("a run resumed from a checkpoint ends with the same weights as the uninterrupted run", async () => {
    const mod = await example("digits.nn");
    const shape = { inputs: mod.meta.inputs, targets: mod.meta.targets };
    const full = loadDataset(join(ROOT, "examples/data/digits-train.csv"), shape);
    const data: Dataset = { count: 200, inputs: { x: full.inputs.x!.slice(0, 200 * 64) }, targets: { t: full.targets.t!.slice(0, 2000) } };
    const options = { epochs: 4, batch: 16, optimizer: { name: "adam" as const, args: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 } }, seed: 9 };
    const whole = train(mod, data, options);
    let after2: Checkpoint | null = null;
    train(mod, data, { ...options, epochs: 4, onCheckpoint: (c) => { if (c.resume.epoch === 2) after2 = structuredClone(c); } });
    const cp = after2 as unknown as Checkpoint;
    const file = JSON.parse(JSON.stringify(toWeightsFile(mod, cp.params, { normalization: cp.normalization, training: {}, metrics: {}, resume: cp.resume })));
    const resumed = train(mod, data, { ...options, resume: file });
    for (const k of Object.keys(whole.params)) expect(Array.from(resumed.params[k]!)).toEqual(Array.from(whole.params[k]!));
    expect(resumed.history.length).toBe(4);
  });
});
