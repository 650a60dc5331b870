/**
 * The library's checked entry points for evaluation: `evaluate` and `predictAll` of metrics.ts
 * behind the boundary checks of usage.ts (the training loop calls metrics.ts directly, on data it
 * has checked once). A bad argument throws an NncUsageError naming the field.
 */
import type { CompiledModule } from "./load-module.js";
import { evaluate as evaluateData, predictAll as predictData, type Evaluation, type Scoring } from "./metrics.js";
import type { Dataset, FloatArray, ParamSet } from "./types.js";
import { checkDataset, checkModule, checkParams, NncUsageError, shown } from "./usage.js";

/** Loss (and accuracy and a confusion matrix, or RMSE) of the module with `params` on `data` (at least one sample). */
export function evaluate(mod: CompiledModule, params: ParamSet, data: Dataset, scoring?: Scoring): Evaluation {
  checkModule(mod);
  checkParams(mod, params, "params");
  checkDataset(mod, data, "data", 1);
  if (scoring !== undefined && scoring !== null && typeof scoring !== "object") throw new NncUsageError("scoring", `expected a Scoring (scoringFor), null or nothing, got ${shown(scoring)}`);
  return scoring === undefined ? evaluateData(mod, params, data) : evaluateData(mod, params, data, scoring);
}

/** The module's outputs for every sample of `data` (its targets, if any, are not read). */
export function predictAll(mod: CompiledModule, params: ParamSet, data: Dataset): Record<string, FloatArray> {
  checkModule(mod);
  checkParams(mod, params, "params");
  checkDataset(mod, data, "data", 0, false);
  return predictData(mod, params, data);
}
