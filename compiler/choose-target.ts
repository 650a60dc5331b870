/**
 * The target `nnc train` and `nnc predict` pick when none is given (language §10): wasm when the
 * model has a dense layer that the wasm target runs as kernels (a weight matrix of more elements
 * than the unroll threshold: a looped layer, schedule/kernels.ts) and either the batch is at least
 * MIN_WASM_BATCH samples or the optimizer is not plain SGD; ts otherwise. The numbers behind it are
 * in docs/performance.md ("Which target"): on a model with no looped layer the two targets run the
 * same JavaScript; SGD on one sample runs sgdStep's fused per-sample code, the same on both; any
 * other optimizer on one sample runs gradientBatch through the kernels and its update as a SIMD
 * kernel (Adam at batch 1: 2.1× on B, 2.8× on C, 2.3× on D).
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

export function chooseTarget(model: Model, batch: number, unroll: number, optimizer: string = "sgd"): TargetChoice {
  const looped = model.params.filter((p) => p.shape.length === 2 && p.shape[0]! * p.shape[1]! > unroll);
  if (looped.length === 0) return { target: "ts", why: "no dense layer large enough for the WebAssembly kernels" };
  const weights = looped.reduce((s, p) => s + p.shape[0]! * p.shape[1]!, 0);
  if (batch < MIN_WASM_BATCH && optimizer === "sgd") return { target: "ts", why: `SGD on batch ${batch} runs the same fused per-sample code on both targets` };
  const layers = `${weights} weights in ${looped.length} dense layer${looped.length === 1 ? "" : "s"}`;
  return { target: "wasm", why: `${layers} run as WebAssembly SIMD kernels, batch ${Number.isFinite(batch) ? batch : "of the whole data set"}` };
}
