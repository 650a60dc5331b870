/**
 * Whole-model gradients against an independent framework: TensorFlow.js (CPU backend, float32)
 * interpreting the same source (test/helpers/tfjs-oracle.ts). Agreement is asked to float32
 * precision: |nnc − tfjs| ≤ 2e-4 · max(1, |tfjs|) for every gradient element.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { TARGETS } from "../../compiler/target.js";
import { compile } from "../../compiler/pipeline.js";
import { loadModule } from "../../runtime/load-module.js";
import { validModels } from "../helpers/corpus.js";
import { rng } from "../helpers/random.js";
import { oracleGradient, tfReady } from "../helpers/tfjs-oracle.js";

beforeAll(async () => {
  await tfReady();
});

// the MNIST-sized example is left to the finite-difference check: tfjs per-sample loops are slow
const models = validModels().filter((e) => !e.path.endsWith("mnist.nn"));

describe.each(TARGETS)("gradients of --target %s agree with TensorFlow.js", (target) => {
  for (const e of models)
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path, target });
      const model = r.model!;
      const mod = await loadModule(r.js!);
      const random = rng(11);
      const count = 3;
      const params = mod.createParams();
      mod.initParams(params, 5);
      for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.4 * (random() - 0.5);
      const fill = (shapes: Record<string, number[]>, lo: number, hi: number) =>
        Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: count * s.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * random())]));
      const inputs = fill(mod.meta.inputs, -1, 1);
      const targets = fill(mod.meta.targets, 0.05, 0.95);
      const grad = mod.createParams();
      const loss = mod.gradientBatch(params, inputs, targets, count, grad);
      const oracle = oracleGradient(e.source, model, params, inputs, targets, count);
      expect(Math.abs(loss - oracle.loss)).toBeLessThan(2e-4 * Math.max(1, Math.abs(oracle.loss)));
      let worst = 0;
      for (const p of model.params) {
        const a = grad[p.name]!, o = oracle.grads[p.name]!;
        expect(a.length).toBe(o.length);
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - o[i]!) / Math.max(1, Math.abs(o[i]!)));
      }
      expect(worst).toBeLessThan(2e-4);
    });
});
