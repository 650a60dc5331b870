/**
 * The module's fused optimizer steps (language §10): optimizerStep equals gradientBatch (training
 * mode) followed by the runtime's update rule, for every first-order optimizer, over several steps
 * (so that the moments and Adam's step count matter), on one sample and on a batch; and
 * createOptimizerState rejects what the runtime rejects.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { OPTIMIZERS } from "../../compiler/semantics/train-block.js";
import { createOptimizer } from "../../runtime/optimizers/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { validModels } from "../helpers/corpus.js";
import { rng } from "../helpers/random.js";
import type { FloatArray } from "../../runtime/types.js";

const MODELS = ["examples/xor.nn", "examples/digits.nn", "test/cases/ops/dropout.nn", "examples/regression.nn"];
const NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adadelta"] as const;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

type Params = Record<string, FloatArray>;

async function build(path: string): Promise<CompiledModule> {
  const entry = validModels().find((e) => e.path === path)!;
  const r = await compile(entry.source, { file: entry.path });
  return loadModule(r.js!);
}

const copy = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]));

describe("optimizerStep = gradientBatch + the runtime's update rule", () => {
  for (const path of MODELS)
    it(path, async () => {
      const mod = await build(path);
      const random = rng(7);
      const count = 5;
      const batch = (shapes: Record<string, number[]>) =>
        Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: count * size(s) }, () => random() - 0.5)]));
      const inputs = batch(mod.meta.inputs);
      const targets = Object.fromEntries(Object.entries(batch(mod.meta.targets)).map(([k, v]) => [k, v.map((x) => x + 0.5)]));
      for (const name of NAMES) {
        const hyper = { ...OPTIMIZERS[name], lr: 0.05 };
        const fused = mod.createParams();
        mod.initParams(fused, 3);
        const plain = copy(fused);
        const state = mod.createOptimizerState({ name, ...hyper });
        const optimizer = createOptimizer({ name, args: hyper }, plain);
        const gradA = mod.createParams();
        const gradB = mod.createParams();
        for (let step = 0; step < 4; step++) {
          const n = step % 2 === 0 ? count : 1;
          const la = mod.optimizerStep(fused, state, inputs, targets, n, gradA, mod.createRandom(step));
          const lb = mod.gradientBatchTrain(plain, inputs, targets, n, gradB, mod.createRandom(step));
          optimizer.step(plain, gradB, hyper.lr);
          expect(la, `${name}, step ${step}: the loss before the step`).toBe(lb);
        }
        expect(state.t).toBe(4);
        for (const k of Object.keys(plain))
          for (let i = 0; i < plain[k]!.length; i++) expect(fused[k]![i], `${name}: ${k}[${i}]`).toBe(plain[k]![i]);
        const moved = Object.keys(plain).some((k) => plain[k]!.some((x, i) => x !== initialOf(mod, k, i)));
        expect(moved, `${name} moved the parameters`).toBe(true);
      }
    });

  it("count 0 takes no step and returns NaN", async () => {
    const mod = await build("examples/xor.nn");
    const p = mod.createParams();
    mod.initParams(p, 1);
    const before = copy(p);
    const state = mod.createOptimizerState({ name: "adam" });
    expect(mod.optimizerStep(p, state, { x: new Float64Array(0) }, { t: new Float64Array(0) }, 0, mod.createParams())).toBeNaN();
    expect(state.t).toBe(0);
    expect(p).toEqual(before);
  });

  it("createOptimizerState rejects unknown optimizers, unknown hyperparameters and values out of range", async () => {
    const mod = await build("examples/xor.nn");
    expect(() => mod.createOptimizerState({ name: "adamw" } as never)).toThrow(/unknown optimizer 'adamw'/);
    expect(() => mod.createOptimizerState({ name: "adam", gamma: 0.9 } as never)).toThrow(/unknown hyperparameter 'gamma'/);
    expect(() => mod.createOptimizerState({ name: "adam", beta1: 1 })).toThrow(/beta1 must be in \[0, 1\), got 1/);
    expect(() => mod.createOptimizerState({ name: "sgd", lr: -1 })).toThrow(/lr must be > 0/);
    expect(() => mod.createOptimizerState({ name: "rmsprop", eps: Number.NaN })).toThrow(/finite number/);
    expect(() => mod.createOptimizerState({ name: "adadelta", eps: 0 })).toThrow(/eps must be > 0, got 0/);
    const d = mod.createOptimizerState({ name: "adadelta" }) as unknown as Record<string, number>;
    expect([d.lr, d.rho, d.eps]).toEqual([1, 0.95, 1e-6]);
    const s = mod.createOptimizerState({ name: "adam", lr: 0.01 }) as unknown as Record<string, number>;
    expect([s.lr, s.beta1, s.beta2, s.eps, s.t]).toEqual([0.01, 0.9, 0.999, 1e-8, 0]);
  });
});

function initialOf(mod: CompiledModule, k: string, i: number): number {
  const p = mod.createParams();
  mod.initParams(p, 3);
  return p[k]![i]!;
}
