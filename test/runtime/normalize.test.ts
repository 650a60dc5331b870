/**
 * `normalize pca(k) | whiten | zca` (runtime/data/normalize.ts): whitened training data has the
 * identity covariance, ZCA's matrix is symmetric and its output the closest whitening to the
 * input, pca(k) keeps the k directions of most variance; fitted on the training data only, stored
 * with the weights (JSON and safetensors) and applied the same way after loading; old files
 * (no `method`) still load; pca(k) trains a model whose input has k elements.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { applyNormalization, fitNormalization, loadDataset } from "../../runtime/data/index.js";
import { covarianceOf } from "../../runtime/data/normalize.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { train } from "../../runtime/train.js";
import type { Dataset, Normalization } from "../../runtime/types.js";
import { NncUsageError } from "../../runtime/usage.js";
import { toWeightsFile } from "../../runtime/weights.js";
import { loadWeights, saveWeights } from "../../runtime/node/weights-files.js";
import { ROOT } from "../helpers/corpus.js";

/** Correlated 5-element samples: a random mix of independent sources of very different scales, plus an offset. */
function correlated(count: number, seed = 1): Dataset {
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const mix = [
    [1, 0.5, 0, 0.2, 0.1],
    [0.3, 2, 0.4, 0, 0],
    [0, 0.1, 0.05, 0.3, 0.6],
    [0.5, 0, 0.2, 1.5, 0],
    [0.1, 0.1, 0.1, 0.1, 1],
  ];
  const scales = [4, 2, 1, 0.5, 0.2];
  const x = new Float64Array(count * 5);
  const t = new Float64Array(count * 2);
  for (let i = 0; i < count; i++) {
    const src = scales.map((sc) => sc * r());
    for (let k = 0; k < 5; k++) x[i * 5 + k] = 7 - 2 * k + mix[k]!.reduce((a, m, j) => a + m * src[j]!, 0);
    t[i * 2 + (src[0]! > 0 ? 1 : 0)] = 1;
  }
  return { count, inputs: { x }, targets: { t } };
}

const covariance = (ds: Dataset) => {
  const w = ds.inputs.x!.length / ds.count;
  return { w, ...covarianceOf(ds.inputs.x!, ds.count, w) };
};

