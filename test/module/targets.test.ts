/**
 * The wasm target keeps the module's surface and semantics (language §10): on every valid model of
 * the corpus, each public function of the `--target wasm` module gives what the TypeScript
 * module gives (the TypeScript module's own semantics are held by batch.test.ts, the golden
 * gradient checks and the oracle), to rounding: the kernels sum in another order. Batches of every
 * count from 1 to 2 × lanes + 3 on the looped models (full blocks and tails), parameters made by
 * createParams (in the kernels' memory) and made elsewhere (copied in and out on each call).
 */
import { describe, expect, it } from "vitest";
import { WASM_LANES } from "../../compiler/codegen/emit-module.js";
import { compile, type CompileOptions } from "../../compiler/pipeline.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { validModels, type CorpusEntry } from "../helpers/corpus.js";
import { rng } from "../helpers/random.js";
import type { FloatArray } from "../../runtime/types.js";
import type { Precision } from "../../compiler/target.js";

type Params = Record<string, FloatArray>;
type Batch = Record<string, FloatArray>;

const MAX = 2 * WASM_LANES + 3;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

async function build(entry: CorpusEntry, target: CompileOptions["target"], precision: Precision): Promise<{ mod: CompiledModule; ts: string }> {
  const r = await compile(entry.source, { file: entry.path, target, precision });
  expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
  return { mod: await loadModule(r.js!), ts: r.ts! };
}

function batch(T: typeof Float64Array | typeof Float32Array, shapes: Record<string, number[]>, random: () => number, lo: number, hi: number): Batch {
  return Object.fromEntries(
    Object.entries(shapes).map(([k, s]) => {
      const a = new T(MAX * size(s));
      for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * random();
      return [k, a];
    }),
  );
}

/** |a − b| ≤ rel · max(|a|, |b|, scale) elementwise; scale: the tensor's largest magnitude */
function expectClose(a: Params, b: Params, rel: number, what: string): void {
  for (const [k, e] of Object.entries(b)) {
    let scale = 0;
    for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]!));
    const got = a[k]!;
    for (let i = 0; i < e.length; i++) {
      const bound = rel * Math.max(Math.abs(e[i]!), Math.abs(got[i]!), scale, 1e-300);
      if (!(Math.abs(got[i]! - e[i]!) <= bound)) expect.fail(`${what} ${k}[${i}]: wasm ${got[i]} vs ts ${e[i]} (bound ${bound})`);
    }
  }
}

function expectNear(a: number, b: number, rel: number, what: string): void {
  expect(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-300), `${what}: wasm ${a} vs ts ${b}`).toBe(true);
}

const copy = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));
/** the same values in arrays the wasm module did not make (outside its memory) */
const outside = copy;
/** the same values in arrays the module made */
function inside(mod: CompiledModule, p: Params): Params {
  const q = mod.createParams();
  for (const [k, v] of Object.entries(p)) q[k]!.set(v);
  return q;
}

/** f64: rounding of another summation order; f32: float32 rounding of the stored values, relative to each tensor's scale */
const TOLERANCE: Record<Precision, { rel: number; step: number }> = { f64: { rel: 1e-10, step: 1e-8 }, f32: { rel: 2e-4, step: 2e-3 } };

