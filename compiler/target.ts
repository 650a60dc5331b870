/**
 * What a module is compiled for (language §10): the target that runs its hot functions and the
 * precision it computes in. The front and middle ends do not depend on either; the scheduler, the
 * printers and the module assembly do.
 */

/** `ts`: the module is TypeScript through and through; `wasm`: its dense layers run as
 * WebAssembly SIMD128 kernels embedded in the module (docs/wasm.md). */
export type Target = "ts" | "wasm";

/** `f64` (default) or `f32`: the element type of every array the module takes and returns. */
export type Precision = "f64" | "f32";

export const TARGETS: readonly Target[] = ["ts", "wasm"];
export const PRECISIONS: readonly Precision[] = ["f64", "f32"];
