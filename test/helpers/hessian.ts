/**
 * A module whose hessianVectorProductBatch is central differences of its own gradientBatch
 * (runtime/hessian-check.ts): an H·v independent of the one the compiler emits, for checking the
 * optimizers apart from it.
 */
import { centralDifferenceHessian } from "../../runtime/hessian-check.js";
import type { CompiledModule } from "../../runtime/load-module.js";

export function withFiniteDifferenceHessian(mod: CompiledModule): CompiledModule {
  const hessianVectorProductBatch: CompiledModule["hessianVectorProductBatch"] = (params, inputs, targets, count, v, out) =>
    centralDifferenceHessian(mod, params, inputs, targets, count, v, out);
  return { ...mod, hessianVectorProductBatch };
}
