/**
 * The full-batch optimizers of the `train { }` block — lbfgs, newton and newton_cg — behind one
 * interface for the training loop: one `iterate` per epoch on the whole training set, in inference
 * mode (no dropout: the objective must be the same deterministic function on every call), with
 * state for checkpoints. newton and newton_cg also need the module's `hessianVectorProductBatch`.
 */
import type { OptimizerConfig } from "../compiler/semantics/model.js";
import { FULL_BATCH_OPTIMIZERS } from "../compiler/semantics/train-block.js";
import type { CompiledModule } from "./load-module.js";
import { createLbfgs, type Lbfgs } from "./optimizers/lbfgs.js";
import type { SecondOrder } from "./optimizers/damped-newton.js";
import { createNewton } from "./optimizers/newton.js";
import { createNewtonCg } from "./optimizers/newton-cg.js";
import { batchHessianOf } from "./hessian-check.js";
import type { Dataset, HessianVectorProduct, Objective, OptimizerState, ParamSet } from "./types.js";

export interface FullBatchOptimizer {
  /** one iteration; returns the loss at the parameters after it */
  iterate(params: ParamSet): number;
  state(): OptimizerState;
  restore(state: OptimizerState): void;
}

/** the module's Hessian-vector product on the data set, or null when it has none (a module of an older nnc) */
export function hessianVectorProductOf(mod: CompiledModule, data: Dataset): HessianVectorProduct | null {
  const batch = batchHessianOf(mod);
  if (batch === null) return null;
  return (p, v, out) => batch(p, data.inputs, data.targets, data.count, v, out);
}

export function isFullBatch(name: string): boolean {
  return (FULL_BATCH_OPTIMIZERS as readonly string[]).includes(name);
}

/**
 * The optimizer object of a full-batch config — its constructor checks the arguments (and newton's
 * size limit) — for its state; `createFullBatch` binds it to the objective.
 */
export function createFullBatchOptimizer(config: OptimizerConfig, params: ParamSet): Lbfgs | SecondOrder {
  const args = config.args;
  if (config.name === "lbfgs") return createLbfgs(params, { history: args.history ?? 10, lr: args.lr ?? 1 });
  if (config.name === "newton") return createNewton(params, { damping: args.damping });
  if (config.name === "newton_cg") return createNewtonCg(params, { damping: args.damping, iterations: args.iterations });
  throw new Error(`${config.name} is not a full-batch optimizer`);
}

/** The optimizer for a full-batch config, or null for a first-order one. */
export function createFullBatch(mod: CompiledModule, config: OptimizerConfig, params: ParamSet, data: Dataset): FullBatchOptimizer | null {
  if (!isFullBatch(config.name)) return null;
  const f: Objective = (p, g) => mod.gradientBatch(p, data.inputs, data.targets, data.count, g);
  const opt = createFullBatchOptimizer(config, params);
  if (config.name === "lbfgs") {
    const lbfgs = opt as Lbfgs;
    return { iterate: (p) => lbfgs.iterate(p, f).loss, state: () => lbfgs.state(), restore: (s) => lbfgs.restore(s) };
  }
  const hv = hessianVectorProductOf(mod, data);
  if (hv === null) throw new Error(`optimizer ${config.name} needs the module's hessianVectorProductBatch, which this module does not export: compile it with this version of nnc`);
  const second = opt as SecondOrder;
  return { iterate: (p) => second.iterate(p, f, hv).loss, state: () => second.state(), restore: (s) => second.restore(s) };
}
