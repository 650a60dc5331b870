/**
 * The generated module's public surface (section 6 of the language) on every valid model of the
 * corpus: the batch functions are the mean of the per-sample ones, parameter-only terms count
 * once per batch, gradient overwrites grad, predict/predictBatch agree, and the training-mode
 * functions draw their dropout masks from the random source they are given.
 */
import { describe, expect, it } from "vitest";
import { compile, type CompileOptions } from "../../compiler/pipeline.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { validModels, type CorpusEntry } from "../helpers/corpus.js";
import { randomParams, rng } from "../helpers/random.js";

type Params = Record<string, Float64Array | Float32Array>;
type Sample = Record<string, Float64Array | number>;
type Batch = Record<string, Float64Array>;

/** one block of eight lanes and a tail of three in the looped models (lane mode, see docs/performance.md) */
const COUNT = 11;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

async function build(entry: CorpusEntry, set: CompileOptions["set"] = {}): Promise<CompiledModule> {
  const r = await compile(entry.source, { file: entry.path, set });
  const errors = r.diagnostics.list.filter((d) => d.severity === "error");
  expect(errors, `${entry.path} does not compile`).toEqual([]);
  return loadModule(r.js!);
}

function randomBatch(shapes: Record<string, number[]>, random: () => number, lo: number, hi: number): Batch {
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: COUNT * size(s) }, () => lo + (hi - lo) * random())]));
}

/** Sample n of a batch: a scalar as a number, anything else as a Float64Array. */
function sampleOf(shapes: Record<string, number[]>, batch: Batch, n: number): Sample {
  return Object.fromEntries(
    Object.entries(shapes).map(([k, s]) => {
      const m = size(s);
      const all = batch[k]!;
      return [k, s.length === 0 ? all[n]! : all.slice(n * m, (n + 1) * m)];
    }),
  );
}

function copyParams(p: Params): Params {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]));
}

function fillAll(p: Params, value: number): void {
  for (const v of Object.values(p)) v.fill(value);
}

/** |a − b| within `rel` of the larger magnitude, or of `scale` for values that cancel towards 0. */
function expectClose(actual: number, expected: number, rel: number, what: string, scale = 0): void {
  const bound = rel * Math.max(Math.abs(actual), Math.abs(expected), scale, 1e-300);
  expect(Math.abs(actual - expected) <= bound, `${what}: ${actual} vs ${expected} (bound ${bound})`).toBe(true);
}

function expectParamsClose(actual: Params, expected: Params, rel: number, what: string, scales?: Params): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, e] of Object.entries(expected)) {
    const a = actual[k]!;
    expect(a.length, `${what} ${k}`).toBe(e.length);
    for (let i = 0; i < e.length; i++) expectClose(a[i]!, e[i]!, rel, `${what} ${k}[${i}]`, scales?.[k]![i] ?? 0);
  }
}

function expectParamsEqual(actual: Params, expected: Params, what: string): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, e] of Object.entries(expected)) expect(Array.from(actual[k]!), `${what} ${k}`).toEqual(Array.from(e));
}

interface Fixture {
  mod: CompiledModule;
  params: Params;
  inputs: Batch;
  targets: Batch;
  samples: { inputs: Sample; targets: Sample }[];
}

function fixture(mod: CompiledModule, seed: number): Fixture {
  const params = randomParams(mod, seed);
  const random = rng(seed + 1000);
  const inputs = randomBatch(mod.meta.inputs, random, -1, 1);
  const targets = randomBatch(mod.meta.targets, random, 0.05, 0.95);
  const samples = Array.from({ length: COUNT }, (_, n) => ({ inputs: sampleOf(mod.meta.inputs, inputs, n), targets: sampleOf(mod.meta.targets, targets, n) }));
  return { mod, params, inputs, targets, samples };
}

// MNIST-sized models (mnist, mnist-800) are left out for time; digits covers the looped code.
const models = validModels().filter((e) => !/mnist/.test(e.key));

