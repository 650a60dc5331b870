/**
 * nnc's training runtime as a library: train a generated module on your data from TypeScript,
 * without the CLI. See docs/training.md for an example.
 */
export { train, type TrainOptions, type TrainResult, type EpochReport, type Checkpoint } from "./train.js";
export { defaultThreads, type ThreadsChoice } from "./threads/pool.js";
export { scoringFor, type Evaluation, type Scoring } from "./metrics.js";
export { evaluate, predictAll } from "./api.js";
export { NncUsageError } from "./usage.js";
export { modelIdentity } from "./identity.js";
export { loadDataset, computeNormalization, applyNormalization, fitNormalization, idxImageGeometry, splitDataset, subset } from "./data/index.js";
export { symmetricEigen, type SymmetricEigen } from "./data/eigen.js";
export type { ImageGeometry } from "./data/augment.js";
export { createOptimizer } from "./optimizers/index.js";
export { createLbfgs } from "./optimizers/lbfgs.js";
export { createNewton, NEWTON_MAX_PARAMS } from "./optimizers/newton.js";
export { createNewtonCg } from "./optimizers/newton-cg.js";
export { createSchedule } from "./schedules.js";
export { loadWeights, saveWeights, toWeightsFile, validateWeights, WeightsError, MAX_WEIGHTS_BYTES, type WeightsFile } from "./weights.js";
export { readWeights, validateWeightsAlone, toSafetensors, fromSafetensors, weightsFormat, JSON_FIELDS, SAFETENSORS_FIELDS, type WeightsFields } from "./weights.js";
export { encodeSafetensors, decodeSafetensors } from "./safetensors.js";
export { gradCheck, precisionCheck, CHECK_TOLERANCE, type GradCheckResult, type PrecisionCheckResult } from "./gradcheck.js";
export { hessianCheck, type HessianCheckResult } from "./hessian-check.js";
export { forModule, arrayOf, inPrecision } from "./precision.js";
export type { Precision } from "../compiler/target.js";
export { loadModule, type CompiledModule } from "./load-module.js";
export { DataError, type Dataset, type DataShape, type FloatArray, type Normalization, type Optimizer, type ParamSet } from "./types.js";
