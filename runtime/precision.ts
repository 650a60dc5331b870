/**
 * Arrays in a module's precision. A module compiled with `--precision f32` takes and returns
 * Float32Arrays (its `meta.precision` says so); the data loaders make Float64Arrays. `forModule`
 * converts a data set once, before training or evaluation, so that no step converts anything;
 * for an f64 module, or data already in the module's type, it returns the data itself.
 */
import type { Precision } from "../compiler/target.js";
import type { CompiledModule } from "./load-module.js";
import type { Dataset, FloatArray } from "./types.js";

/** A zero-filled array of n numbers of this precision. */
export function arrayOf(precision: Precision, n: number): FloatArray {
  return precision === "f32" ? new Float32Array(n) : new Float64Array(n);
}

/** The precision of an array's numbers. */
export function precisionOfArray(a: FloatArray): Precision {
  return a instanceof Float32Array ? "f32" : "f64";
}

/** A zero-filled array of n numbers of the same type as `a`. */
export function arrayLike<A extends FloatArray>(a: A, n: number): A {
  return arrayOf(precisionOfArray(a), n) as A;
}

/** `a` in this precision: `a` itself when it already is, else a converted copy (rounded to float32 for f32). */
export function inPrecision(a: FloatArray, precision: Precision): FloatArray {
  if (precisionOfArray(a) === precision) return a;
  return precision === "f32" ? Float32Array.from(a) : Float64Array.from(a);
}

/** The module's precision; "f64" for a module generated before precisions existed (no meta.precision). */
export function modulePrecision(mod: CompiledModule): Precision {
  return mod.meta.precision ?? "f64";
}

/** The data set in the module's array type: the same object when nothing needs converting. */
export function forModule(data: Dataset, mod: CompiledModule): Dataset {
  const precision = modulePrecision(mod);
  const all = [...Object.values(data.inputs), ...Object.values(data.targets)];
  if (all.every((a) => precisionOfArray(a) === precision)) return data;
  const convert = (m: Record<string, FloatArray>) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, inPrecision(a, precision)]));
  return { count: data.count, inputs: convert(data.inputs), targets: convert(data.targets) };
}
