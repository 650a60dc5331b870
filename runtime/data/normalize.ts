/**
 * The inputs' z-score normalization, in memory, in the runtime's core (data/index.ts, which loads
 * files on Node, re-exports it).
 */
import { arrayLike } from "../precision.js";
import type { Dataset, FloatArray, Normalization } from "../types.js";

const rowSize = (values: FloatArray, count: number): number => (count === 0 ? 0 : values.length / count);

/**
 * z-score statistics of every input element over this data: mean and (population) standard
 * deviation. A constant element gets std 1, so applying the normalization only centres it.
 */
export function computeNormalization(ds: Dataset): Normalization {
  const mean: Record<string, number[]> = {};
  const std: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(ds.inputs)) {
    const n = ds.count;
    const width = rowSize(values, n);
    const m = new Float64Array(width);
    const lo = new Float64Array(width).fill(Infinity);
    const hi = new Float64Array(width).fill(-Infinity);
    for (let r = 0; r < n; r++)
      for (let k = 0; k < width; k++) {
        const v = values[r * width + k]!;
        m[k] = m[k]! + v;
        if (v < lo[k]!) lo[k] = v;
        if (v > hi[k]!) hi[k] = v;
      }
    for (let k = 0; k < width; k++) m[k] = n > 0 ? m[k]! / n : 0;
    const ss = new Float64Array(width);
    for (let r = 0; r < n; r++)
      for (let k = 0; k < width; k++) {
        const d = values[r * width + k]! - m[k]!;
        ss[k] = ss[k]! + d * d;
      }
    const s: number[] = [];
    for (let k = 0; k < width; k++) {
      const sd = n > 0 ? Math.sqrt(ss[k]! / n) : 0;
      s.push(n === 0 || lo[k] === hi[k] || !(sd > 0) || !Number.isFinite(sd) ? 1 : sd);
      // a constant element is centred exactly on its value
      if (n > 0 && lo[k] === hi[k]) m[k] = lo[k]!;
    }
    mean[name] = Array.from(m);
    std[name] = s;
  }
  return { mean, std };
}

/** New input arrays (x − mean) / std, per element, of the inputs' array type; targets are shared, not copied. */
export function applyNormalization<A extends FloatArray>(ds: Dataset<A>, norm: Normalization): Dataset<A> {
  const inputs: Record<string, A> = {};
  for (const [name, values] of Object.entries(ds.inputs)) {
    const mean = norm.mean[name];
    const std = norm.std[name];
    const width = rowSize(values, ds.count);
    if (!mean || !std) throw new Error(`the normalization has no statistics for the input '${name}'`);
    if (ds.count > 0 && (mean.length !== width || std.length !== width))
      throw new Error(`the normalization of '${name}' has ${mean.length} values, but the input has ${width} per sample`);
    const inv = std.map((s) => 1 / s);
    const out = arrayLike(values, values.length);
    for (let r = 0; r < ds.count; r++)
      for (let k = 0; k < width; k++) out[r * width + k] = (values[r * width + k]! - mean[k]!) * inv[k]!;
    inputs[name] = out;
  }
  return { count: ds.count, inputs, targets: ds.targets };
}
