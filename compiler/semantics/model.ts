/** What the front end hands to the back end: a checked model as an IR graph plus its interface. */
import type { Graph, NodeId } from "../ir/graph.js";
import type { Shape } from "../ir/shape.js";

export type InitSpec =
  | { readonly kind: "zeros" }
  | { readonly kind: "constant"; readonly value: number }
  | { readonly kind: "normal"; readonly mean: number; readonly std: number }
  | { readonly kind: "uniform"; readonly lo: number; readonly hi: number }
  | { readonly kind: "lecun" | "xavier" | "he" };

export interface TensorInfo {
  readonly name: string;
  readonly shape: Shape;
  readonly node: NodeId;
  /** 1-based line of the declaration */
  readonly line: number;
}

export interface ParamInfo extends TensorInfo {
  readonly init: InitSpec;
}

export interface OutputInfo {
  readonly name: string;
  readonly node: NodeId;
}

export interface OptimizerConfig {
  readonly name: "sgd" | "momentum" | "nesterov" | "adagrad" | "rmsprop" | "adam" | "adadelta" | "lbfgs" | "newton" | "newton_cg";
  readonly args: Readonly<Record<string, number>>;
}

export interface ScheduleConfig {
  readonly name: "constant" | "step" | "cosine" | "linear" | "inverse_sqrt" | "cyclic" | "cosine_restarts";
  readonly args: Readonly<Record<string, number>>;
}

/** The `train { }` block, validated; every field optional (flags and defaults fill the rest). */
export interface TrainConfig {
  readonly data?: string;
  readonly validation?: string;
  readonly split?: number;
  readonly optimizer?: OptimizerConfig;
  readonly schedule?: ScheduleConfig;
  readonly batch?: number;
  readonly epochs?: number;
  readonly earlyStopping?: { readonly patience: number; readonly minDelta: number };
  readonly seed?: number;
  /** snapshot ensembles: save the weights at the end of each of the last K schedule cycles */
  readonly snapshots?: number;
  /**
   * The arguments written in the block (the others are defaults): a flag that changes the
   * optimizer or schedule keeps these, and only these (docs/training.md, "Flags over the block").
   */
  readonly written?: { readonly optimizer?: readonly string[]; readonly schedule?: readonly string[] };
  /** how the inputs are transformed with training statistics (default z-score; docs/data.md) */
  readonly normalize?: NormalizeMethod;
  /** random transformations of the training images, fresh per epoch (docs/data.md) */
  readonly augment?: AugmentConfig;
}

/**
 * `normalize zscore | none | pca(k) | whiten | zca`: z-scores per element, the inputs as they are,
 * the centred inputs projected on their k leading principal components, or decorrelated to unit
 * variance (PCA whitening, ZCA whitening).
 */
export type NormalizeMethod = "zscore" | "none" | "whiten" | "zca" | { readonly name: "pca"; readonly components: number };

/** `augment shift(pixels = 2)`: random translations of image inputs. */
export interface AugmentConfig {
  readonly name: "shift";
  readonly args: { readonly pixels: number };
}

/**
 * What a loss requires of a target given to it as is, e.g. `t` in `binary_cross_entropy(y, t)`:
 * "probability" each value in [0, 1], "distribution" values ≥ 0 that sum to 1 per sample (one-hot
 * or soft labels), "sign" each value −1 or +1. The data loaders check it (runtime/data/domains.ts).
 */
export type TargetDomain = "probability" | "distribution" | "sign";

export interface Model {
  readonly name: string;
  readonly graph: Graph;
  readonly inputs: readonly TensorInfo[];
  readonly targets: readonly TensorInfo[];
  readonly params: readonly ParamInfo[];
  readonly outputs: readonly OutputInfo[];
  readonly loss: NodeId;
  /** the `loss …` statement as written */
  readonly lossText: string;
  /** the compile-time constants after --set */
  readonly consts: Readonly<Record<string, number>>;
  readonly train: TrainConfig;
  readonly hasDropout: boolean;
  /** per target, the domains of the losses it is given to as is (see TargetDomain) */
  readonly targetDomains: Readonly<Record<string, readonly TargetDomain[]>>;
}
