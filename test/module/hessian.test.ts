/**
 * The emitted Hessian-vector products (language §10, "Second order") on every valid model of the
 * corpus: hessianVectorProduct against central differences of `gradient` along v and
 * hessianVectorProductBatch against those of `gradientBatch` (float64, 1e-6 relative to the
 * product's largest element), the symmetry of H (uᵀ(Hv) = vᵀ(Hu) to 1e-10), the batch version as
 * the mean of the per-sample ones with parameter-only terms once (the per-sample functions count
 * them once per call too), the loss they return, `out` overwritten; and the same products from the
 * wasm target and, to float32 rounding, from f32 modules.
 */
import { describe, expect, it } from "vitest";
import { compile, type CompileOptions } from "../../compiler/pipeline.js";
import type { Precision } from "../../compiler/target.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import type { FloatArray } from "../../runtime/types.js";
import { setOf, validModels, type CorpusEntry } from "../helpers/corpus.js";
import { randomParams, rng } from "../helpers/random.js";

type Params = Record<string, FloatArray>;
type Sample = Record<string, FloatArray | number>;
type Batch = Record<string, FloatArray>;

/** one block of eight lanes and a tail of three in the looped models (lane mode on the ts target) */
const COUNT = 11;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

async function build(entry: CorpusEntry, target: CompileOptions["target"] = "ts", precision: Precision = "f64"): Promise<CompiledModule> {
  const r = await compile(entry.source, { file: entry.path, set: setOf(entry.source), target, precision });
  expect(r.diagnostics.list.filter((d) => d.severity === "error"), `${entry.path} does not compile`).toEqual([]);
  return loadModule(r.js!);
}

interface Fixture {
  params: Params;
  inputs: Batch;
  targets: Batch;
  samples: { inputs: Sample; targets: Sample }[];
  u: Params;
  v: Params;
}

function fixture(mod: CompiledModule, seed: number): Fixture {
  const params = randomParams(mod, seed);
  const random = rng(seed + 1000);
  const batch = (shapes: Record<string, number[]>, lo: number, hi: number): Batch =>
    Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: COUNT * size(s) }, () => lo + (hi - lo) * random())]));
  const inputs = batch(mod.meta.inputs, -1, 1);
  const targets = batch(mod.meta.targets, 0.05, 0.95);
  const sampleOf = (shapes: Record<string, number[]>, b: Batch, n: number): Sample =>
    Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, s.length === 0 ? b[k]![n]! : b[k]!.slice(n * size(s), (n + 1) * size(s))]));
  const samples = Array.from({ length: COUNT }, (_, n) => ({ inputs: sampleOf(mod.meta.inputs, inputs, n), targets: sampleOf(mod.meta.targets, targets, n) }));
  const direction = () => {
    const d = mod.createParams();
    for (const a of Object.values(d)) for (let i = 0; i < a.length; i++) a[i] = random() - 0.5;
    return d;
  };
  return { params, inputs, targets, samples, u: direction(), v: direction() };
}

/** θ + t·v, in the module's own arrays */
function moved(mod: CompiledModule, params: Params, v: Params, t: number): Params {
  const p = mod.createParams();
  for (const [k, a] of Object.entries(p)) for (let i = 0; i < a.length; i++) a[i] = params[k]![i]! + t * v[k]![i]!;
  return p;
}

/** (∇(θ + hv) − ∇(θ − hv)) / 2h for a gradient function writing into its last argument */
function centralDifference(mod: CompiledModule, f: Fixture, gradient: (p: Params, g: Params) => void, h: number): Params {
  const up = mod.createParams();
  const down = mod.createParams();
  gradient(moved(mod, f.params, f.v, h), up);
  gradient(moved(mod, f.params, f.v, -h), down);
  for (const [k, a] of Object.entries(up)) for (let i = 0; i < a.length; i++) a[i] = (a[i]! - down[k]![i]!) / (2 * h);
  return up;
}

