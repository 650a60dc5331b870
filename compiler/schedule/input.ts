/**
 * What the scheduler is given: the function to make (FunctionSpec, decided by the plan: its graph,
 * its sinks, its signature) and the module it goes into (ModuleContext: the unroll threshold, the
 * module's names and its scratch buffers). emit-module.ts builds both.
 */
import type { Graph } from "../ir/graph.js";
import type { Shape } from "../ir/shape.js";
import type { NameTable } from "../codegen/names.js";
import type { Sink } from "../plan/sinks.js";
import type { Target } from "../target.js";
import type { Precision } from "../target.js";

/** What the module provides to the scheduler of each of its functions. */
export interface ModuleContext {
  /** the .nn file name shown in comments */
  readonly file: string;
  readonly unroll: number;
  /** wasm: dense layers in lane mode run as WebAssembly kernels (schedule/kernels.ts) */
  readonly target: Target;
  /** the numbers of the module's arrays (buffers included): the backend spells their type */
  readonly precision: Precision;
  /**
   * Module-level identifier of a scratch buffer of `size` doubles. Functions share buffers of the
   * same hint and size (they never run at the same time); within one function every value has its
   * own: `taken` holds the buffers the function already uses.
   */
  buffer(hint: string, size: number, taken: Set<string>): string;
  /** the module's names; each function takes its own in a child table */
  readonly names: NameTable;
}

export interface FunctionSpec {
  readonly name: string;
  readonly doc: string;
  readonly graph: Graph;
  readonly sinks: readonly Sink[];
  /** DSL names and shapes of the inputs and targets passed as arrays with a sample index */
  readonly samples: readonly { readonly name: string; readonly shape: Shape }[];
  readonly params: readonly { readonly name: string; readonly shape: Shape }[];
  readonly grad: boolean;
  readonly random: boolean;
  readonly returns: "number" | "void";
  /**
   * The return sink adds the loss to `${lossCell}[0]` and the function returns void: a double
   * returned across a call that is not inlined is boxed, 16 bytes of garbage per sample.
   */
  readonly lossCell?: string;
  /**
   * Process up to this many consecutive samples per call (n … n + lanes − 1, `lanes` an argument)
   * when the function has loops: each loop over the rows of a tensor runs the samples inside
   * the row, so a weight row is fetched from memory once for all of them (see docs/performance.md).
   * 0 or absent: one sample per call.
   */
  readonly maxLanes?: number;
  /**
   * Plain SGD fused into the backward pass (a `lr` argument after the sample index): each
   * accumulate sink subtracts lr × its term from the parameter itself instead of adding the term to
   * grad, once nothing later in the function reads that parameter. A parameter for which that
   * order cannot be had (it is read after its update would be) still accumulates into grad
   * (Schedule.accumulated, schedule/update.ts). See docs/generated-module.md.
   */
  readonly update?: boolean;
  /**
   * A Hessian-vector product: the function takes `v: Params` (the direction, read by the graph's
   * direction leaves) and `out: Params` after the sample arguments, and its accumulate sinks add
   * to `out` instead of `grad` (autodiff/tangent.ts, docs/generated-module.md).
   */
  readonly hessian?: boolean;
  /** the derivation, for the comment above each backward block: its equations by `.nn` line (Plan.derivations) */
  readonly derivations?: ReadonlyMap<number, readonly string[]>;
  /** the same for each tangent block of a Hessian-vector product, of the forward and of the backward pass (Plan.hessian) */
  readonly tangentDerivations?: { readonly forward: ReadonlyMap<number, readonly string[]>; readonly backward: ReadonlyMap<number, readonly string[]> };
}
