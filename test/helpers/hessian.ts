/**
 * H·v by central differences of the emitted gradientBatch: (∇f(θ + hv) − ∇f(θ − hv)) / 2h, with
 * h = 1e-4 · max(1, ‖θ‖∞) / ‖v‖∞. An independent cross-check of the module's own
 * hessianVectorProductBatch (and the stand-in for it before the compiler emitted one). Test-only:
 * it allocates per call.
 */
import type { CompiledModule } from "../../runtime/load-module.js";
import type { FloatArray, ParamSet } from "../../runtime/types.js";

export type HessianVectorProductBatch = (params: ParamSet, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, v: ParamSet, out: ParamSet) => number;

export function finiteDifferenceHessianVectorProductBatch(mod: CompiledModule): HessianVectorProductBatch {
  return (params, inputs, targets, count, v, out) => {
    let scale = 1, vMax = 0;
    for (const [k, p] of Object.entries(params))
      for (let i = 0; i < p.length; i++) {
        scale = Math.max(scale, Math.abs(p[i]!));
        vMax = Math.max(vMax, Math.abs(v[k]![i]!));
      }
    const loss = mod.lossBatch(params, inputs, targets, count);
    if (vMax === 0) {
      for (const o of Object.values(out)) o.fill(0);
      return loss;
    }
    const h = (1e-4 * scale) / vMax;
    const saved = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.slice()]));
    const up = mod.createParams();
    const down = mod.createParams();
    const shift = (by: number) => {
      for (const [k, p] of Object.entries(params)) for (let i = 0; i < p.length; i++) p[i] = saved[k]![i]! + by * v[k]![i]!;
    };
    shift(h);
    mod.gradientBatch(params, inputs, targets, count, up);
    shift(-h);
    mod.gradientBatch(params, inputs, targets, count, down);
    for (const [k, p] of Object.entries(params)) p.set(saved[k]!);
    for (const [k, o] of Object.entries(out)) for (let i = 0; i < o.length; i++) o[i] = (up[k]![i]! - down[k]![i]!) / (2 * h);
    return loss;
  };
}

/** The module with hessianVectorProductBatch by central differences (over its own, if any). */
export function withFiniteDifferenceHessian(mod: CompiledModule): CompiledModule {
  return { ...mod, hessianVectorProductBatch: finiteDifferenceHessianVectorProductBatch(mod) } as CompiledModule;
}