describe.each(models.map((e) => [e.path, e] as const))("%s", (_path, entry) => {
  const hasDropout = /\bdropout\s*\(/.test(entry.source);
  let cached: Promise<CompiledModule> | null = null;
  const mod = () => (cached ??= build(entry));

  it("gradientBatch and lossBatch are the means of the per-sample gradient and loss", async () => {
    const f = fixture(await mod(), 11);
    const { params, inputs, targets, samples } = f;
    const m = f.mod;
    const sum = m.createParams();
    const absSum = m.createParams();
    let lossSum = 0;
    const g = m.createParams();
    for (const s of samples) {
      const l = m.gradient(params, s.inputs, s.targets, g);
      expect(Number.isFinite(l)).toBe(true);
      expectClose(l, m.loss(params, s.inputs, s.targets), 1e-12, "gradient's returned loss vs loss");
      lossSum += l;
      for (const [k, v] of Object.entries(g))
        for (let i = 0; i < v.length; i++) {
          sum[k]![i]! += v[i]!;
          absSum[k]![i]! += Math.abs(v[i]!);
        }
    }
    const mean = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, v.map((x) => x / COUNT)]));
    const scales = Object.fromEntries(Object.entries(absSum).map(([k, v]) => [k, v.map((x) => x / COUNT)]));

    const batchGrad = m.createParams();
    fillAll(batchGrad, Number.NaN); // stale contents must not leak into the result
    const batchLoss = m.gradientBatch(params, inputs, targets, COUNT, batchGrad);
    expectParamsClose(batchGrad, mean, 1e-12, "gradientBatch vs mean of gradient", scales);
    expectClose(batchLoss, lossSum / COUNT, 1e-12, "gradientBatch's loss vs mean of loss");
    expectClose(m.lossBatch(params, inputs, targets, COUNT), lossSum / COUNT, 1e-12, "lossBatch vs mean of loss");
    expectClose(m.lossBatch(params, inputs, targets, COUNT), batchLoss, 1e-12, "lossBatch vs gradientBatch's loss");
    // a batch of one is the sample itself
    const one = m.createParams();
    const first = samples[0]!;
    const l1 = m.gradientBatch(params, inputs, targets, 1, one);
    m.gradient(params, first.inputs, first.targets, g);
    expectParamsClose(one, g, 1e-12, "gradientBatch(count 1) vs gradient");
    expectClose(l1, m.loss(params, first.inputs, first.targets), 1e-12, "lossBatch(count 1) vs loss");
  });

  it("sgdStep is gradientBatch(Train) followed by θ ← θ − lr·g, for one sample and for a batch", async () => {
    const m = await mod();
    const f = fixture(m, 13);
    const lr = 0.05;
    for (const count of [1, 4, 8, COUNT]) {
      // the reference: the gradient, then the update written out here
      const expected = copyParams(f.params);
      const g = m.createParams();
      const loss = hasDropout
        ? m.gradientBatchTrain(expected, f.inputs, f.targets, count, g, m.createRandom(5))
        : m.gradientBatch(expected, f.inputs, f.targets, count, g);
      for (const [k, v] of Object.entries(expected)) for (let i = 0; i < v.length; i++) v[i] = v[i]! - lr * g[k]![i]!;
      const actual = copyParams(f.params);
      const scratch = m.createParams();
      fillAll(scratch, Number.NaN); // stale contents must not leak into the step
      const stepLoss = m.sgdStep(actual, f.inputs, f.targets, count, lr, scratch, m.createRandom(5));
      expectClose(stepLoss, loss, 1e-12, `sgdStep's loss, count ${count}`);
      const scale = Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, v.map((p, i) => Math.abs(p) + lr * Math.abs(g[k]![i]!))]));
      expectParamsClose(actual, expected, 1e-12, `sgdStep, count ${count}`, scale);
      // and the step did move the parameters (a model whose gradient is 0 everywhere would pass vacuously)
      expect(Object.keys(g).some((k) => g[k]!.some((v) => v !== 0)), "some gradient is nonzero").toBe(true);
    }
    // no samples: no step (gradientBatch's gradient of an empty mean is NaN)
    const unchanged = copyParams(f.params);
    expect(m.sgdStep(unchanged, f.inputs, f.targets, 0, lr, m.createParams(), m.createRandom(5))).toBeNaN();
    expectParamsEqual(unchanged, f.params, "sgdStep with count 0");
  });

  it("evaluateBatch returns lossBatch and writes predictBatch's outputs", async () => {
    const m = await mod();
    const f = fixture(m, 14);
    const outputs = (fill: number) => Object.fromEntries(Object.entries(m.meta.outputs).map(([k, sh]) => [k, new Float64Array(COUNT * size(sh)).fill(fill)]));
    for (const count of [1, COUNT]) {
      const expected = outputs(0);
      m.predictBatch(f.params, f.inputs, count, expected);
      const actual = outputs(Number.NaN); // whatever was in outputs must not matter
      const loss = m.evaluateBatch(f.params, f.inputs, f.targets, count, actual);
      expectClose(loss, m.lossBatch(f.params, f.inputs, f.targets, count), 1e-12, `evaluateBatch's loss, count ${count}`);
      for (const [k, v] of Object.entries(expected))
        for (let i = 0; i < count * size(m.meta.outputs[k]!); i++) expectClose(actual[k]![i]!, v[i]!, 1e-12, `evaluateBatch ${k}[${i}], count ${count}`);
    }
  });

  it("gradient overwrites grad and ignores whatever was in it", async () => {
    const f = fixture(await mod(), 12);
    const s = f.samples[1]!;
    const grad = f.mod.createParams();
    const l1 = f.mod.gradient(f.params, s.inputs, s.targets, grad);
    const first = copyParams(grad);
    const l2 = f.mod.gradient(f.params, s.inputs, s.targets, grad);
    expect(l2).toBe(l1);
    expectParamsEqual(grad, first, "second call into the same grad");
    fillAll(grad, 1e6);
    f.mod.gradient(f.params, s.inputs, s.targets, grad);
    expectParamsEqual(grad, first, "after filling grad with 1e6");
    fillAll(grad, Number.NaN);
    f.mod.gradient(f.params, s.inputs, s.targets, grad);
    expectParamsEqual(grad, first, "after filling grad with NaN");
    // and the batch version too
    const batch = f.mod.createParams();
    f.mod.gradientBatch(f.params, f.inputs, f.targets, COUNT, batch);
    const firstBatch = copyParams(batch);
    fillAll(batch, -3.5);
    f.mod.gradientBatch(f.params, f.inputs, f.targets, COUNT, batch);
    expectParamsEqual(batch, firstBatch, "gradientBatch after filling grad with -3.5");
    // the parameters are not touched
    const before = copyParams(f.params);
    f.mod.gradient(f.params, s.inputs, s.targets, grad);
    expectParamsEqual(f.params, before, "params after gradient");
  });

  it("predict returns meta.outputs with their shapes; predictBatch equals per-sample predict", async () => {
    const f = fixture(await mod(), 13);
    const m = f.mod;
    const outputs = m.meta.outputs;
    expect(Object.keys(outputs).length).toBeGreaterThan(0);
    const perSample: Sample[] = [];
    for (const s of f.samples) {
      const out = m.predict(f.params, s.inputs);
      expect(Object.keys(out).sort()).toEqual(Object.keys(outputs).sort());
      const copy: Sample = {};
      for (const [k, shape] of Object.entries(outputs)) {
        const v = out[k]!;
        if (shape.length === 0) expect(typeof v, k).toBe("number");
        else {
          expect(v, k).toBeInstanceOf(Float64Array);
          expect((v as Float64Array).length, k).toBe(size(shape));
        }
        copy[k] = typeof v === "number" ? v : Float64Array.from(v); // the returned object is reused
      }
      perSample.push(copy);
    }
    const batch: Batch = Object.fromEntries(Object.entries(outputs).map(([k, s]) => [k, new Float64Array(COUNT * size(s)).fill(Number.NaN)]));
    m.predictBatch(f.params, f.inputs, COUNT, batch);
    for (const [k, shape] of Object.entries(outputs)) {
      const n = size(shape);
      perSample.forEach((s, i) => {
        const v = s[k]!;
        const expected = typeof v === "number" ? [v] : Array.from(v);
        const got = Array.from(batch[k]!.subarray(i * n, (i + 1) * n));
        expected.forEach((e, j) => expectClose(got[j]!, e, 1e-12, `predictBatch ${k} sample ${i} [${j}]`));
      });
    }
  });

  if (!hasDropout)
    it("without dropout, the training-mode functions equal the inference ones", async () => {
      const f = fixture(await mod(), 14);
      const m = f.mod;
      const s = f.samples[2]!;
      const g = m.createParams();
      const gt = m.createParams();
      const l = m.gradient(f.params, s.inputs, s.targets, g);
      const lt = m.gradientTrain(f.params, s.inputs, s.targets, gt, m.createRandom(99));
      expect(lt).toBe(l);
      expectParamsEqual(gt, g, "gradientTrain vs gradient");
      expect(m.lossTrain(f.params, s.inputs, s.targets, m.createRandom(7))).toBe(m.loss(f.params, s.inputs, s.targets));
      const gb = m.createParams();
      const gbt = m.createParams();
      const lb = m.gradientBatch(f.params, f.inputs, f.targets, COUNT, gb);
      const lbt = m.gradientBatchTrain(f.params, f.inputs, f.targets, COUNT, gbt, m.createRandom(3));
      expect(lbt).toBe(lb);
      expectParamsEqual(gbt, gb, "gradientBatchTrain vs gradientBatch");
      expect(m.lossBatchTrain(f.params, f.inputs, f.targets, COUNT, m.createRandom(4))).toBe(lb);
    });
});