/** elementwise |a − b| ≤ rel · max(|a|, |b|, the largest |b| of all parameters) */
function expectClose(actual: Params, expected: Params, rel: number, what: string): void {
  expectCloseToOne(actual, [expected], rel, what);
}

/**
 * expectClose against the first of several expectations, elementwise: each element of `actual` must
 * be close to that element of one of them (each with its own scale).
 */
function expectCloseToOne(actual: Params, candidates: readonly Params[], rel: number, what: string): void {
  const scales = candidates.map((c) => {
    let scale = 0;
    for (const e of Object.values(c)) for (const x of e) scale = Math.max(scale, Math.abs(x));
    return scale;
  });
  for (const [k, a] of Object.entries(actual)) {
    for (let i = 0; i < a.length; i++) {
      const close = candidates.some((c, j) => Math.abs(a[i]! - c[k]![i]!) <= rel * Math.max(Math.abs(a[i]!), Math.abs(c[k]![i]!), scales[j]!, 1e-300));
      if (!close) expect.fail(`${what} ${k}[${i}]: ${a[i]} vs ${candidates.map((c) => c[k]![i]).join(" / ")} (relative bound ${rel})`);
    }
  }
}

/**
 * Central differences of a gradient along v at the steps h, h/16 and h/256. A ReLU's kink between
 * θ − hv and θ + hv (mnist-cnn has thousands of ReLUs) makes the difference a jump over 2h, not a
 * derivative; a smaller step leaves it outside unless it sits at θ itself. gradCheck
 * (runtime/gradcheck.ts) retries a smaller step for the same reason.
 */
function centralDifferences(mod: CompiledModule, f: Fixture, gradient: (p: Params, g: Params) => void, h: number): Params[] {
  return [h, h / 16, h / 256].map((step) => centralDifference(mod, f, gradient, step));
}

function dot(a: Params, b: Params): { value: number; magnitude: number } {
  let value = 0;
  let magnitude = 0;
  for (const [k, x] of Object.entries(a))
    for (let i = 0; i < x.length; i++) {
      value += x[i]! * b[k]![i]!;
      magnitude += Math.abs(x[i]! * b[k]![i]!);
    }
  return { value, magnitude };
}

const nonzero = (p: Params) => Object.values(p).some((a) => a.some((x) => x !== 0));
const filled = (mod: CompiledModule, value: number): Params => {
  const p = mod.createParams();
  for (const a of Object.values(p)) a.fill(value);
  return p;
};

