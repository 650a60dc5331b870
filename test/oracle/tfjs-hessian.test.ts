/**
 * Hessian-vector products against an independent framework (issue #12): TensorFlow.js's gradient
 * of its gradient, H·v = ∇_θ (∇_θ L · v) by nested tf.grads on the CPU backend in float32
 * (test/helpers/tfjs-hessian.ts, which also says which tfjs ops differentiate twice and which are
 * rewritten), against nnc's hessianVectorProductBatch and hessianVectorProduct in float64, on both
 * code targets.
 *
 * Tolerances, as relative errors of the whole vector ‖a − b‖₂ / ‖b‖₂:
 * - tfjs's nested H·v is first checked on its own, against central differences of its own float32
 *   gradient: that shows the nested tf.grads (and the rewritten ops) are right, independently of nnc,
 *   to what float32 differences resolve (truncation ~h², rounding ~2⁻²⁴/h: 1e-5…3e-4 at the best h).
 * - nnc against tfjs then agree to float32 rounding, ≤ 1e-6 over seeds — the same level as the
 *   first-order gradients' agreement (also asserted here). Second-order mistakes are far above it:
 *   digits' weight decay counted per sample instead of once moves its H·v by 1.8e-3.
 * NNC_REPORT=1 prints the measured errors.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import type { Model } from "../../compiler/semantics/model.js";
import { TARGETS, type Target } from "../../compiler/target.js";
import { type CompiledModule, loadModule } from "../../runtime/load-module.js";
import { type CorpusEntry, usesImageOps, validModels } from "../helpers/corpus.js";
import { rng } from "../helpers/random.js";
import { type HessianOracleResult, oracleGradientDifferences, oracleHessianVectorProduct } from "../helpers/tfjs-hessian.js";
import { type Formulations, tfReady } from "../helpers/tfjs-oracle.js";

type Arrays = Record<string, Float64Array>;

/** Central-difference steps for tfjs's float32 gradient; the best of them is kept. */
const STEPS = [3e-3, 1e-3];
/** What float32 central differences resolve: measured 1e-5…3e-4 over the corpus, relu kinks the worst. */
const DIFFERENCES = 1e-3;
/** nnc (float64) against tfjs's nested tf.grads (float32): measured ≤ 1e-6 over seeds. */
const AGREEMENT = 5e-6;

beforeAll(async () => {
  await tfReady();
});

// MNIST-sized examples are left out: tfjs interprets per sample, and nested tapes of 100k parameters are slow
// and the image models (helpers/corpus.ts, usesImageOps: the second-order oracle through tfjs's image ops is not set up)
const models = validModels().filter((e) => !/mnist/.test(e.path) && !usesImageOps(e));

/** A random point and direction of one model, every number rounded to float32 so that both sides see the same ones. */
interface Point {
  readonly entry: CorpusEntry;
  readonly model: Model;
  readonly params: Arrays;
  readonly inputs: Arrays;
  readonly targets: Arrays;
  readonly v: Arrays;
  readonly count: number;
}

const modules = new Map<string, Promise<{ model: Model; mod: CompiledModule }>>();
function load(e: CorpusEntry, target: Target) {
  const key = `${target} ${e.path}`;
  if (!modules.has(key))
    modules.set(key, compile(e.source, { file: e.path, target }).then(async (r) => ({ model: r.model!, mod: await loadModule(r.js!) })));
  return modules.get(key)!;
}

const round = (a: Float64Array) => a.map((x) => Math.fround(x));

const points = new Map<string, Promise<Point>>();
function point(e: CorpusEntry): Promise<Point> {
  if (!points.has(e.path))
    points.set(
      e.path,
      load(e, "ts").then(({ model, mod }) => {
        const random = rng(17);
        const count = 3;
        const params = mod.createParams() as Arrays;
        mod.initParams(params, 5);
        for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = Math.fround(v[i]! + 0.4 * (random() - 0.5));
        const fill = (shapes: Record<string, number[]>, lo: number, hi: number) =>
          Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, round(Float64Array.from({ length: count * s.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * random()))]));
        const inputs = fill(mod.meta.inputs, -1, 1);
        const targets = fill(mod.meta.targets, 0.05, 0.95);
        const v = Object.fromEntries(Object.entries(params).map(([k, a]) => [k, round(a.map(() => 2 * random() - 1))]));
        return { entry: e, model, params, inputs, targets, v, count };
      }),
    );
  return points.get(e.path)!;
}

const oracles = new Map<string, HessianOracleResult>();
/** tfjs's H·v of the mean over the point's first `count` samples, once for both targets. */
function oracle(p: Point, count = p.count): HessianOracleResult {
  const key = `${count} ${p.entry.path}`;
  if (!oracles.has(key)) oracles.set(key, oracleHessianVectorProduct(p.entry.source, p.model, p.params, p.inputs, p.targets, count, p.v));
  return oracles.get(key)!;
}

