/**
 * The target `nnc train` and `nnc predict` pick when none is given (language §10): wasm when the
 * model has a dense layer that the wasm target runs as kernels (a weight matrix of more elements
 * than the unroll threshold: a looped layer, schedule/kernels.ts) and the batch is at least
 * MIN_WASM_BATCH samples; ts otherwise. The numbers behind it are in docs/performance.md ("Which
 * target"): on a model with no looped layer the two targets run the same JavaScript, and on a
 * batch below the threshold the kernels' calls cost more than their SIMD saves.
 */
import type { Model } from "./semantics/model.js";
import type { Target } from "./target.js";

/** the smallest batch at which the wasm target trains faster, measured (docs/performance.md) */
export const MIN_WASM_BATCH = 2;

export interface TargetChoice {
  readonly target: Target;
  /** one line for the user: which target and why */
  readonly why: string;
}

export function chooseTarget(model: Model, batch: number, unroll: number): TargetChoice {
  const looped = model.params.filter((p) => p.shape.length === 2 && p.shape[0]! * p.shape[1]! > unroll);
  if (looped.length === 0) return { target: "ts", why: "no dense layer large enough for the WebAssembly kernels" };
  const weights = looped.reduce((s, p) => s + p.shape[0]! * p.shape[1]!, 0);
  if (batch < MIN_WASM_BATCH) return { target: "ts", why: `batch ${batch} is below ${MIN_WASM_BATCH}, where the kernels start to pay` };
  return { target: "wasm", why: `${weights} weights in ${looped.length} dense layer${looped.length === 1 ? "" : "s"} run as WebAssembly SIMD kernels, batch ${batch}` };
}