describe("fitting pca, whiten and zca", () => {
  const data = correlated(400);

  it("whiten: the training data's covariance becomes the identity (to 1e-8) and its mean 0", () => {
    const norm = fitNormalization(data, "whiten")!;
    expect(norm.method).toBe("whiten");
    const { w, mean, covariance: c } = covariance(applyNormalization(data, norm));
    for (let i = 0; i < w; i++) {
      expect(Math.abs(mean[i]!)).toBeLessThan(1e-10);
      for (let j = 0; j < w; j++) expect(Math.abs(c[i * w + j]! - (i === j ? 1 : 0)), `cov[${i}, ${j}]`).toBeLessThan(1e-8);
    }
  });

  it("zca: identity covariance too, a symmetric matrix, and closer to the centred input than any other whitening tried", () => {
    const zca = fitNormalization(data, "zca")!;
    const white = fitNormalization(data, "whiten")!;
    const p = zca.projection!.x!;
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(Math.abs(p[i]![j]! - p[j]![i]!)).toBeLessThan(1e-12);
    const { w, covariance: c } = covariance(applyNormalization(data, zca));
    for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) expect(Math.abs(c[i * w + j]! - (i === j ? 1 : 0))).toBeLessThan(1e-8);
    // every whitening is R·W for a rotation R: ZCA (R = V) minimizes the mean squared distance to the centred input
    const distance = (norm: Normalization) => {
      const out = applyNormalization(data, norm).inputs.x!;
      let d = 0;
      for (let i = 0; i < data.count; i++) for (let k = 0; k < 5; k++) d += (out[i * 5 + k]! - (data.inputs.x![i * 5 + k]! - zca.mean.x![k]!)) ** 2;
      return d;
    };
    const permuted = { ...white, projection: { x: [...white.projection!.x!].reverse() } };
    const flipped = { ...white, projection: { x: white.projection!.x!.map((row, i) => (i % 2 ? row.map((v) => -v) : row)) } };
    expect(distance(zca)).toBeLessThan(distance(white));
    expect(distance(zca)).toBeLessThan(distance(permuted));
    expect(distance(zca)).toBeLessThan(distance(flipped));
  });

  it("pca(k): k uncorrelated coordinates whose variances are the k largest eigenvalues, in order, and keep the most variance of any k directions tried", () => {
    const norm = fitNormalization(data, { name: "pca", components: 2 })!;
    const out = applyNormalization(data, norm);
    expect(out.inputs.x!.length).toBe(2 * data.count);
    const { covariance: c } = covariance(out);
    const lambda = norm.eigenvalues!.x!;
    expect(lambda.length).toBe(5);
    expect(Math.abs(c[0]! - lambda[0]!) / lambda[0]!).toBeLessThan(1e-10);
    expect(Math.abs(c[3]! - lambda[1]!) / lambda[1]!).toBeLessThan(1e-10);
    expect(Math.abs(c[1]!)).toBeLessThan(1e-10 * lambda[0]!);
    expect(lambda[0]!).toBeGreaterThan(lambda[1]!);
    // the kept variance against the two input axes of most variance
    const { covariance: raw } = covariance(data);
    const axes = [0, 1, 2, 3, 4].map((i) => raw[i * 5 + i]!).sort((a, b) => b - a);
    expect(c[0]! + c[3]!).toBeGreaterThan(axes[0]! + axes[1]!);
    // the total variance is kept by pca(5)
    const all = covariance(applyNormalization(data, fitNormalization(data, { name: "pca", components: 5 })!)).covariance;
    const trace = (m: Float64Array, n: number) => Array.from({ length: n }, (_, i) => m[i * n + i]!).reduce((a, b) => a + b, 0);
    expect(Math.abs(trace(all, 5) - trace(raw, 5)) / trace(raw, 5)).toBeLessThan(1e-12);
  });

  it("the sign of each component: its largest element positive", () => {
    const norm = fitNormalization(data, { name: "pca", components: 5 })!;
    for (const row of norm.projection!.x!) {
      const big = row.reduce((b, v, i) => (Math.abs(v) > Math.abs(row[b]!) ? i : b), 0);
      expect(row[big]!).toBeGreaterThan(0);
    }
  });

  it("a constant element: whitening gives it weight 0 instead of amplifying it", () => {
    const x = Float64Array.from(data.inputs.x!);
    for (let i = 0; i < data.count; i++) x[i * 5 + 2] = 4;
    const flat = { ...data, inputs: { x } };
    const norm = fitNormalization(flat, "whiten")!;
    const probe = Float64Array.from([7, 5, 1004, 1, -1]);
    const out = applyNormalization({ count: 1, inputs: { x: probe }, targets: {} }, norm).inputs.x!;
    const without = applyNormalization({ count: 1, inputs: { x: Float64Array.from([7, 5, 4, 1, -1]) }, targets: {} }, norm).inputs.x!;
    // only rounding of the other directions' ~1e-17 components on that element remains
    out.forEach((v, i) => expect(Math.abs(v - without[i]!)).toBeLessThan(1e-10));
    expect(norm.eigenvalues!.x![4]!).toBeLessThan(1e-12);
  });

  it("the digits' 64 pixels (several constant): whitened covariance is the identity on the directions that vary", () => {
    const ds = loadDataset(join(ROOT, "examples", "data", "digits-train.csv"), { inputs: { x: [64] }, targets: { t: [10] } });
    const norm = fitNormalization(ds, "whiten")!;
    const { covariance: c } = covariance(applyNormalization(ds, norm));
    const lambda = norm.eigenvalues!.x!;
    const varying = lambda.filter((l) => l > 64 * Number.EPSILON * lambda[0]!).length;
    for (let i = 0; i < 64; i++)
      for (let j = 0; j < 64; j++) expect(Math.abs(c[i * 64 + j]! - (i === j && i < varying ? 1 : 0)), `cov[${i}, ${j}]`).toBeLessThan(1e-8);
    expect(varying).toBeLessThan(64);
  });

  it("refuses pca(k) with k above the width, and too few samples", () => {
    expect(() => fitNormalization(data, { name: "pca", components: 6 })).toThrow(/has only 5 elements/);
    expect(() => fitNormalization({ count: 1, inputs: { x: new Float64Array(5) }, targets: {} }, "zca")).toThrow(/at least 2 training samples/);
  });
});

