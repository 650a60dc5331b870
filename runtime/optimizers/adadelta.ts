/**
 * Adadelta (Zeiler 2012, "ADADELTA: an adaptive learning rate method"), which the notes name
 * beside RMSProp. RMSProp's running average of squared gradients, and a second running average of
 * squared updates whose root gives the step its units, so that no learning rate is needed
 * (elementwise; E[g²]₀ = E[Δθ²]₀ = 0):
 *
 *   E[g²]  ← ρ E[g²] + (1 − ρ) g²
 *   Δθ     = √(E[Δθ²] + ε) / √(E[g²] + ε) · g
 *   E[Δθ²] ← ρ E[Δθ²] + (1 − ρ) Δθ²
 *   θ      ← θ − η Δθ
 *
 * η (`lr`, default 1) only scales the step, as in torch.optim.Adadelta; ε = 1e-6 also starts the
 * steps (with E[Δθ²] = 0 the first one is about √ε/√(1−ρ) in size), which is why it is larger
 * than Adam's. The state arrays: g2 = E[g²], dx2 = E[Δθ²].
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { FloatArray, ParamSet } from "../types.js";
import { FirstOrderOptimizer, hyper, inUnitInterval } from "./common.js";

export class Adadelta extends FirstOrderOptimizer {
  private readonly rho: number;
  private readonly eps: number;

  constructor(config: OptimizerConfig, params: ParamSet) {
    super("adadelta", params, ["g2", "dx2"]);
    this.rho = hyper(config, "rho", inUnitInterval, "in [0, 1)");
    // ε > 0: with E[Δθ²] = 0 at the start, ε = 0 would never move θ
    this.eps = hyper(config, "eps", (x) => x > 0, "> 0");
  }

  protected update(j: number, p: FloatArray, g: FloatArray, lr: number): void {
    const g2 = this.buffers.g2![j]!;
    const dx2 = this.buffers.dx2![j]!;
    const { rho, eps } = this;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const g2i = rho * g2[i]! + (1 - rho) * gi * gi;
      const dxi = (Math.sqrt(dx2[i]! + eps) / Math.sqrt(g2i + eps)) * gi;
      g2[i] = g2i;
      dx2[i] = rho * dx2[i]! + (1 - rho) * dxi * dxi;
      p[i]! -= lr * dxi;
    }
  }
}
