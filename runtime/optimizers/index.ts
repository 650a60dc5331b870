/**
 * The first-order optimizers of the `train { }` block, by name. Each updates the parameters in
 * place from a gradient with state buffers allocated once here (one Float64Array per parameter),
 * and round-trips that state through `state()` / `restore()` for checkpoints.
 *
 * L-BFGS is not a first-order step rule: it needs the whole objective (a line search evaluates it
 * several times per iteration), so it has its own interface in `./lbfgs.ts`; so have newton and
 * newton_cg, which also need Hessian-vector products (`./damped-newton.ts`).
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { Optimizer, ParamSet } from "../types.js";
import { Adadelta } from "./adadelta.js";
import { Adagrad } from "./adagrad.js";
import { Adam } from "./adam.js";
import { Momentum } from "./momentum.js";
import { Nesterov } from "./nesterov.js";
import { RmsProp } from "./rmsprop.js";
import { Sgd } from "./sgd.js";

export { createLbfgs } from "./lbfgs.js";
export type { Lbfgs, LbfgsOptions, LbfgsResult } from "./lbfgs.js";
export { createNewton, NEWTON_MAX_PARAMS } from "./newton.js";
export { createNewtonCg } from "./newton-cg.js";
export type { SecondOrder, SecondOrderResult } from "./damped-newton.js";

export function createOptimizer(config: OptimizerConfig, params: ParamSet): Optimizer {
  switch (config.name) {
    case "sgd":
      return new Sgd(config, params);
    case "momentum":
      return new Momentum(config, params);
    case "nesterov":
      return new Nesterov(config, params);
    case "adagrad":
      return new Adagrad(config, params);
    case "rmsprop":
      return new RmsProp(config, params);
    case "adam":
      return new Adam(config, params);
    case "adadelta":
      return new Adadelta(config, params);
    case "lbfgs":
      throw new Error("lbfgs is not a first-order optimizer: it needs the full-batch objective for its line search; use createLbfgs(params, options).iterate(params, objective)");
    case "newton":
    case "newton_cg":
      throw new Error(`${config.name} is not a first-order optimizer: it needs the full-batch objective and Hessian-vector products; use create${config.name === "newton" ? "Newton" : "NewtonCg"}(params, options).iterate(params, objective, hessianVectorProduct)`);
    default: {
      const name: never = config.name;
      throw new Error(`unknown optimizer '${String(name)}': expected sgd, momentum, nesterov, adagrad, rmsprop, adam, adadelta, lbfgs, newton or newton_cg`);
    }
  }
}
