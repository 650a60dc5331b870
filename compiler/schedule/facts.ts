/**
 * What the scheduling passes know, stage by stage. Each pass takes the facts so far and returns
 * them with its own added (a new object; nothing is mutated), so the type of its argument says
 * which passes must run before it. schedule.ts runs them in this order.
 */
import type { Graph, NodeId } from "../ir/graph.js";
import type { AccumulateSink, Sink } from "../plan/sinks.js";
import type { FunctionSpec } from "./input.js";
import type { Placement, Step, Storage } from "./types.js";

export interface Start {
  readonly spec: FunctionSpec;
  readonly graph: Graph;
}

/** materialize.ts */
export interface Materialized extends Start {
  /** the nodes the sinks reach, in id (topological) order */
  readonly reach: readonly NodeId[];
  /**
   * The nodes computed once into storage; every other reached node is inlined into its users'
   * expressions. Iteration order is the order the storage pass names them in.
   */
  readonly stored: ReadonlySet<NodeId>;
}

/** mode.ts */
export interface Moded extends Materialized {
  /** the unroll threshold: the most work (elements × inner reduction lengths) that is unrolled */
  readonly unroll: number;
  /** per node: the work of its inlined expression tree for one element (1 for a plain read) */
  readonly work: Float64Array;
  /** per stored node: unrolled (true) or loops */
  readonly unrolled: ReadonlyMap<NodeId, boolean>;
  /** per sink: its statements unrolled (true) or loops */
  readonly sinkUnrolled: ReadonlyMap<Sink, boolean>;
}

/** A dense backward sweep (types.ts SweepStep), before the update pass. */
export interface Sweep {
  readonly sink: AccumulateSink;
  readonly delta: NodeId;
  readonly b: NodeId;
  /** Wᵀδ and the parameter node W, when fused */
  readonly back: NodeId | null;
  readonly weight: NodeId | null;
}

/** sweeps.ts: adds each fused Wᵀδ to `stored`, in loop mode */
export interface Swept extends Moded {
  /** the sweeps, by the node they are emitted at: Wᵀδ when fused, else the sink's node */
  readonly sweeps: ReadonlyMap<NodeId, Sweep>;
  /** the accumulate sinks a sweep writes (not emitted on their own) */
  readonly swept: ReadonlySet<Sink>;
}

/** lanes.ts */
export interface Laned extends Swept {
  /** per node: 1 when its value depends on the sample */
  readonly perSample: Uint8Array;
  /** lane mode: samples per call; 0 outside lane mode */
  readonly lanes: number;
}

/** A dense layer's forward over the block of lanes as one kernel call (kernels.ts). */
export interface DenseKernel {
  /** the stored node the kernel computes: W x (+ b) (then relu) */
  readonly node: NodeId;
  /** the per-sample input vector x and the parameter nodes W[m, k] and b[m] */
  readonly x: NodeId;
  readonly weight: NodeId;
  readonly bias: NodeId | null;
  readonly relu: boolean;
}

/** A convolution kernel call (kernels.ts): see ConvStep (types.ts); `weight` and `bias` name parameters. */
export interface ConvKernel {
  readonly pass: "forward" | "data" | "weight";
  readonly node: NodeId;
  readonly kernels: string;
  readonly input: NodeId;
  readonly delta: NodeId | null;
  readonly weight: string;
  readonly bias: string | null;
  readonly relu: boolean;
}

/** kernels.ts: nothing outside lane mode on the wasm target */
export interface Kerneled extends Laned {
  /** forward kernels, by the node they compute (stored) */
  readonly dense: ReadonlyMap<NodeId, DenseKernel>;
  /** sweeps made by the weight-gradient and backward-data kernels, by the sweep's node, with the
   * bias parameter whose gradient Σ δ the weight kernel adds too (its sink is then swept) */
  readonly kernelSweeps: ReadonlyMap<NodeId, { readonly bias: string | null }>;
  /** convolution kernels: forward and input-gradient calls by the stored node they compute */
  readonly convs: ReadonlyMap<NodeId, ConvKernel>;
  /** weight-gradient calls by the accumulate sink they replace (the sink is then swept) */
  readonly convSinks: ReadonlyMap<Sink, ConvKernel>;
  /** sample inputs the kernels read: copied, for the block's lanes, into a per-lane buffer */
  readonly staged: ReadonlySet<NodeId>;
  /** the parameters the kernels read (W, b) and those whose gradient they write, in first-use order */
  readonly placed: readonly { readonly param: string; readonly grad: boolean }[];
}

/** storage.ts */
export interface Stored extends Kerneled {
  readonly storage: ReadonlyMap<NodeId, Storage>;
  /** where the kernels find each placed array (schedule/types.ts Placement) */
  readonly placements: readonly Placement[];
}

/** softmax.ts */
export interface Fused extends Stored {
  /** the stored softmax each log-sum-exp computes from its own exponentials, by logsumexp node */
  readonly softmaxOf: ReadonlyMap<NodeId, NodeId>;
}

/** steps.ts: every gradient still goes to grad */
export interface Ordered extends Fused {
  readonly steps: readonly Step[];
}

/** update.ts */
export interface Updated extends Ordered {
  readonly inPlace: readonly string[];
  readonly accumulated: readonly string[];
}
