/**
 * Adam ("Adaptive Momentum" in the notes): the momentum term combined with RMSProp's gradient
 * normalization, m₀ = v₀ = 0, step count k = 1, 2, … (elementwise):
 *
 *   m ← β₁ m + (1 − β₁) g                 momentum
 *   v ← β₂ v + (1 − β₂) g²                gradient norm
 *   m̂ = m / (1 − β₁ᵏ),  v̂ = v / (1 − β₂ᵏ)  bias correction ("initialization m₀ = 0, v₀ = 0 leads to
 *                                          underestimation fixed by c_i(k) = 1/(1 − γ_iᵏ)")
 *   θ ← θ − η m̂ / √(v̂ + ε)
 *
 * ε sits inside the root, as the notes write it: η c₂(k) / √(c₁(k) v + ε) · m. β₁ = 0.9 decays the
 * momentum and β₂ = 0.999 the squared gradients, as in Kingma & Ba and the `adam(beta1, beta2)`
 * names; the notes attach their γ₁ (= 0.9) to v and γ₂ (= 0.999) to m, which reads as a swap.
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { FloatArray, ParamSet } from "../types.js";
import { FirstOrderOptimizer, hyper, inUnitInterval, nonNegative } from "./common.js";

export class Adam extends FirstOrderOptimizer {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(config: OptimizerConfig, params: ParamSet) {
    super("adam", params, ["m", "v"]);
    this.beta1 = hyper(config, "beta1", inUnitInterval, "in [0, 1)");
    this.beta2 = hyper(config, "beta2", inUnitInterval, "in [0, 1)");
    this.eps = hyper(config, "eps", nonNegative, "≥ 0");
  }

  protected update(j: number, p: FloatArray, g: FloatArray, lr: number): void {
    const m = this.buffers.m![j]!;
    const v = this.buffers.v![j]!;
    const { beta1, beta2, eps } = this;
    const c1 = 1 / (1 - Math.pow(beta1, this.t));
    const c2 = 1 / (1 - Math.pow(beta2, this.t));
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * gi;
      const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i]! -= (lr * (mi * c1)) / Math.sqrt(vi * c2 + eps);
    }
  }
}