describe.each((["f64", "f32"] as const).flatMap((precision) => validModels().map((e) => [e.path, precision, e] as const)))("%s, %s: --target wasm gives what --target ts gives", (_path, precision, entry) => {
  const REL = TOLERANCE[precision].rel;
  const STEP = TOLERANCE[precision].step;
  const T = precision === "f32" ? Float32Array : Float64Array;
  it("every public function, every count 1 … 2 × lanes + 3", async () => {
    const ts = await build(entry, "ts", precision);
    const wasm = await build(entry, "wasm", precision);
    const a = wasm.mod;
    const b = ts.mod;
    expect(a.meta).toEqual(b.meta);
    const random = rng(11);
    const params = b.createParams();
    b.initParams(params, 4);
    for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.2 * (random() - 0.5);
    const wasmInit = a.createParams();
    a.initParams(wasmInit, 4);
    const tsInit = b.createParams();
    b.initParams(tsInit, 4);
    expectClose(wasmInit, tsInit, 0, "initParams");
    const inputs = batch(T, b.meta.inputs, random, -1, 1);
    const targets = batch(T, b.meta.targets, random, 0.05, 0.95);
    const looped = /kernels\.dense_/.test(wasm.ts);
    // many weights, or convolutions (the ts module's are slow: mnist-cnn's 67 counts took over a minute): sampled counts
    const big = Object.values(b.meta.params).some((s) => size(s) > 50000) || /kernels\.conv_/.test(wasm.ts);
    const counts = looped && !big ? Array.from({ length: MAX }, (_, k) => k + 1) : [1, 3, WASM_LANES, WASM_LANES + 3, MAX];
    for (const [where, p] of [["createParams", inside(a, params)], ["plain arrays", outside(params)]] as const) {
      const ga = a.createParams();
      const gb = b.createParams();
      const gOut = outside(gb);
      for (const count of counts) {
        const grad = where === "createParams" ? ga : gOut;
        const la = a.gradientBatch(p, inputs, targets, count, grad);
        const lb = b.gradientBatch(params, inputs, targets, count, gb);
        expectNear(la, lb, REL, `${where}: gradientBatch's loss, count ${count}`);
        expectClose(grad, gb, REL, `${where}: gradientBatch, count ${count}`);
        expectNear(a.lossBatch(p, inputs, targets, count), lb, REL, `${where}: lossBatch, count ${count}`);
      }
      expectClose(p, params, 0, `${where}: the parameters are left as they were`);
    }
    // the per-sample functions, the outputs, the steps
    const p = inside(a, params);
    const sample = (shapes: Record<string, number[]>, all: Batch, n: number) =>
      Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, s.length === 0 ? all[k]![n]! : all[k]!.slice(n * size(s), (n + 1) * size(s))]));
    const si = sample(b.meta.inputs, inputs, 2);
    const st = sample(b.meta.targets, targets, 2);
    const ga = a.createParams();
    const gb = b.createParams();
    expectNear(a.gradient(p, si, st, ga), b.gradient(params, si, st, gb), REL, "gradient's loss");
    expectClose(ga, gb, REL, "gradient");
    expectNear(a.loss(p, si, st), b.loss(params, si, st), REL, "loss");
    const outs = (m: CompiledModule) => Object.fromEntries(Object.entries(m.meta.outputs).map(([k, s]) => [k, new T(MAX * size(s))]));
    const oa = outs(a);
    const ob = outs(b);
    a.predictBatch(p, inputs, MAX, oa);
    b.predictBatch(params, inputs, MAX, ob);
    expectClose(oa, ob, REL, "predictBatch");
    expectNear(a.evaluateBatch(p, inputs, targets, MAX, oa), b.evaluateBatch(params, inputs, targets, MAX, ob), REL, "evaluateBatch's loss");
    expectClose(oa, ob, REL, "evaluateBatch's outputs");
    const asParams = (o: Record<string, FloatArray | number>): Params =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "number" ? Float64Array.of(v) : Float64Array.from(v)]));
    expectClose(asParams(a.predict(p, si)), asParams(b.predict(params, si)), REL, "predict");
    for (const count of [1, 5, MAX]) {
      const pa = inside(a, params);
      const pb = copy(params);
      expectNear(a.sgdStep(pa, inputs, targets, count, 0.1, a.createParams(), a.createRandom(3)), b.sgdStep(pb, inputs, targets, count, 0.1, b.createParams(), b.createRandom(3)), REL, `sgdStep's loss, count ${count}`);
      expectClose(pa, pb, REL, `sgdStep, count ${count}`);
      const qa = inside(a, params);
      const qb = copy(params);
      const sa = a.createOptimizerState({ name: "adam", lr: 0.01 });
      const sb = b.createOptimizerState({ name: "adam", lr: 0.01 });
      for (let step = 0; step < 3; step++) {
        const la = a.optimizerStep(qa, sa, inputs, targets, count, a.createParams(), a.createRandom(step));
        const lb = b.optimizerStep(qb, sb, inputs, targets, count, b.createParams(), b.createRandom(step));
        expectNear(la, lb, STEP, `optimizerStep (adam) ${step}'s loss, count ${count}`);
      }
      expectClose(qa, qb, STEP, `optimizerStep (adam), count ${count}`);
    }
    // training mode: the same masks from the same seed
    const ta = a.createParams();
    const tb = b.createParams();
    expectNear(a.gradientBatchTrain(p, inputs, targets, MAX, ta, a.createRandom(9)), b.gradientBatchTrain(params, inputs, targets, MAX, tb, b.createRandom(9)), REL, "gradientBatchTrain's loss");
    expectClose(ta, tb, REL, "gradientBatchTrain");
  });
});