const entry = (path: string): CorpusEntry => {
  const e = validModels().find((m) => m.path === path);
  if (!e) throw new Error(`no ${path} in the corpus`);
  return e;
};

describe("parameter-only terms count once per batch", () => {
  it("logistic.nn: lossBatch(lambda = 0.01) − lossBatch(lambda = 0) = 0.01 · 0.5 · w², not COUNT times that", async () => {
    const logistic = entry("examples/logistic.nn");
    const off = await build(logistic, { lambda: 0 });
    const on = await build(logistic, { lambda: 0.01 });
    const f = fixture(on, 21);
    f.params["w"]![0] = 0.7;
    f.params["b"]![0] = -0.2;
    const w = 0.7;
    const reg = 0.01 * 0.5 * w * w;
    const lOn = on.lossBatch(f.params, f.inputs, f.targets, COUNT);
    const lOff = off.lossBatch(f.params, f.inputs, f.targets, COUNT);
    expect(Math.abs(lOn - lOff - reg), `difference ${lOn - lOff}, expected ${reg}`).toBeLessThan(1e-14);
    // and the gradient of the term, 0.01 · w, once as well; b does not appear in it
    const gOn = on.createParams();
    const gOff = off.createParams();
    expect(on.gradientBatch(f.params, f.inputs, f.targets, COUNT, gOn)).toBeCloseTo(lOn, 14);
    expect(off.gradientBatch(f.params, f.inputs, f.targets, COUNT, gOff)).toBeCloseTo(lOff, 14);
    expect(Math.abs(gOn["w"]![0]! - gOff["w"]![0]! - 0.01 * w)).toBeLessThan(1e-14);
    expect(Math.abs(gOn["b"]![0]! - gOff["b"]![0]!)).toBeLessThan(1e-15);
    // per sample, the term is there in full too
    const s = f.samples[0]!;
    expect(Math.abs(on.loss(f.params, s.inputs, s.targets) - off.loss(f.params, s.inputs, s.targets) - reg)).toBeLessThan(1e-14);
  });

  it("digits.nn: the weight decay is the same for a batch of 1 and of 4", async () => {
    const digits = entry("examples/digits.nn");
    const off = await build(digits, { lambda: 0 });
    const on = await build(digits, { lambda: 0.5 });
    const f = fixture(on, 22);
    const decay = 0.5 * 0.5 * [...f.params["h.W"]!, ...f.params["y.W"]!].reduce((a, x) => a + x * x, 0);
    for (const count of [1, COUNT]) {
      const d = on.lossBatch(f.params, f.inputs, f.targets, count) - off.lossBatch(f.params, f.inputs, f.targets, count);
      expectClose(d, decay, 1e-10, `count ${count}`);
    }
  });
});

