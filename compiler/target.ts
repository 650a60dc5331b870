/**
 * What `nnc compile --target … --precision …` chooses (language §10), shared by the pipeline, the
 * CLI, the backends and the runtime. Only names and their spelling live here: what a precision
 * means for the emitted TypeScript is docs/generated-module.md's ("f32 on the ts target").
 */

/** ts: the TypeScript module; wasm: the same module with its hot functions in WebAssembly SIMD. */
export type Target = "ts" | "wasm";

/** f64: every array of the module is a Float64Array; f32: a Float32Array (numbers rounded on each store). */
export type Precision = "f64" | "f32";

export const TARGETS: readonly Target[] = ["ts", "wasm"];
export const PRECISIONS: readonly Precision[] = ["f64", "f32"];
export const DEFAULT_TARGET: Target = "ts";
export const DEFAULT_PRECISION: Precision = "f64";

export function isPrecision(value: string): value is Precision {
  return (PRECISIONS as readonly string[]).includes(value);
}

export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

/** The typed array that holds the module's numbers at this precision, as spelled in TypeScript. */
export type ArrayTypeName = "Float64Array" | "Float32Array";

export function arrayType(precision: Precision): ArrayTypeName {
  return precision === "f32" ? "Float32Array" : "Float64Array";
}