/** ‖a − b‖₂ / ‖b‖₂ over every parameter: the relative error of the whole vector. */
function relative(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>): number {
  let d = 0, n = 0;
  for (const k of Object.keys(b)) {
    const x = a[k]!, y = b[k]!;
    expect(x.length).toBe(y.length);
    for (let i = 0; i < y.length; i++) {
      d += (x[i]! - y[i]!) ** 2;
      n += y[i]! ** 2;
    }
  }
  return Math.sqrt(d) / Math.sqrt(n);
}

function bestDifferences(p: Point, hv: Record<string, Float32Array>, formulations?: Formulations): number {
  const { entry, model, params, inputs, targets, count, v } = p;
  return Math.min(...STEPS.map((h) => relative(hv, oracleGradientDifferences(entry.source, model, params, inputs, targets, count, v, h, formulations))));
}

const report = (line: string) => process.env.NNC_REPORT && console.log(line);

/** A copy of `values` in the module's own arrays. */
function own(mod: CompiledModule, values: Arrays): Arrays {
  const out = mod.createParams() as Arrays;
  for (const k of Object.keys(out)) out[k]!.set(values[k]!);
  return out;
}

/** nnc's loss, gradient and H·v of the batch objective, in the module's own arrays. */
function nnc(mod: CompiledModule, p: Point): { loss: number; grad: Arrays; hv: Arrays } {
  const params = own(mod, p.params), v = own(mod, p.v);
  const grad = mod.createParams() as Arrays, hv = mod.createParams() as Arrays;
  mod.gradientBatch(params, p.inputs, p.targets, p.count, grad);
  const loss = mod.hessianVectorProductBatch(params, p.inputs, p.targets, p.count, v, hv);
  return { loss, grad, hv };
}

/** Sample 0 of a batch, as the per-sample functions take it: a scalar as a number. */
function first(shapes: Record<string, number[]>, batch: Arrays): Record<string, Float64Array | number> {
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, s.length === 0 ? batch[k]![0]! : batch[k]!.slice(0, s.reduce((a, b) => a * b, 1))]));
}

describe("TensorFlow.js's nested tf.grads agree with central differences of its own float32 gradient", () => {
  for (const e of models)
    it(e.path, async () => {
      const p = await point(e);
      const error = bestDifferences(p, oracle(p).hv);
      report(`tfjs nested vs its differences ${e.path}: ${error.toExponential(1)}`);
      expect(error).toBeLessThan(DIFFERENCES);
    });
});

// the interpreter's first-order ops (tf.sigmoid, tf.tanh, tf.softmax): their second derivatives miss the
// saved output's dependence on θ, and the check above catches it with no help from nnc
describe("TensorFlow.js's built-in sigmoid, tanh and softmax give a wrong H·v, which the difference check rejects", () => {
  for (const e of models.filter((m) => /examples\/(xor|iris|digits)\.nn$/.test(m.path)))
    it(e.path, async () => {
      const p = await point(e);
      const naive = oracleHessianVectorProduct(e.source, p.model, p.params, p.inputs, p.targets, p.count, p.v, {});
      const error = bestDifferences(p, naive.hv, {});
      report(`tfjs built-in ops vs differences ${e.path}: ${error.toExponential(1)}`);
      expect(error).toBeGreaterThan(50 * DIFFERENCES);
    });
});

describe.each(TARGETS)("H·v of --target %s agrees with TensorFlow.js", (target) => {
  for (const e of models)
    it(e.path, async () => {
      const p = await point(e);
      const { mod } = await load(e, target);
      const tfjs = oracle(p);
      const ours = nnc(mod, p);
      expect(Math.abs(ours.loss - tfjs.loss)).toBeLessThan(1e-6 * Math.abs(tfjs.loss));
      const first = relative(ours.grad, tfjs.grad), second = relative(ours.hv, tfjs.hv);
      expect(first).toBeLessThan(AGREEMENT);
      expect(second).toBeLessThan(AGREEMENT);
      report(`${target} ${e.path}: gradient ${first.toExponential(1)}, H·v ${second.toExponential(1)}`);
    });
});

// the per-sample export against tfjs on sample 0 alone (the whole loss expression, parameter-only terms included)
describe.each(TARGETS)("per-sample H·v of --target %s agrees with TensorFlow.js", (target) => {
  for (const e of models)
    it(e.path, async () => {
      const p = await point(e);
      const { mod } = await load(e, target);
      const tfjs = oracle(p, 1);
      const hv = mod.createParams() as Arrays;
      const loss = mod.hessianVectorProduct(own(mod, p.params), first(mod.meta.inputs, p.inputs), first(mod.meta.targets, p.targets), own(mod, p.v), hv);
      expect(Math.abs(loss - tfjs.loss)).toBeLessThan(1e-6 * Math.abs(tfjs.loss));
      const error = relative(hv, tfjs.hv);
      report(`${target} per sample ${e.path}: H·v ${error.toExponential(1)}`);
      expect(error).toBeLessThan(AGREEMENT);
    });
});
