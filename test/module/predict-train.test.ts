/**
 * The training-mode predict MC dropout needs (predictTrain, predictBatchTrain): dropout active with
 * masks from the given random source, on both targets and precisions. With p = 0 it is predict;
 * without dropout it is predict; with dropout its mean over many masks is predict's output where
 * the output is linear in the dropped values (inverted dropout: E[mask] = 1), and the masks follow
 * from the seed alone.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import type { Precision, Target } from "../../compiler/target.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import type { FloatArray } from "../../runtime/types.js";
import { validModels } from "../helpers/corpus.js";
import { randomParams, rng } from "../helpers/random.js";

type Batch = Record<string, FloatArray>;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const COUNT = 37; // a full block of 32 lanes and a tail on the wasm target

/** Dropout between a ReLU layer and a linear (identity) head; `hidden` > 64 weights makes the layers loops. */
const model = (p: number, hidden: number, head = "identity") => `input x[5]
target t[3]
layer h = dense(x, ${hidden}, relu)
d = dropout(h, ${p})
layer y = dense(d, 3, ${head})
loss mse(y, t)
`;

async function build(source: string, target: Target = "ts", precision: Precision = "f64", unroll?: number): Promise<CompiledModule> {
  const r = await compile(source, { file: "predict-train.nn", target, precision, ...(unroll !== undefined ? { unroll } : {}) });
  expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
  return loadModule(r.js!);
}

function inputs(mod: CompiledModule, seed: number): Batch {
  const random = rng(seed);
  const values = (n: number) => Array.from({ length: n }, () => 2 * random() - 1);
  return Object.fromEntries(Object.entries(mod.meta.inputs).map(([k, s]) => [k, mod.meta.precision === "f32" ? Float32Array.from(values(COUNT * size(s))) : Float64Array.from(values(COUNT * size(s)))]));
}

function outputs(mod: CompiledModule): Batch {
  const T = mod.meta.precision === "f32" ? Float32Array : Float64Array;
  return Object.fromEntries(Object.entries(mod.meta.outputs).map(([k, s]) => [k, new T(COUNT * size(s)).fill(Number.NaN)]));
}

const sampleOf = (mod: CompiledModule, all: Batch, n: number) =>
  Object.fromEntries(Object.entries(mod.meta.inputs).map(([k, s]) => [k, s.length === 0 ? all[k]![n]! : all[k]!.slice(n * size(s), (n + 1) * size(s))]));

/** another summation order: relative to the largest output; f32 stores round to float32 (2⁻²⁴ ≈ 6e-8) */
const ROUNDING: Record<Precision, number> = { f64: 1e-13, f32: 3e-7 };

/** equal, or within `rel` of the largest magnitude when rel > 0 */
function expectSame(got: number[], want: number[], rel: number): void {
  if (rel === 0) return void expect(got).toEqual(want);
  expect(got.length).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs));
  got.forEach((v, i) => expect(Math.abs(v - want[i]!), `output ${i}: ${v} vs ${want[i]}`).toBeLessThanOrEqual(rel * scale));
}

const flat = (o: Record<string, FloatArray | number>) => Object.values(o).flatMap((v) => (typeof v === "number" ? [v] : Array.from(v)));

