/**
 * Adagrad (Duchi et al., 2011). The notes do not write it down; this is the standard form, with the
 * sum of squared gradients r₀ = 0 and ε outside the root:
 *
 *   r ← r + g²
 *   θ ← θ − η g / (√r + ε)
 *
 * (elementwise). Each coordinate's step shrinks as its gradients accumulate.
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { FloatArray, ParamSet } from "../types.js";
import { FirstOrderOptimizer, hyper, nonNegative } from "./common.js";

export class Adagrad extends FirstOrderOptimizer {
  private readonly eps: number;

  constructor(config: OptimizerConfig, params: ParamSet) {
    super("adagrad", params, ["r"]);
    this.eps = hyper(config, "eps", nonNegative, "≥ 0");
  }

  protected update(j: number, p: FloatArray, g: FloatArray, lr: number): void {
    const r = this.buffers.r![j]!;
    const eps = this.eps;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const ri = r[i]! + gi * gi;
      r[i] = ri;
      p[i]! -= (lr * gi) / (Math.sqrt(ri) + eps);
    }
  }
}
