/**
 * The image ops of language §11 against TensorFlow.js (CPU backend, float32) interpreting the same
 * source (test/helpers/tfjs-oracle.ts with tfjs-image.ts: tf.conv2d is NHWC, so the oracle
 * transposes images [C, H, W] → [H, W, C] and kernels [O, C, k, k] → [k, k, C, O], and works out
 * the padding from the language's rule itself). Whole-model gradients of both targets agree to
 * float32 precision, |nnc − tfjs| ≤ 2e-4 · max(1, |tfjs|), as in tfjs.test.ts: convolution "same"
 * (odd and even kernels), "valid", strided, numeric padding, the expression form; max and average
 * pooling, with leftover rows and columns; slices (ranges, indices, whole axes) and concatenation
 * along each axis, of per-sample values and of parameters. (The examples of §11 go through the
 * oracle with the rest of the corpus, in tfjs.test.ts.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { TARGETS } from "../../compiler/target.js";
import { loadModule } from "../../runtime/load-module.js";
import { rng } from "../helpers/random.js";
import { oracleGradient, tfReady } from "../helpers/tfjs-oracle.js";

beforeAll(async () => {
  await tfReady();
});

const MODELS: Record<string, string> = {
  "same convolutions, max-pooling with a leftover column, dense": `
input x[2, 9, 11]
target t[3]
layer c1 = conv2d(x, 4, 3, relu, padding = "same")
layer p1 = maxpool(c1, 2)
layer c2 = conv2d(p1, 5, 3, tanh, padding = "same")
layer y = dense(flatten(c2), 3, softmax)
loss cross_entropy(y, t)
`,
  "strided valid, even same (TensorFlow's rule), average pooling": `
input x[3, 13, 12]
target t[2]
layer c1 = conv2d(x, 4, 3, tanh, stride = 2, padding = "valid")
layer c2 = conv2d(c1, 3, 2, sigmoid, stride = 2, padding = "same")
layer a = avgpool(c2, 2)
layer y = dense(flatten(a), 2, softmax)
loss cross_entropy(y, t)
`,
  "odd same with stride 2 ((k − 1)/2 per side), numeric padding, the expression form": `
input x[1, 10, 9]
target t
param K[3, 4, 5, 5] ~ normal(0, 0.3)
layer c = conv2d(x, 2, 3, elu, stride = 2, padding = "same")
z = tanh(conv2d(c, K[:, 1:3, :, :], stride = 1, padding = 2))
param v[${3 * 5 * 5}] ~ normal(0, 0.2)
loss (dot(v, flatten(z)) - t)^2
`,
  "slices and concatenation of per-sample values and of parameters": `
input x[2, 6, 6]
target t[4]
param P[2, 6, 6] ~ normal(0, 0.5)
layer c = conv2d(x, 3, 3, relu, padding = "same")
top = c[:, 0:3, :]
bottom = c[1:3, 3:6, 2:]
row = c[0, 2, :]
h = concat(flatten(top), flatten(bottom), row, flatten(P[1, :, 0:2]))
g = concat(x[0, :, :] * P[0, :, :], c[2, :, :], axis = 1)
side = concat(c, x, axis = 0)
layer y = dense(concat(h, flatten(g), flatten(avgpool(side, 3))), 4, softmax)
loss cross_entropy(y, t)
`,
};

describe.each(TARGETS)("image ops of --target %s agree with TensorFlow.js", (target) => {
  for (const [name, source] of Object.entries(MODELS))
    it(name, async () => {
      const r = await compile(source, { file: "image.nn", target });
      expect(r.diagnostics.list.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
      const model = r.model!;
      const mod = await loadModule(r.js!);
      const random = rng(23);
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
      const oracle = oracleGradient(source, model, params, inputs, targets, count);
      expect(Math.abs(loss - oracle.loss)).toBeLessThan(2e-4 * Math.max(1, Math.abs(oracle.loss)));
      let worst = 0;
      let largest = 0;
      for (const p of model.params) {
        const a = grad[p.name]!, o = oracle.grads[p.name]!;
        expect(a.length).toBe(o.length);
        for (let i = 0; i < a.length; i++) {
          worst = Math.max(worst, Math.abs(a[i]! - o[i]!) / Math.max(1, Math.abs(o[i]!)));
          largest = Math.max(largest, Math.abs(o[i]!));
        }
      }
      expect(worst).toBeLessThan(2e-4);
      expect(largest, "a gradient that is not all zeros").toBeGreaterThan(1e-3);
    });
});
