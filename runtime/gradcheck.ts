/**
 * The gradient check behind `nnc check`: the emitted gradientBatch against central finite
 * differences of the emitted lossBatch, in float64, at random parameters and random samples.
 *
 * Error measure per element: |analytic − numeric| / max(|analytic|, |numeric|, 1e-3): relative
 * where the gradient is not tiny, absolute (scaled by 1e-3) near zero, where a relative error
 * would only measure the finite-difference noise.
 */
import type { CompiledModule } from "./load-module.js";
import { mulberry32 } from "./random.js";

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

export function gradCheck(mod: CompiledModule, options: GradCheckOptions = {}): GradCheckResult {
  const seed = options.seed ?? 1;
  const count = options.samples ?? 3;
  const random = mulberry32(seed);
  const params = mod.createParams();
  mod.initParams(params, seed);
  // move off the initializers' special points (zero biases, constant(1) scales)
  for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.5 * (random() - 0.5);
  const batch = (shapes: Record<string, number[]>, lo: number, hi: number) =>
    Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: count * size(s) }, () => lo + (hi - lo) * random())]));
  const inputs = batch(mod.meta.inputs, -1, 1);
  const targets = batch(mod.meta.targets, 0.05, 0.95);
  const grad = mod.createParams();
  const loss = mod.gradientBatch(params, inputs, targets, count, grad);
  const results: ParamCheck[] = [];
  for (const [name, v] of Object.entries(params)) {
    let worst = 0, at = 0, an = 0, nu = 0;
    const limit = options.elements ?? 200;
    const picks = v.length <= limit ? Array.from(v.keys()) : Array.from({ length: limit }, () => Math.floor(random() * v.length));
    for (const i of picks) {
      const orig = v[i]!;
      const h = 1e-5 * Math.max(1, Math.abs(orig));
      v[i] = orig + h;
      const up = mod.lossBatch(params, inputs, targets, count);
      v[i] = orig - h;
      const down = mod.lossBatch(params, inputs, targets, count);
      v[i] = orig;
      const numeric = (up - down) / (2 * h);
      const analytic = grad[name]![i]!;
      const err = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3);
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
