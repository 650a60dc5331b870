/**
 * The gradient check behind `nnc check`: the emitted gradientBatch against central finite
 * differences of the emitted lossBatch, in float64, at random parameters and random samples.
 *
 * Error measure per element: |analytic − numeric| / max(|analytic|, |numeric|, 1e-3): relative
 * where the gradient is not tiny, absolute (scaled by 1e-3) near zero, where a relative error
 * would only measure the finite-difference noise.
 *
 * An f32 module (`--precision f32`) cannot be checked that way: a central difference of losses
 * rounded to float32 (relative 6e-8) has an error of about 6e-8·|L|/h, 0.006·|L| at h = 1e-5, and a
 * step large enough to drown it adds truncation error. `precisionCheck` compares its gradient with
 * the f64 module's instead (which gradCheck checks), at the same parameters and samples.
 */
import type { CompiledModule } from "./load-module.js";
import { modulePrecision } from "./precision.js";
import { mulberry32 } from "./random.js";
import type { ParamSet } from "./types.js";

export interface GradCheckOptions {
  readonly seed?: number;
  /** samples in the batch */
  readonly samples?: number;
  /** check at most this many elements per parameter tensor (chosen at random); default 200 */
  readonly elements?: number;
}

export interface ParamCheck {
  readonly name: string;
  readonly size: number;
  /** how many of its elements were checked */
  readonly checked: number;
  readonly worst: number;
  /** flat index of the worst element */
  readonly at: number;
  readonly analytic: number;
  readonly numeric: number;
}

export interface GradCheckResult {
  readonly params: readonly ParamCheck[];
  readonly worst: number;
  readonly loss: number;
}


const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Where the checks look (gradCheck, hessianCheck): the initial parameters moved off the
 * initializers' special points (zero biases, constant(1) scales), and `count` random samples,
 * inputs in [−1, 1] and targets in [0.05, 0.95]; `random` draws on from the same stream.
 */
export function checkPoint(mod: CompiledModule, seed: number, count: number) {
  const random = mulberry32(seed);
  const params = mod.createParams();
  mod.initParams(params, seed);
  for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.5 * (random() - 0.5);
  const batch = (shapes: Record<string, number[]>, lo: number, hi: number) =>
    Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: count * size(s) }, () => lo + (hi - lo) * random())]));
  return { random, params, inputs: batch(mod.meta.inputs, -1, 1), targets: batch(mod.meta.targets, 0.05, 0.95) };
}

/** an element whose error exceeds this is checked again with a smaller step (see gradCheck) */
const KINK_RETRY = 1e-7;

export function gradCheck(mod: CompiledModule, options: GradCheckOptions = {}): GradCheckResult {
  if (modulePrecision(mod) !== "f64")
    throw new Error(`gradCheck: central differences need a float64 module, this one is ${modulePrecision(mod)}: use precisionCheck(module, the same model compiled for f64)`);
  const count = options.samples ?? 3;
  const { random, params, inputs, targets } = checkPoint(mod, options.seed ?? 1, count);
  const grad = mod.createParams();
  const loss = mod.gradientBatch(params, inputs, targets, count, grad);
  const results: ParamCheck[] = [];
  for (const [name, v] of Object.entries(params)) {
    let worst = 0, at = 0, an = 0, nu = 0;
    const limit = options.elements ?? 200;
    const picks = v.length <= limit ? Array.from(v.keys()) : Array.from({ length: limit }, () => Math.floor(random() * v.length));
    for (const i of picks) {
      const orig = v[i]!;
      const analytic = grad[name]![i]!;
      const central = (h: number) => {
        v[i] = orig + h;
        const up = mod.lossBatch(params, inputs, targets, count);
        v[i] = orig - h;
        const down = mod.lossBatch(params, inputs, targets, count);
        v[i] = orig;
        const numeric = (up - down) / (2 * h);
        return { numeric, err: Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3) };
      };
      const h = 1e-5 * Math.max(1, Math.abs(orig));
      let { numeric, err } = central(h);
      // A kink (a ReLU at 0, a max-pool's tie) between θ − h and θ + h spoils the difference: a shared
      // convolution kernel reaches thousands of them. A 16× smaller step most likely crosses none; a
      // wrong gradient would have to match one of the two differences by chance.
      if (!(err <= KINK_RETRY)) {
        const fine = central(h / 16);
        if (fine.err < err) ({ numeric, err } = fine);
      }
      if (!(err <= worst)) {
        worst = Number.isNaN(err) ? Infinity : err;
        at = i;
        an = analytic;
        nu = numeric;
      }
    }
    results.push({ name, size: v.length, checked: picks.length, worst, at, analytic: an, numeric: nu });
  }
  return { params: results, worst: results.reduce((m, r) => Math.max(m, r.worst), 0), loss };
}