describe("lane mode: several samples per call of the per-sample functions", () => {
  it("digits.nn (looped) takes `lanes`; xor.nn (fully unrolled) does not", async () => {
    const lanes = async (path: string) => /function sampleGradient\([^)]*lanes: number/.test((await compile(entry(path).source, { file: path })).ts!);
    expect(await lanes("examples/digits.nn")).toBe(true);
    expect(await lanes("examples/xor.nn")).toBe(false);
  });

  it("digits.nn: gradientBatch of every count 1 … 11 (full blocks and tails) is the mean of its samples' gradients", async () => {
    const m = await build(entry("examples/digits.nn"));
    const f = fixture(m, 5);
    const g = m.createParams();
    for (let count = 1; count <= COUNT; count++) {
      const mean = m.createParams();
      let loss = 0;
      for (const s of f.samples.slice(0, count)) {
        loss += m.gradient(f.params, s.inputs, s.targets, g) / count;
        for (const [k, v] of Object.entries(g)) for (let i = 0; i < v.length; i++) mean[k]![i]! += v[i]! / count;
      }
      const batch = m.createParams();
      expectClose(m.gradientBatch(f.params, f.inputs, f.targets, count, batch), loss, 1e-12, `loss, count ${count}`);
      expectParamsClose(batch, mean, 1e-10, `count ${count}`, mean);
      expectClose(m.lossBatch(f.params, f.inputs, f.targets, count), loss, 1e-12, `lossBatch, count ${count}`);
    }
  });
});