describe.each([
  ["ts", "f64"],
  ["ts", "f32"],
  ["wasm", "f64"],
  ["wasm", "f32"],
] as const)("--target %s --precision %s", (target, precision) => {
  for (const [layout, hidden] of [["unrolled", 6], ["loops", 40]] as const) {
    // exactly, but where predict's dense layers run in the wasm kernels (loops on the wasm target):
    // the training-mode functions draw their masks sample after sample, outside lane mode and so
    // outside the kernels, whose sums are in another order (test/module/targets.test.ts)
    const exactly = target === "ts" || layout === "unrolled";
    it(`${layout}: with p = 0, predictTrain and predictBatchTrain equal predict and predictBatch ${exactly ? "exactly" : "to rounding"}`, async () => {
      const m = await build(model(0, hidden), target, precision);
      expect(m.meta.hasDropout).toBe(true);
      const params = randomParams(m, 3);
      const x = inputs(m, 4);
      const a = outputs(m);
      const b = outputs(m);
      m.predictBatch(params, x, COUNT, a);
      m.predictBatchTrain(params, x, COUNT, b, m.createRandom(5));
      expectSame(Array.from(b.y!), Array.from(a.y!), exactly ? 0 : ROUNDING[precision]);
      for (const n of [0, 7, COUNT - 1]) {
        const s = sampleOf(m, x, n);
        const want = flat(m.predict(params, s));
        expectSame(flat(m.predictTrain(params, s, m.createRandom(n))), want, exactly ? 0 : ROUNDING[precision]);
      }
    });

    it(`${layout}: masks follow from the seed; the batch draws them sample after sample as predictTrain does`, async () => {
      const m = await build(model(0.5, hidden), target, precision);
      const params = randomParams(m, 6);
      const x = inputs(m, 7);
      const a = outputs(m);
      const b = outputs(m);
      const c = outputs(m);
      m.predictBatchTrain(params, x, COUNT, a, m.createRandom(11));
      m.predictBatchTrain(params, x, COUNT, b, m.createRandom(11));
      m.predictBatchTrain(params, x, COUNT, c, m.createRandom(12));
      expect(Array.from(b.y!)).toEqual(Array.from(a.y!));
      expect(Array.from(c.y!)).not.toEqual(Array.from(a.y!));
      const random = m.createRandom(11);
      const one = Array.from({ length: COUNT }, (_, n) => flat(m.predictTrain(params, sampleOf(m, x, n), random))).flat();
      expect(one).toEqual(Array.from(a.y!));
      // and differ from inference (dropout really is active)
      const inference = outputs(m);
      m.predictBatch(params, x, COUNT, inference);
      expect(Array.from(a.y!)).not.toEqual(Array.from(inference.y!));
    });
  }

  it("with dropout before a linear head, the mean over 4000 masks is predict's output within 4.5 standard errors", async () => {
    const m = await build(model(0.5, 40), target, precision);
    const params = randomParams(m, 8);
    const x = inputs(m, 9);
    const exact = outputs(m);
    m.predictBatch(params, x, COUNT, exact);
    const PASSES = 4000;
    const n = exact.y!.length;
    const sum = new Float64Array(n);
    const sumSq = new Float64Array(n);
    const pass = outputs(m);
    const random = m.createRandom(13);
    for (let k = 0; k < PASSES; k++) {
      m.predictBatchTrain(params, x, COUNT, pass, random);
      for (let i = 0; i < n; i++) {
        sum[i]! += pass.y![i]!;
        sumSq[i]! += pass.y![i]! ** 2;
      }
    }
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const mean = sum[i]! / PASSES;
      const sd = Math.sqrt(Math.max(0, sumSq[i]! / PASSES - mean * mean));
      // E[y] = W E[mask ⊙ h] + b = W h + b: inverted dropout keeps the expectation of a linear head
      const z = Math.abs(mean - exact.y![i]!) / (sd / Math.sqrt(PASSES) + 1e-6 * Math.abs(exact.y![i]!));
      worst = Math.max(worst, z);
      expect(sd, `output ${i} varies over the masks`).toBeGreaterThan(0);
    }
    // 111 outputs, each within 4.5 standard errors (a normal deviate beyond 4.5 has probability 7e-6)
    expect(worst).toBeLessThan(4.5);
  });
});

describe("models without dropout: predictTrain is predict", () => {
  const corpus = validModels().filter((e) => !/mnist/.test(e.key) && !/dropout\(/.test(e.source));
  it.each(corpus.map((e) => [e.path, e] as const))("%s", async (_path, entry) => {
    const r = await compile(entry.source, { file: entry.path });
    const m = await loadModule(r.js!);
    expect(m.meta.hasDropout).toBe(false);
    const params = randomParams(m, 21);
    const x = inputs(m, 22);
    const a = outputs(m);
    const b = outputs(m);
    m.predictBatch(params, x, COUNT, a);
    m.predictBatchTrain(params, x, COUNT, b, m.createRandom(1));
    for (const k of Object.keys(a)) expect(Array.from(b[k]!)).toEqual(Array.from(a[k]!));
    const s = sampleOf(m, x, 2);
    const want = flat(m.predict(params, s));
    expect(flat(m.predictTrain(params, s, m.createRandom(2)))).toEqual(want);
  });
});
