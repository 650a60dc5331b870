/**
 * Nesterov momentum. The lecture notes do not write this rule down (they give only the plain
 * momentum term), so this is the usual look-ahead form of Sutskever et al. (2013), the one
 * PyTorch's `SGD(nesterov=True)` uses, with velocity v₀ = 0:
 *
 *   v ← μ v + g
 *   θ ← θ − η (g + μ v)
 *
 * i.e. the momentum step is taken from the point the velocity is about to carry θ to. Unlike
 * `momentum` there is no (1 − μ) factor: v is a sum of gradients, so for a steady gradient the step
 * approaches η g / (1 − μ) (10 η g for μ = 0.9).
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { FloatArray, ParamSet } from "../types.js";
import { FirstOrderOptimizer, hyper, inUnitInterval } from "./common.js";

export class Nesterov extends FirstOrderOptimizer {
  private readonly mu: number;

  constructor(config: OptimizerConfig, params: ParamSet) {
    super("nesterov", params, ["v"]);
    this.mu = hyper(config, "mu", inUnitInterval, "in [0, 1)");
  }

  protected update(j: number, p: FloatArray, g: FloatArray, lr: number): void {
    const v = this.buffers.v![j]!;
    const mu = this.mu;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const vi = mu * v[i]! + gi;
      v[i] = vi;
      p[i]! -= lr * (gi + mu * vi);
    }
  }
}
