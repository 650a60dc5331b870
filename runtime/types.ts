/** Types shared by the training runtime's modules. */
import type { TargetDomain } from "../compiler/semantics/model.js";

/**
 * The arrays of a generated module: Float64Array, or Float32Array for a module compiled with
 * `--precision f32` (its `meta.precision`).
 */
export type FloatArray = Float64Array | Float32Array;

/** Parameters or gradients by DSL name (the generated module's `Params`), row-major. */
export type ParamSet = Record<string, FloatArray>;

/**
 * A first-order optimizer: updates the parameters in place from a gradient, allocating nothing
 * per step. `lr` is the learning rate for this step (the schedule's value).
 */
export interface Optimizer {
  readonly name: string;
  step(params: ParamSet, grad: ParamSet, lr: number): void;
  /** everything needed to resume (moment estimates, step count), as plain JSON */
  state(): OptimizerState;
  restore(state: OptimizerState): void;
}

export interface OptimizerState {
  readonly name: string;
  readonly t: number;
  readonly buffers: Record<string, Record<string, number[]>>;
}

/** The full-batch objective L-BFGS minimizes: writes ∇f into grad, returns f. */
export type Objective = (params: ParamSet, grad: ParamSet) => number;

/**
 * A data set in the generated module's batch layout: row-major [count, …shape] per name. The
 * loaders make Float64Arrays; `forModule` (data/index.ts) converts them once to an f32 module's
 * Float32Arrays.
 */
export interface Dataset<A extends FloatArray = FloatArray> {
  readonly count: number;
  readonly inputs: Record<string, A>;
  readonly targets: Record<string, A>;
}

/**
 * The inputs' normalization, fitted on the training data (data/normalize.ts, docs/weights.md):
 * per input, y = projection · ((x − mean) / std), the projection the identity when absent.
 */
export interface Normalization {
  readonly mean: Record<string, number[]>;
  readonly std: Record<string, number[]>;
  /** absent (files before it existed) or "zscore": no projection, std per element; otherwise std is all 1 */
  readonly method?: "zscore" | "pca" | "whiten" | "zca";
  /** per input, the rows of the matrix applied to the centred input: k rows for pca(k), D for whiten and zca */
  readonly projection?: Record<string, number[][]>;
  /** per input, the training covariance's eigenvalues, descending (all D of them) */
  readonly eigenvalues?: Record<string, number[]>;
  /** whiten and zca: the ε added to every eigenvalue before 1/√(λ + ε) */
  readonly epsilon?: number;
}

/** What the data loaders need to know about the model. */
export interface DataShape {
  readonly inputs: Record<string, number[]>;
  readonly targets: Record<string, number[]>;
  /** per target, the domains its values must lie in (the model's losses: Model.targetDomains) */
  readonly targetDomains?: Readonly<Record<string, readonly TargetDomain[]>>;
}

/** A data file the user gave that cannot be used: the message names file, row and column. */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly row?: number,
    readonly column?: number,
  ) {
    super(`${file}${row !== undefined ? `:${row}` : ""}${column !== undefined ? `:${column}` : ""}: ${detail}`);
  }
}

/**
 * A Hessian-vector product of the full-batch objective at `params`: writes H·v into `out` (both
 * Params-shaped), returns f. The module's `hessianVectorProductBatch` on the training set.
 */
export type HessianVectorProduct = (params: ParamSet, v: ParamSet, out: ParamSet) => number;
