/**
 * SGD with a momentum term, exactly as the notes (and design doc §5) write it — a running
 * (geometric) average of the gradients, m₀ = 0:
 *
 *   m ← γ m + (1 − γ) g
 *   θ ← θ − η m
 *
 * Note the (1 − γ): m is an average of gradients, not a sum, so η keeps the scale it has in SGD.
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { FloatArray, ParamSet } from "../types.js";
import { FirstOrderOptimizer, hyper, inUnitInterval } from "./common.js";

export class Momentum extends FirstOrderOptimizer {
  private readonly gamma: number;

  constructor(config: OptimizerConfig, params: ParamSet) {
    super("momentum", params, ["m"]);
    this.gamma = hyper(config, "gamma", inUnitInterval, "in [0, 1)");
  }

  protected update(j: number, p: FloatArray, g: FloatArray, lr: number): void {
    const m = this.buffers.m![j]!;
    const gamma = this.gamma;
    for (let i = 0; i < p.length; i++) {
      const mi = gamma * m[i]! + (1 - gamma) * g[i]!;
      m[i] = mi;
      p[i]! -= lr * mi;
    }
  }
}
