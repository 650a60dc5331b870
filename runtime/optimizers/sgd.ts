/** Plain (mini-batch) gradient descent, as in the notes: θ ← θ − η g. No state besides t. */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { FloatArray, ParamSet } from "../types.js";
import { FirstOrderOptimizer } from "./common.js";

export class Sgd extends FirstOrderOptimizer {
  constructor(_config: OptimizerConfig, params: ParamSet) {
    super("sgd", params, []);
  }

  /**
   * Counts a step the generated module's sgdStep made itself (the same θ ← θ − η g, fused into
   * the backward pass), so that the step count in a checkpoint stays right.
   */
  stepTaken(): void {
    this.t++;
  }

  protected update(_j: number, p: FloatArray, g: FloatArray, lr: number): void {
    for (let i = 0; i < p.length; i++) p[i]! -= lr * g[i]!;
  }
}