const MODEL = (k: number) => `input x[${k}]
target t[2]
layer y = dense(x, 2, softmax)
loss cross_entropy(y, t)
`;

describe("training with the transform, and the weights that store it", () => {
  let mods: Record<number, CompiledModule>;
  const dir = mkdtempSync(join(tmpdir(), "nnc-normalize-"));
  beforeAll(async () => {
    mods = { 2: await loadModule((await compile(MODEL(2), { file: "k2.nn" })).js!), 5: await loadModule((await compile(MODEL(5), { file: "k5.nn" })).js!) };
  });
  const options = { epochs: 3, batch: 20, optimizer: { name: "adam" as const, args: { lr: 0.05 } }, seed: 1 };

  it.each([["whiten", 5], ["zca", 5], ["pca", 2]] as const)("%s: fitted on the training data only; the weights (json and safetensors) predict as the run did", (method, k) => {
    const data = correlated(300);
    const other = correlated(100, 9);
    const normalize = method === "pca" ? { name: "pca" as const, components: 2 } : method;
    const mod = mods[k]!;
    const r = train(mod, data, { ...options, normalize, validation: other });
    // the training data's fit, whatever the validation data
    expect(r.normalization).toEqual(fitNormalization(data, normalize));
    const file = toWeightsFile(mod, r.params, { normalization: r.normalization, training: {}, metrics: {} });
    for (const ext of ["json", "safetensors"]) {
      const path = join(dir, `${method}.${ext}`);
      saveWeights(path, file);
      const back = loadWeights(path, mod);
      expect(back.file.normalization).toEqual(r.normalization);
      const a = applyNormalization(other, r.normalization!).inputs.x!;
      const b = applyNormalization(other, back.file.normalization!).inputs.x!;
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });

  it("pca(k) needs the model's one input declared [k]", () => {
    const data = correlated(50);
    expect(() => train(mods[5]!, data, { ...options, normalize: { name: "pca", components: 2 } })).toThrow(NncUsageError);
    expect(() => train(mods[5]!, data, { ...options, normalize: { name: "pca", components: 2 } })).toThrow(/one input declared \[2\]; it has x\[5\]/);
  });

  it("resumes a pca run from its checkpoint (the data at its own width)", () => {
    const data = correlated(100);
    const cps: unknown[] = [];
    const o = { ...options, normalize: { name: "pca" as const, components: 2 } };
    const whole = train(mods[2]!, data, { ...o, onCheckpoint: (c) => cps.push(JSON.parse(JSON.stringify(toWeightsFile(mods[2]!, c.params, { normalization: c.normalization, training: {}, metrics: {}, resume: c.resume })))) });
    const resumed = train(mods[2]!, data, { ...o, resume: cps[0] as never });
    expect(Array.from(resumed.params["y.W"]!)).toEqual(Array.from(whole.params["y.W"]!));
  });

  it("an old weights file (mean and std, no method) still loads as z-scores; a bad projection is named", () => {
    const mod = mods[5]!;
    const params = mod.createParams();
    const old = { format: "nnc-weights/1", model: "k5", params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { shape: mod.meta.params[k], values: Array.from(v) }])), normalization: { mean: { x: [1, 2, 3, 4, 5] }, std: { x: [1, 1, 2, 2, 4] } } };
    const path = join(dir, "old.json");
    writeFileSync(path, JSON.stringify(old));
    const w = loadWeights(path, mod);
    expect(w.file.normalization!.method).toBeUndefined();
    const out = applyNormalization({ count: 1, inputs: { x: Float64Array.of(3, 2, 5, 0, 9) }, targets: {} }, w.file.normalization!).inputs.x!;
    expect(Array.from(out)).toEqual([2, 0, 1, -2, 1]);
    const bad = { ...old, normalization: { method: "zca", mean: old.normalization.mean, std: { x: [1, 1, 1, 1, 1] }, projection: { x: [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]] } } };
    writeFileSync(path, JSON.stringify(bad));
    expect(() => loadWeights(path, mod)).toThrow(/normalization\.projection\["?x"?\]?: expected 5 rows/);
  });
});
