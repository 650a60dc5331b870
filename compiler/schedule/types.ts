/**
 * The schedule of one function: every decision about how its graph becomes code, as plain data.
 * The passes of this directory compute it (schedule.ts calls them in order), a backend prints it
 * (codegen/ts/ for TypeScript) without deciding anything that changes what is computed or stored,
 * and print.ts shows it as text (golden files, `nnc explain --schedule`).
 *
 * Nodes are referred to by id in `spec.graph`. What is language-specific (Math.exp, Float64Array,
 * `.fill(0)`) is left to the backend; what is stored where, in which mode and by which pattern is
 * here.
 */
import type { Graph, NodeId } from "../ir/graph.js";
import type { Shape } from "../ir/shape.js";
import type { NameTable } from "../codegen/names.js";
import type { AccumulateSink, Sink } from "../plan/sinks.js";
import type { FunctionSpec } from "./input.js";
import type { Precision } from "../target.js";

/** unrolled: every index a constant; loop: loops with constant bounds */
export type Mode = "unrolled" | "loop";

/** Where a stored value lives. */
export type Storage =
  /** a scalar local */
  | { readonly kind: "scalar"; readonly name: string }
  /** an unrolled tensor read only by unrolled code: one local per element, `${base}_${flat index}` */
  | { readonly kind: "locals"; readonly base: string; readonly shape: Shape }
  /**
   * a module-level scratch buffer of numel(shape) doubles, or with perLane one row of that size per
   * lane (Schedule.lanes.count rows), the lane's row first
   */
  | { readonly kind: "buffer"; readonly name: string; readonly shape: Shape; readonly perLane: boolean };

export type BufferStorage = Extract<Storage, { kind: "buffer" }>;

/**
 * One step of the function, in emission order. `perLane`: in lane mode, the step runs once per
 * lane (inside its outermost loop, or around it when unrolled); false outside lane mode.
 */
export type Step = StageStep | NodeStep | DenseStep | ConvStep | LogSumExpStep | SweepStep | SinkStep | UpdateStep | ReturnStep;

/** Copies a sample input, for the block's lanes, into a per-lane buffer the kernels read (kernels.ts). */
export interface StageStep {
  readonly kind: "stage";
  readonly node: NodeId;
  readonly storage: BufferStorage;
}

/**
 * A dense layer's forward for every lane in one kernel call (kernels.ts): node = W x (+ b)
 * (then relu), x per lane in its buffer, W[m, k] and b[m] parameters. Always loops, always per lane.
 */
export interface DenseStep {
  readonly kind: "dense";
  readonly node: NodeId;
  readonly storage: BufferStorage;
  readonly x: NodeId;
  readonly weight: string;
  readonly bias: string | null;
  readonly relu: boolean;
}

/**
 * A convolution's pass for every lane in one kernel call (kernels.ts; codegen/wasm/conv.ts), the
 * kernels named after the convolution's geometry (codegen/wasm/conv-layers.ts). Always per lane.
 *  - forward: node = conv2d(input, W) (+ b per channel) (then relu), into its buffer
 *  - data: node = conv2d_backward_input(input = δ, W), into its buffer
 *  - weight: ∂W += Σ over lanes conv2d_backward_weight(input = x, delta) — an accumulate sink's
 *    node, whose sink the kernel replaces (no storage)
 */
export interface ConvStep {
  readonly kind: "conv";
  readonly pass: "forward" | "data" | "weight";
  readonly node: NodeId;
  readonly storage: BufferStorage | null;
  readonly kernels: string;
  readonly input: NodeId;
  readonly delta: NodeId | null;
  readonly weight: string;
  readonly bias: string | null;
  readonly relu: boolean;
}

/**
 * Where the kernels find a parameter's array (or, with grad, its gradient's): at its own offset
 * when it lives in the kernels' memory, else in `stage`, a buffer of its size the function copies it
 * into (and, for a gradient, back out of at the end). `at` names the offset in the function.
 */
export interface Placement {
  readonly param: string;
  readonly grad: boolean;
  readonly stage: string;
  readonly at: string;
}

/** Computes a stored node, element by element, into its storage. */
export interface NodeStep {
  readonly kind: "node";
  readonly node: NodeId;
  readonly mode: Mode;
  readonly storage: Storage;
  readonly perLane: boolean;
}

/**
 * lse = m + log Σ exp(xᵢ − m), m = max x (the stable form). With `softmax`, the stored softmax
 * exp(x − lse) is computed from the same exponentials, each divided by the sum (schedule/softmax.ts).
 */
export interface LogSumExpStep {
  readonly kind: "logsumexp";
  readonly node: NodeId;
  readonly mode: Mode;
  readonly storage: Storage;
  readonly softmax: { readonly node: NodeId; readonly storage: Storage } | null;
  readonly perLane: boolean;
}