describe.each(models.map((e) => [e.path, e] as const))("%s with --unroll 0 (loops, lanes and sweeps everywhere)", (_path, entry) => {
  it("has the default build's gradientBatch, lossBatch, gradient, predictBatch and sgdStep", async () => {
    const looped = await compile(entry.source, { file: entry.path, unroll: 0 });
    expect(looped.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
    const m0 = await loadModule(looped.js!);
    const m = await build(entry);
    const f = fixture(m, 21);
    const g = m.createParams();
    const g0 = m0.createParams();
    const scale = (p: Params) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.map(Math.abs)]));
    for (const count of [1, 4, COUNT]) {
      const l = m.gradientBatch(f.params, f.inputs, f.targets, count, g);
      const l0 = m0.gradientBatch(f.params, f.inputs, f.targets, count, g0);
      expectClose(l0, l, 1e-12, `gradientBatch's loss, count ${count}`);
      expectParamsClose(g0, g, 1e-10, `gradientBatch, count ${count}`, scale(g));
      expectClose(m0.lossBatch(f.params, f.inputs, f.targets, count), l, 1e-12, `lossBatch, count ${count}`);
    }
    const s = f.samples[3]!;
    expectClose(m0.gradient(f.params, s.inputs, s.targets, g0), m.gradient(f.params, s.inputs, s.targets, g), 1e-12, "gradient's loss");
    expectParamsClose(g0, g, 1e-10, "gradient", scale(g));
    const outputs = (mod: CompiledModule) => Object.fromEntries(Object.entries(mod.meta.outputs).map(([k, sh]) => [k, new Float64Array(COUNT * size(sh))]));
    const o = outputs(m);
    const o0 = outputs(m0);
    m.predictBatch(f.params, f.inputs, COUNT, o);
    m0.predictBatch(f.params, f.inputs, COUNT, o0);
    for (const [k, v] of Object.entries(o)) v.forEach((e, i) => expectClose(o0[k]![i]!, e, 1e-12, `predictBatch ${k}[${i}]`));
    // sgdStep: on one sample, its in-place updates in loops (update sweeps) and unrolled
    for (const count of [1, 4]) {
      const p = copyParams(f.params);
      const p0 = copyParams(f.params);
      const l = m.sgdStep(p, f.inputs, f.targets, count, 0.1, g, m.createRandom(3));
      const l0 = m0.sgdStep(p0, f.inputs, f.targets, count, 0.1, g0, m0.createRandom(3));
      expectClose(l0, l, 1e-12, `sgdStep's loss, count ${count}`);
      expectParamsClose(p0, p, 1e-12, `sgdStep, count ${count}`, scale(p));
    }
  });
});