describe.each(validModels().map((e) => [e.path, e] as const))("%s", (_path, entry) => {
  let cached: Promise<CompiledModule> | null = null;
  const mod = () => (cached ??= build(entry));
  const H = 1e-6;

  it("hessianVectorProduct is the central difference of gradient along v, and H is symmetric", async () => {
    const m = await mod();
    const f = fixture(m, 21);
    for (const s of f.samples.slice(0, 2)) {
      const hv = filled(m, Number.NaN); // whatever was in out must not matter
      const loss = m.hessianVectorProduct(f.params, s.inputs, s.targets, f.v, hv);
      expect(loss).toBe(m.loss(f.params, s.inputs, s.targets));
      const numeric = centralDifferences(m, f, (p, g) => m.gradient(p, s.inputs, s.targets, g), H);
      expectCloseToOne(hv, numeric, 1e-6, "H·v vs central differences of gradient");
      const hu = m.createParams();
      m.hessianVectorProduct(f.params, s.inputs, s.targets, f.u, hu);
      const uHv = dot(f.u, hv);
      const vHu = dot(f.v, hu);
      expect(Math.abs(uHv.value - vHu.value) <= 1e-10 * Math.max(uHv.magnitude, vHu.magnitude, 1e-300), `uᵀHv ${uHv.value} vs vᵀHu ${vHu.value}`).toBe(true);
    }
  });

  it("hessianVectorProductBatch is the mean of the per-sample products, parameter-only terms once", async () => {
    const m = await mod();
    const f = fixture(m, 22);
    const mean = m.createParams();
    const one = m.createParams();
    let lossSum = 0;
    for (const s of f.samples) {
      lossSum += m.hessianVectorProduct(f.params, s.inputs, s.targets, f.v, one);
      for (const [k, a] of Object.entries(one)) for (let i = 0; i < a.length; i++) mean[k]![i]! += a[i]! / COUNT;
    }
    const batch = filled(m, Number.NaN);
    const loss = m.hessianVectorProductBatch(f.params, f.inputs, f.targets, COUNT, f.v, batch);
    expect(Math.abs(loss - lossSum / COUNT) <= 1e-12 * Math.abs(loss)).toBe(true);
    expect(Math.abs(loss - m.lossBatch(f.params, f.inputs, f.targets, COUNT)) <= 1e-12 * Math.abs(loss)).toBe(true);
    expectClose(batch, mean, 1e-12, "hessianVectorProductBatch vs mean of hessianVectorProduct");
    // against the batch objective itself: parameter-only terms once, not once per sample
    const numeric = centralDifferences(m, f, (p, g) => m.gradientBatch(p, f.inputs, f.targets, COUNT, g), H);
    expectCloseToOne(batch, numeric, 1e-6, "H·v of the batch vs central differences of gradientBatch");
    expect(nonzero(batch), "some H·v is nonzero").toBe(true);
    // a batch of one is the sample
    const first = m.createParams();
    m.hessianVectorProductBatch(f.params, f.inputs, f.targets, 1, f.v, first);
    m.hessianVectorProduct(f.params, f.samples[0]!.inputs, f.samples[0]!.targets, f.v, one);
    expectClose(first, one, 1e-15, "hessianVectorProductBatch(count 1) vs hessianVectorProduct");
  });

  // only where there are logits: a model without softmax or sigmoid gets no such test rather than a skipped one
  if (/softmax|sigmoid/.test(entry.source))
    it("stays finite where the logits are huge (the stable forms' second derivatives)", async () => {
      const m = await mod();
      const f = fixture(m, 24);
      // parameters a thousand times their size: logits in the thousands, whose exp overflows
      for (const a of Object.values(f.params)) for (let i = 0; i < a.length; i++) a[i] = a[i]! * 1000;
      const out = m.createParams();
      const loss = m.hessianVectorProductBatch(f.params, f.inputs, f.targets, COUNT, f.v, out);
      expect(Number.isFinite(loss), `loss ${loss}`).toBe(true);
      for (const [k, a] of Object.entries(out)) expect(a.every(Number.isFinite), `H·v ${k} finite`).toBe(true);
    });

  it("the wasm target and f32 precision give the same products", async () => {
    const m = await mod();
    const f = fixture(m, 23);
    const expected = m.createParams();
    const loss = m.hessianVectorProductBatch(f.params, f.inputs, f.targets, COUNT, f.v, expected);
    for (const [target, precision] of [["wasm", "f64"], ["ts", "f32"], ["wasm", "f32"]] as const) {
      const other = await build(entry, target, precision);
      const convert = (p: Params): Params => {
        const q = other.createParams();
        for (const [k, a] of Object.entries(q)) a.set(p[k]!);
        return q;
      };
      const T = precision === "f32" ? Float32Array : Float64Array;
      const data = (b: Batch): Batch => Object.fromEntries(Object.entries(b).map(([k, a]) => [k, T.from(a)]));
      const out = convert(filled(m, Number.NaN));
      const l = other.hessianVectorProductBatch(convert(f.params), data(f.inputs), data(f.targets), COUNT, convert(f.v), out);
      // f32: every stored value rounds to float32 (relative 6e-8) through the forward, backward and tangent passes
      const rel = precision === "f32" ? 1e-3 : 1e-12;
      expect(Math.abs(l - loss) <= rel * Math.max(1, Math.abs(loss)), `${target} ${precision} loss ${l} vs ${loss}`).toBe(true);
      expectClose(out, expected, rel, `${target} ${precision} H·v`);
    }
  });
});
