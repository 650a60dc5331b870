/**
 * A module whose hessianVectorProductBatch is central differences of its own gradientBatch
 * (runtime/hessian-check.ts): an H·v independent of the one the compiler emits, for checking the
 * optimizers apart from it (and the stand-in for it before the compiler emitted one).
 */
import { centralDifferenceHessian } from "../../runtime/hessian-check.js";
import type { CompiledModule } from "../../runtime/load-module.js";
import type { FloatArray, ParamSet } from "../../runtime/types.js";

export function withFiniteDifferenceHessian(mod: CompiledModule): CompiledModule {
  const hessianVectorProductBatch = (params: ParamSet, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, v: ParamSet, out: ParamSet) =>
    centralDifferenceHessian(mod, params, inputs, targets, count, v, out);
  return { ...mod, hessianVectorProductBatch } as CompiledModule;
}
