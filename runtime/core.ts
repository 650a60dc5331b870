/**
 * The runtime's core: everything that trains, evaluates and checks a generated module in memory,
 * importing nothing from Node — it runs in a browser's Web Worker as well (docs/packaging.md).
 * Files, threads and the CLI are Node's: runtime/index.ts ("nnc") re-exports this and adds them.
 * test/runtime/core-graph.test.ts fails on any `node:` import reachable from here.
 *
 * Stable entry: `nnc/core` (dist/runtime/core.js); the playground bundles it.
 */
export { train, type TrainOptions, type TrainResult, type EpochReport, type Checkpoint, type StepReport } from "./train.js";
export { trainer, trainAsync, type Trainer, type AsyncTrainOptions } from "./train-steps.js";
export { scoringFor, type Evaluation, type Scoring } from "./metrics.js";
export { evaluate, predictAll, predictEnsemble } from "./api.js";
export type { EnsembleMember, EnsembleOptions, EnsembleResult, EnsembleEvaluation, MemberEvaluation } from "./ensemble.js";
export { NncResourceError, NncUsageError } from "./usage.js";
export { modelIdentity, canonicalGraph } from "./identity.js";
export { sha256Hex } from "./sha256.js";
export { computeNormalization, applyNormalization, fitNormalization } from "./data/normalize.js";
export { symmetricEigen, type SymmetricEigen } from "./data/eigen.js";
export type { ImageGeometry } from "./data/augment.js";
export { splitDataset, subset } from "./data/subsets.js";
export { parseCsv, parseCsvBytes, csvBytesParser, columnNames, type CsvBytesParser, type Utf8Decoder } from "./data/csv.js";
export { DATA_LIMITS, type DataLimits } from "./data/limits.js";
export { createOptimizer } from "./optimizers/index.js";
export { createLbfgs } from "./optimizers/lbfgs.js";
export { createNewton, NEWTON_MAX_PARAMS } from "./optimizers/newton.js";
export { createNewtonCg } from "./optimizers/newton-cg.js";
export { createSchedule } from "./schedules.js";
export { parseWeights, toWeightsFile, validateWeights, validateWeightsAlone, WeightsError, MAX_WEIGHTS_BYTES, type WeightsFile } from "./weights.js";
export { toSafetensors, fromSafetensors, weightsFormat, JSON_FIELDS, SAFETENSORS_FIELDS, type WeightsFields } from "./weights.js";
export { encodeSafetensors, decodeSafetensors } from "./safetensors.js";
export { gradCheck, precisionCheck, CHECK_TOLERANCE, type GradCheckResult, type PrecisionCheckResult } from "./gradcheck.js";
export { hessianCheck, type HessianCheckResult } from "./hessian-check.js";
export { forModule, arrayOf, inPrecision } from "./precision.js";
export type { Precision } from "../compiler/target.js";
export { loadModule, type CompiledModule } from "./load-module.js";
export { DataError, type Dataset, type DataShape, type FloatArray, type Normalization, type Optimizer, type ParamSet } from "./types.js";
