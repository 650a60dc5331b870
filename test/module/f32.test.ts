/**
 * Modules compiled with --precision f32, on every valid model of the corpus:
 *  - their loss and gradient agree with the f64 module's at the same parameters and samples, to
 *    float32 accuracy, each gradient element measured against the scale of its tensor's gradient;
 *  - the batch semantics hold in f32 as in f64 (test/module/batch.test.ts): gradientBatch and
 *    lossBatch are the means of the per-sample ones for every count 1 … 2 × LANES + 3 (full lane
 *    blocks and tails), sgdStep is gradientBatch then θ − lr·g, predictBatch is predict per sample;
 *  - every array they return is a Float32Array.
 */
import { describe, expect, it } from "vitest";
import { LANES } from "../../compiler/codegen/emit-module.js";
import { compile } from "../../compiler/pipeline.js";
import type { Precision } from "../../compiler/target.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import type { FloatArray } from "../../runtime/types.js";
import { setOf, validModels, type CorpusEntry } from "../helpers/corpus.js";
import { randomParams, rng } from "../helpers/random.js";

type Params = Record<string, FloatArray>;
type Batch = Record<string, FloatArray>;

/** counts 1 … COUNT: two full blocks of lanes and a tail of three */
const COUNT = 2 * LANES + 3;
/** float32 agreement with the f64 module, error / the scale of the tensor's gradient: measured at most 4.5e-7 (docs/generated-module.md) */
const F32_TOLERANCE = 1e-5;
/**
 * Two functions of one f32 module may store different intermediates (a value the backward pass
 * reads again is stored, rounded to float32; in the loss alone it may stay a double), so their
 * losses agree to float32 rounding, not to the last bit (f64 modules: 1e-12 in batch.test.ts).
 */
const ACROSS_FUNCTIONS = 1e-6;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const maxAbs = (v: FloatArray, floor = 0) => {
  let m = floor;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
};

async function build(entry: CorpusEntry, precision: Precision): Promise<CompiledModule> {
  const r = await compile(entry.source, { file: entry.path, set: setOf(entry.source), precision });
  expect(r.diagnostics.list.filter((d) => d.severity === "error"), `${entry.path} does not compile`).toEqual([]);
  return loadModule(r.js!);
}

/** a batch of float32 values, as Float32Arrays (f32) and the same numbers as Float64Arrays (f64) */
function randomBatch(shapes: Record<string, number[]>, random: () => number, lo: number, hi: number): { f32: Batch; f64: Batch } {
  const f32: Batch = {};
  const f64: Batch = {};
  for (const [k, s] of Object.entries(shapes)) {
    f32[k] = Float32Array.from({ length: COUNT * size(s) }, () => lo + (hi - lo) * random());
    f64[k] = Float64Array.from(f32[k]!);
  }
  return { f32, f64 };
}

function sampleOf(shapes: Record<string, number[]>, batch: Batch, n: number): Record<string, FloatArray | number> {
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, s.length === 0 ? batch[k]![n]! : batch[k]!.subarray(n * size(s), (n + 1) * size(s))]));
}

function copyInto(dst: Params, src: Params): Params {
  for (const [k, v] of Object.entries(src)) dst[k]!.set(v);
  return dst;
}

/** worst |actual − expected| / scale, where scale is `scales[k][i]`, at least `floor` × the tensor's largest scale */
function worstError(actual: Params, expected: Params, scales: Params, floor: number): { worst: number; where: string } {
  let worst = 0;
  let where = "";
  for (const [k, e] of Object.entries(expected)) {
    const s = scales[k]!;
    const max = maxAbs(s);
    for (let i = 0; i < e.length; i++) {
      const err = Math.abs(actual[k]![i]! - e[i]!) / Math.max(Math.abs(s[i]!), floor * max, 1e-30);
      if (!(err <= worst)) {
        worst = Number.isNaN(err) ? Infinity : err;
        where = `${k}[${i}]: ${actual[k]![i]} vs ${e[i]}`;
      }
    }
  }
  return { worst, where };
}

const models = validModels();
// the MNIST-sized models are left out of the per-count batch loops for time; digits covers lanes
const small = models.filter((e) => !/mnist/.test(e.key));

describe.each(models.map((e) => [e.path, e] as const))("%s in f32", (_path, entry) => {
  it("has the f64 module's loss and gradientBatch to float32 accuracy, relative to each tensor's gradient scale", async () => {
    const [m32, m64] = [await build(entry, "f32"), await build(entry, "f64")];
    const p32 = randomParams(m32, 7);
    const p64 = copyInto(m64.createParams(), p32);
    const random = rng(70);
    const inputs = randomBatch(m32.meta.inputs, random, -1, 1);
    const targets = randomBatch(m32.meta.targets, random, 0.05, 0.95);
    const g32 = m32.createParams();
    const g64 = m64.createParams();
    for (const count of [1, COUNT]) {
      const l32 = m32.gradientBatch(p32, inputs.f32, targets.f32, count, g32);
      const l64 = m64.gradientBatch(p64, inputs.f64, targets.f64, count, g64);
      for (const v of Object.values(g32)) expect(v).toBeInstanceOf(Float32Array);
      expect(Math.abs(l32 - l64), `loss ${l32} vs ${l64}, count ${count}`).toBeLessThanOrEqual(F32_TOLERANCE * Math.max(Math.abs(l64), 1e-3));
      // each tensor's scale: its largest gradient magnitude (an element that is a small difference
      // of large terms is off by the rounding of the terms, not of itself)
      const scales = Object.fromEntries(Object.entries(g64).map(([k, v]) => [k, new Float64Array(v.length).fill(maxAbs(v, 1e-3))]));
      const { worst, where } = worstError(g32, g64, scales, 0);
      expect(worst, `count ${count}: worst at ${where}`).toBeLessThanOrEqual(F32_TOLERANCE);
      const lb = m32.lossBatch(p32, inputs.f32, targets.f32, count);
      expect(Math.abs(lb - l32), `lossBatch ${lb} vs gradientBatch's ${l32}`).toBeLessThanOrEqual(ACROSS_FUNCTIONS * Math.max(Math.abs(l32), 1e-3));
    }
  });
});