/** The default tolerance of `nnc check`, by precision: float64 against central differences, float32 against float64. */
export const CHECK_TOLERANCE = { f64: 1e-6, f32: 1e-3 } as const;

export interface PrecisionParamCheck {
  readonly name: string;
  readonly size: number;
  /** max |reference| over the tensor (at least 1e-3): what the errors are relative to */
  readonly scale: number;
  /** max over the elements of |value − reference| / scale */
  readonly worst: number;
  /** flat index of the worst element, the module's value there and the reference's */
  readonly at: number;
  readonly value: number;
  readonly reference: number;
}

export interface PrecisionCheckResult {
  readonly params: readonly PrecisionParamCheck[];
  /** the largest error of a gradient tensor or of the loss */
  readonly worst: number;
  readonly loss: number;
  readonly referenceLoss: number;
  /** |loss − referenceLoss| / max(|referenceLoss|, 1e-3) */
  readonly lossError: number;
}

/**
 * The gradient and loss of `mod` (an f32 module) against `reference` (the same model compiled for
 * f64), on the same batch at the same parameters: random parameters as in gradCheck and random
 * samples, all rounded to float32 first, so that both modules see exactly the same numbers and
 * differ only in how they compute. Every element of every gradient tensor is compared, relative
 * to the scale of that tensor's gradient (its largest magnitude, at least 1e-3): an element that
 * is a small difference of large terms is off by the rounding of the terms, not of itself.
 */
export function precisionCheck(mod: CompiledModule, reference: CompiledModule, options: Omit<GradCheckOptions, "elements"> = {}): PrecisionCheckResult {
  const seed = options.seed ?? 1;
  const count = options.samples ?? 3;
  const random = mulberry32(seed);
  const params = mod.createParams();
  mod.initParams(params, seed);
  for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = Math.fround(v[i]! + 0.5 * (random() - 0.5));
  const refParams = reference.createParams();
  for (const [k, v] of Object.entries(params)) refParams[k]!.set(v);
  const batch = (shapes: Record<string, number[]>, lo: number, hi: number) =>
    Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: count * size(s) }, () => Math.fround(lo + (hi - lo) * random()))]));
  const inputs = batch(mod.meta.inputs, -1, 1);
  const targets = batch(mod.meta.targets, 0.05, 0.95);
  const as32 = (m: Record<string, Float64Array>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Float32Array.from(v)]));
  const own = modulePrecision(mod) === "f32" ? { inputs: as32(inputs), targets: as32(targets) } : { inputs, targets };
  const grad: ParamSet = mod.createParams();
  const refGrad: ParamSet = reference.createParams();
  const loss = mod.gradientBatch(params, own.inputs, own.targets, count, grad);
  const referenceLoss = reference.gradientBatch(refParams, inputs, targets, count, refGrad);
  const results: PrecisionParamCheck[] = [];
  for (const [name, r] of Object.entries(refGrad)) {
    const g = grad[name]!;
    let scale = 1e-3;
    for (let i = 0; i < r.length; i++) scale = Math.max(scale, Math.abs(r[i]!));
    let worst = 0, at = 0;
    for (let i = 0; i < r.length; i++) {
      const err = Math.abs(g[i]! - r[i]!) / scale;
      if (!(err <= worst)) {
        worst = Number.isNaN(err) ? Infinity : err;
        at = i;
      }
    }
    results.push({ name, size: r.length, scale, worst, at, value: g[at]!, reference: r[at]! });
  }
  const lossError = Math.abs(loss - referenceLoss) / Math.max(Math.abs(referenceLoss), 1e-3);
  const worst = results.reduce((m, r) => Math.max(m, r.worst), Number.isNaN(lossError) ? Infinity : lossError);
  return { params: results, worst, loss, referenceLoss, lossError };
}