describe("dropout: training mode draws its masks from the given random source", () => {
  const dropout = entry("test/cases/ops/dropout.nn");

  it("lossTrain depends on the seed, is reproducible for a seed, and differs from inference", async () => {
    const m = await build(dropout);
    expect(m.meta.hasDropout).toBe(true);
    const f = fixture(m, 31);
    const s = f.samples[0]!;
    const losses = Array.from({ length: 12 }, (_, k) => m.lossTrain(f.params, s.inputs, s.targets, m.createRandom(100 + k)));
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);
    expect(new Set(losses).size).toBeGreaterThan(1);
    expect(m.lossTrain(f.params, s.inputs, s.targets, m.createRandom(100))).toBe(losses[0]);
    expect(m.lossTrain(f.params, s.inputs, s.targets, m.createRandom(105))).toBe(losses[5]);
    // inference runs dropout as identity: deterministic, and not equal to every training draw
    const inference = m.loss(f.params, s.inputs, s.targets);
    expect(m.loss(f.params, s.inputs, s.targets)).toBe(inference);
    expect(losses.some((l) => l !== inference)).toBe(true);
  });

  it("gradientTrain is the gradient of lossTrain under the same mask (re-seeded for every evaluation)", async () => {
    const m = await build(dropout);
    const f = fixture(m, 32);
    for (const [n, seed] of [[0, 5], [1, 6], [3, 77]] as const) {
      const s = f.samples[n]!;
      const grad = m.createParams();
      fillAll(grad, Number.NaN);
      const l = m.gradientTrain(f.params, s.inputs, s.targets, grad, m.createRandom(seed));
      expect(l).toBe(m.lossTrain(f.params, s.inputs, s.targets, m.createRandom(seed)));
      const lossAt = () => m.lossTrain(f.params, s.inputs, s.targets, m.createRandom(seed));
      checkAgainstFiniteDifferences(f.params, grad, lossAt, `sample ${n}, seed ${seed}`);
    }
  });

  it("gradientBatchTrain is the gradient of lossBatchTrain under the same masks", async () => {
    const m = await build(dropout);
    const f = fixture(m, 33);
    const grad = m.createParams();
    const l = m.gradientBatchTrain(f.params, f.inputs, f.targets, COUNT, grad, m.createRandom(9));
    expect(l).toBe(m.lossBatchTrain(f.params, f.inputs, f.targets, COUNT, m.createRandom(9)));
    checkAgainstFiniteDifferences(f.params, grad, () => m.lossBatchTrain(f.params, f.inputs, f.targets, COUNT, m.createRandom(9)), "batch");
    // a different seed draws different masks
    const other = m.createParams();
    m.gradientBatchTrain(f.params, f.inputs, f.targets, COUNT, other, m.createRandom(10));
    expect(Object.keys(grad).some((k) => grad[k]!.some((v, i) => v !== other[k]![i]))).toBe(true);
  });
});

/** Central differences of `lossAt` with respect to every parameter element, against `grad`. */
function checkAgainstFiniteDifferences(params: Params, grad: Params, lossAt: () => number, what: string): void {
  let nonZero = 0;
  for (const [k, v] of Object.entries(params))
    for (let i = 0; i < v.length; i++) {
      const orig = v[i]!;
      const h = 1e-6 * Math.max(1, Math.abs(orig));
      v[i] = orig + h;
      const up = lossAt();
      v[i] = orig - h;
      const down = lossAt();
      v[i] = orig;
      const numeric = (up - down) / (2 * h);
      const analytic = grad[k]![i]!;
      if (analytic !== 0) nonZero++;
      const err = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3);
      expect(err, `${what}: ${k}[${i}] analytic ${analytic}, numeric ${numeric}`).toBeLessThan(1e-6);
    }
  expect(nonZero, `${what}: an all-zero gradient proves nothing`).toBeGreaterThan(0);
}