describe.each(small.map((e) => [e.path, e] as const))("%s in f32: batch semantics", (_path, entry) => {
  const hasDropout = /\bdropout\s*\(/.test(entry.source);

  it(`gradientBatch and lossBatch are the means of the per-sample gradient and loss, for every count 1 … ${COUNT}`, async () => {
    const m = await build(entry, "f32");
    const params = randomParams(m, 11);
    const random = rng(1011);
    const inputs = randomBatch(m.meta.inputs, random, -1, 1).f32;
    const targets = randomBatch(m.meta.targets, random, 0.05, 0.95).f32;
    const g = m.createParams();
    const batch = m.createParams();
    for (let count = 1; count <= COUNT; count++) {
      const mean: Params = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, new Float64Array(v.length)]));
      const scale: Params = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, new Float64Array(v.length)]));
      let loss = 0;
      for (let n = 0; n < count; n++) {
        loss += m.gradient(params, sampleOf(m.meta.inputs, inputs, n), sampleOf(m.meta.targets, targets, n), g) / count;
        for (const [k, v] of Object.entries(g))
          for (let i = 0; i < v.length; i++) {
            mean[k]![i]! += v[i]! / count;
            scale[k]![i]! += Math.abs(v[i]!) / count;
          }
      }
      for (const v of Object.values(batch)) v.fill(Number.NaN); // stale contents must not leak
      const l = m.gradientBatch(params, inputs, targets, count, batch);
      // the same function per sample and per batch: the losses, summed in a double (lossTotal), agree
      // to the last bits; the gradient is summed in float32 arrays, one rounding per term
      expect(Math.abs(l - loss), `loss, count ${count}: ${l} vs ${loss}`).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(loss), 1e-3));
      const lb = m.lossBatch(params, inputs, targets, count);
      expect(Math.abs(lb - l), `lossBatch ${lb} vs gradientBatch's ${l}`).toBeLessThanOrEqual(ACROSS_FUNCTIONS * Math.max(Math.abs(l), 1e-3));
      const { worst, where } = worstError(batch, mean, scale, 1e-3);
      expect(worst, `gradientBatch vs mean of gradient, count ${count}: worst at ${where}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it("sgdStep is gradientBatch(Train) followed by θ ← θ − lr·g stored in float32", async () => {
    const m = await build(entry, "f32");
    const params = randomParams(m, 13);
    const random = rng(1013);
    const inputs = randomBatch(m.meta.inputs, random, -1, 1).f32;
    const targets = randomBatch(m.meta.targets, random, 0.05, 0.95).f32;
    const lr = 0.05;
    for (const count of [1, LANES, COUNT]) {
      const expected = copyInto(m.createParams(), params);
      const g = m.createParams();
      const loss = hasDropout
        ? m.gradientBatchTrain(expected, inputs, targets, count, g, m.createRandom(5))
        : m.gradientBatch(expected, inputs, targets, count, g);
      for (const [k, v] of Object.entries(expected)) for (let i = 0; i < v.length; i++) v[i] = v[i]! - lr * g[k]![i]!;
      const actual = copyInto(m.createParams(), params);
      const stepLoss = m.sgdStep(actual, inputs, targets, count, lr, m.createParams(), m.createRandom(5));
      expect(Math.abs(stepLoss - loss), `sgdStep's loss, count ${count}`).toBeLessThanOrEqual(ACROSS_FUNCTIONS * Math.max(Math.abs(loss), 1e-3));
      // one sample: the update made inside the backward pass rounds (lr δ) b instead of lr (δ b) to float32
      const scale = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v, (p, i) => Math.abs(p) + lr * Math.abs(g[k]![i]!))]));
      const { worst, where } = worstError(actual, expected, scale, 0);
      expect(worst, `sgdStep, count ${count}: worst at ${where}`).toBeLessThanOrEqual(1e-6);
    }
  });

  it("predict and predictBatch return Float32Arrays, and predictBatch is predict per sample", async () => {
    const m = await build(entry, "f32");
    const params = randomParams(m, 17);
    const inputs = randomBatch(m.meta.inputs, rng(1017), -1, 1).f32;
    const outputs: Batch = Object.fromEntries(Object.entries(m.meta.outputs).map(([k, s]) => [k, new Float32Array(COUNT * size(s)).fill(Number.NaN)]));
    m.predictBatch(params, inputs, COUNT, outputs);
    for (let n = 0; n < COUNT; n++) {
      const out = m.predict(params, sampleOf(m.meta.inputs, inputs, n));
      for (const [k, s] of Object.entries(m.meta.outputs)) {
        const v = out[k]!;
        if (s.length === 0) expect(v).toBe(outputs[k]![n]);
        else {
          expect(v).toBeInstanceOf(Float32Array);
          expect(Array.from(v as Float32Array)).toEqual(Array.from(outputs[k]!.subarray(n * size(s), (n + 1) * size(s))));
        }
      }
    }
  });
});
