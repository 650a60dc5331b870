/**
 * RMSProp ("Gradient Normalisation" in the notes): "normalize gradient by running average of
 * gradient norm". As the notes write it, v₀ = 0, elementwise:
 *
 *   v_{k+1,i} = γ v_{k,i} + (1 − γ) g_{k,i}²
 *   θ_{k+1,i} = θ_{k,i} − η / √(v_{k+1,i} + ε) · g_{k,i}
 *
 * "with a small ϵ to prevent division by zero" — ε is added INSIDE the square root, as in the
 * notes (not √v + ε as in some libraries).
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { FloatArray, ParamSet } from "../types.js";
import { FirstOrderOptimizer, hyper, inUnitInterval, nonNegative } from "./common.js";

export class RmsProp extends FirstOrderOptimizer {
  private readonly gamma: number;
  private readonly eps: number;

  constructor(config: OptimizerConfig, params: ParamSet) {
    super("rmsprop", params, ["v"]);
    this.gamma = hyper(config, "gamma", inUnitInterval, "in [0, 1)");
    this.eps = hyper(config, "eps", nonNegative, "≥ 0");
  }

  protected update(j: number, p: FloatArray, g: FloatArray, lr: number): void {
    const v = this.buffers.v![j]!;
    const gamma = this.gamma;
    const eps = this.eps;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const vi = gamma * v[i]! + (1 - gamma) * gi * gi;
      v[i] = vi;
      p[i]! -= (lr / Math.sqrt(vi + eps)) * gi;
    }
  }
}