/**
 * A dense layer's looped backward as one pass over the rows of W[m, n] (schedule/sweeps.ts):
 * ∂W += δ bᵀ (the accumulate sink of `grad` = outer(δ, b)) and, with `back`, Wᵀδ into a zeroed
 * buffer in the same pass; rows with δᵢ = 0 are skipped. Always loops.
 */
export interface SweepStep {
  readonly kind: "sweep";
  readonly param: string;
  /** the sink's node, outer(δ, b) */
  readonly grad: NodeId;
  readonly delta: NodeId;
  readonly b: NodeId;
  /** Wᵀδ (a buffer) and the parameter node W, when fused */
  readonly back: { readonly node: NodeId; readonly weight: NodeId; readonly storage: BufferStorage } | null;
  /** lane mode: a full block of this many lanes adds all its terms in one pass over ∂W; null outside lane mode */
  readonly blocked: number | null;
  /** update mode: W −= lr δ bᵀ in place, each W[i, j] read for Wᵀδ just before it changes */
  readonly update: boolean;
  /**
   * The wasm target in lane mode: the weight-gradient kernel (∂W += Σ over lanes δ bᵀ, and ∂bias
   * += Σ δ when `bias` names the bias parameter) and, with `back`, the backward-data kernel, instead
   * of the loops; δ and b are then per-lane buffers. null: the loops.
   */
  readonly kernel: { readonly bias: string | null } | null;
}

/** Adds an accumulate sink's term to grad, or writes an output sink. */
export interface SinkStep {
  readonly kind: "sink";
  readonly sink: Exclude<Sink, { kind: "return" }>;
  readonly mode: Mode;
  readonly perLane: boolean;
}

/** Update mode: θ −= lr × the sink's term, after every read of θ (schedule/update.ts). */
export interface UpdateStep {
  readonly kind: "update";
  readonly sink: AccumulateSink;
  readonly mode: Mode;
  readonly perLane: boolean;
}

/** The loss: returned, or with `cell` added to `${cell}[0]`. Last. */
export interface ReturnStep {
  readonly kind: "return";
  readonly node: NodeId;
  readonly cell: string | null;
  readonly perLane: boolean;
}

/** The names the function binds before its body: its arguments and its parameter aliases. */
export interface Bindings {
  /** the sample arrays, in argument order, by DSL name */
  readonly samples: readonly { readonly name: string; readonly array: string; readonly shape: Shape }[];
  /** the sample index argument (present when there are samples) */
  readonly sampleIndex: string;
  /** update mode: the learning-rate argument */
  readonly lr: string | null;
  /** the output arrays, in argument order (one per output sink) */
  readonly outputs: readonly { readonly name: string; readonly array: string }[];
  readonly random: string | null;
  /** the local alias of each parameter's array, by parameter name */
  readonly params: ReadonlyMap<string, string>;
  /** a Hessian-vector product (FunctionSpec.hessian): the local alias of each parameter's direction v[name] */
  readonly directions: ReadonlyMap<string, string>;
  /** the argument the accumulate sinks add to: `grad`, or `out` for a Hessian-vector product */
  readonly accumulator: string;
}

export interface Schedule {
  /** what was scheduled: name, doc, graph, sinks, signature */
  readonly spec: FunctionSpec;
  readonly graph: Graph;
  /** the .nn file name, for comments */
  readonly file: string;
  /** the module's precision (ModuleContext.precision): the type of the arrays the function takes */
  readonly precision: Precision;
  /**
   * The function's names so far (arguments, storage, lane loop), allocated in the order the output
   * depends on. A printer takes its temporaries from a child of this table.
   */
  readonly names: NameTable;
  readonly bindings: Bindings;
  /** lane mode: up to `count` samples per call, `arg` the argument, `lane` the lane loop's variable */
  readonly lanes: { readonly count: number; readonly arg: string; readonly lane: string } | null;
  /** every stored node (materialized, or computed by a pattern), by node */
  readonly storage: ReadonlyMap<NodeId, Storage>;
  /** the parameters the steps read or update in place (the arrays the function binds), in spec.params order */
  readonly usedParams: readonly string[];
  /** the parameters whose direction v[name] the steps read (a Hessian-vector product's), in spec.params order */
  readonly usedDirections: readonly string[];
  /** update mode: the parameters updated in place, by an update step or an update sweep */
  readonly inPlace: readonly string[];
  /** the parameters whose gradient the steps add to grad (in update mode, those that cannot be updated in place) */
  readonly accumulated: readonly string[];
  readonly steps: readonly Step[];
  /** the wasm target: the parameter and gradient arrays the kernels read or write */
  readonly placements: readonly Placement[];
}
