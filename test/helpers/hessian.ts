/**
 * A Hessian-vector check for tests: the module's hessianVectorProductBatch against central
 * differences of its gradientBatch along the same v, in float64, at random parameters, samples and
 * direction. The error is relative to the product's largest element (the scale of H·v).
 */
import { centralDifferenceHessian } from "../../runtime/hessian-check.js";
import type { CompiledModule } from "../../runtime/load-module.js";
import type { FloatArray } from "../../runtime/types.js";
import { randomParams, rng } from "./random.js";

type Params = Record<string, FloatArray>;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** the worst |H·v − (∇(θ + hv) − ∇(θ − hv))/2h| over max|H·v| (0 for a zero product) */
export function hvCheck(mod: CompiledModule, seed = 1, count = 3, h = 1e-6): number {
  const random = rng(seed);
  const params = randomParams(mod, seed);
  const batch = (shapes: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float64Array.from({ length: count * size(s) }, () => random())]));
  const inputs = batch(mod.meta.inputs);
  const targets = batch(mod.meta.targets);
  const v = mod.createParams();
  for (const a of Object.values(v)) for (let i = 0; i < a.length; i++) a[i] = random() - 0.5;
  const hv = mod.createParams();
  mod.hessianVectorProductBatch(params, inputs, targets, count, v, hv);
  const gradientAt = (t: number): Params => {
    const p = mod.createParams();
    for (const [k, a] of Object.entries(p)) for (let i = 0; i < a.length; i++) a[i] = params[k]![i]! + t * v[k]![i]!;
    const g = mod.createParams();
    mod.gradientBatch(p, inputs, targets, count, g);
    return g;
  };
  const up = gradientAt(h);
  const down = gradientAt(-h);
  let scale = 0;
  let worst = 0;
  for (const a of Object.values(hv)) for (const x of a) scale = Math.max(scale, Math.abs(x));
  for (const [k, a] of Object.entries(hv))
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - (up[k]![i]! - down[k]![i]!) / (2 * h)));
  return scale === 0 ? worst : worst / scale;
}

/**
 * A module whose hessianVectorProductBatch is central differences of its own gradientBatch
 * (runtime/hessian-check.ts): an H·v independent of the one the compiler emits, for checking the
 * optimizers apart from it.
 */

export function withFiniteDifferenceHessian(mod: CompiledModule): CompiledModule {
  const hessianVectorProductBatch: CompiledModule["hessianVectorProductBatch"] = (params, inputs, targets, count, v, out) =>
    centralDifferenceHessian(mod, params, inputs, targets, count, v, out);
  return { ...mod, hessianVectorProductBatch };
}
