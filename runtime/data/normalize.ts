/**
 * The inputs' normalization, fitted on the training data only and stored with the weights
 * (docs/data.md "Normalization", docs/weights.md): z-scores per element (the default), or PCA,
 * PCA whitening and ZCA whitening of each input from its covariance matrix.
 *
 * Every method is y = P · ((x − mean) / std) per input, flattened row-major:
 * - zscore: std per element, no P (identity);
 * - pca(k): std all 1, P = the k leading eigenvectors of the covariance as rows (k × D): the
 *   coordinates of the centred input along its k directions of largest variance;
 * - whiten: std all 1, P = diag(1/√(λ + ε)) Vᵀ (D × D): those coordinates scaled to unit variance;
 * - zca: std all 1, P = V diag(1/√(λ + ε)) Vᵀ (D × D, symmetric): the whitening that stays closest
 *   to the original inputs (Bell & Sejnowski 1997), so images still look like images.
 * Directions whose variance is zero to rounding (λ ≤ D · 2⁻⁵² · λ_max) get weight 0 in whiten and
 * zca: the training data never varies along them, and whitening would amplify rounding noise and
 * whatever new data holds there by 1/√ε.
 */
import type { NormalizeMethod } from "../../compiler/semantics/model.js";
import { arrayLike } from "../precision.js";
import type { Dataset, FloatArray, Normalization } from "../types.js";
import { symmetricEigen } from "./eigen.js";

/** The most elements an input may have for pca/whiten/zca: the D × D covariance and its eigenvectors are dense, and a D × D projection
 * (≈ 20 bytes a number as JSON text) must fit safetensors' 100 MB header and the 256 MiB weights limit. */
export const MAX_COVARIANCE_FEATURES = 2048;

/** The default ε of whiten and zca, relative to the mean eigenvalue (the mean variance per element). */
export const WHITEN_EPSILON = 1e-14;

const rowSize = (values: FloatArray, count: number): number => (count === 0 ? 0 : values.length / count);

/** A normalization method that cannot be fitted to this data (too many features, k too large): the message says why. */
export class NormalizationError extends Error {
  override readonly name = "NormalizationError";
}

/** The method a stored normalization uses (old files have no `method`: z-score). */
export const methodOf = (norm: Normalization): "zscore" | "pca" | "whiten" | "zca" => norm.method ?? "zscore";

/** Fits the method to the training data: null for "none". */
export function fitNormalization(ds: Dataset, method: NormalizeMethod): Normalization | null {
  if (method === "none") return null;
  if (method === "zscore") return computeNormalization(ds);
  const mean: Record<string, number[]> = {};
  const std: Record<string, number[]> = {};
  const projection: Record<string, number[][]> = {};
  const eigenvalues: Record<string, number[]> = {};
  let epsilon = 0;
  const name = typeof method === "string" ? method : method.name;
  for (const [input, values] of Object.entries(ds.inputs)) {
    const width = rowSize(values, ds.count);
    if (width > MAX_COVARIANCE_FEATURES)
      throw new NormalizationError(`normalize ${name}: the input '${input}' has ${width} elements per sample; pca, whiten and zca work on its ${width} × ${width} covariance matrix, at most ${MAX_COVARIANCE_FEATURES} elements`);
    if (ds.count < 2) throw new NormalizationError(`normalize ${name}: a covariance needs at least 2 training samples, got ${ds.count}`);
    const { mean: m, covariance } = covarianceOf(values, ds.count, width);
    const { values: lambda, vectors: v } = symmetricEigen(covariance, width);
    mean[input] = Array.from(m);
    std[input] = new Array<number>(width).fill(1);
    eigenvalues[input] = Array.from(lambda, (l) => Math.max(0, l));
    if (typeof method !== "string") {
      const k = method.components;
      if (k > width) throw new NormalizationError(`normalize pca(${k}): the input '${input}' has only ${width} elements per sample; pca(k) keeps k ≤ ${width} components`);
      projection[input] = Array.from({ length: k }, (_, j) => Array.from({ length: width }, (_, c) => v[c * width + j]!));
      continue;
    }
    const lmax = Math.max(0, lambda[0] ?? 0);
    const meanLambda = eigenvalues[input]!.reduce((a, b) => a + b, 0) / Math.max(1, width);
    const eps = WHITEN_EPSILON * meanLambda;
    epsilon = Math.max(epsilon, eps);
    const zero = width * Number.EPSILON * lmax;
    // the scale of each eigen-direction: 1/√(λ + ε), 0 for a direction without variance
    const scale = Array.from(lambda, (l) => (l <= zero || !(eps + l > 0) ? 0 : 1 / Math.sqrt(l + eps)));
    const rows: number[][] = [];
    for (let r = 0; r < width; r++) {
      const row = new Array<number>(width);
      if (method === "whiten") for (let c = 0; c < width; c++) row[c] = scale[r]! * v[c * width + r]!;
      else
        for (let c = 0; c < width; c++) {
          let s = 0;
          for (let j = 0; j < width; j++) s += v[r * width + j]! * scale[j]! * v[c * width + j]!;
          row[c] = s;
        }
      rows.push(row);
    }
    projection[input] = rows;
  }
  const kind = typeof method === "string" ? method : "pca";
  return { mean, std, method: kind, projection, eigenvalues, ...(kind === "pca" ? {} : { epsilon }) };
}

/** Mean and (population, divided by n) covariance of the rows, in float64, the sums centred first for accuracy. */
export function covarianceOf(values: ArrayLike<number>, count: number, width: number): { mean: Float64Array; covariance: Float64Array } {
  const mean = new Float64Array(width);
  for (let r = 0; r < count; r++) for (let k = 0; k < width; k++) mean[k] = mean[k]! + values[r * width + k]!;
  for (let k = 0; k < width; k++) mean[k] = mean[k]! / count;
  const cov = new Float64Array(width * width);
  const d = new Float64Array(width);
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < width; k++) d[k] = values[r * width + k]! - mean[k]!;
    // the lower triangle; a pixel that is 0 in this sample adds nothing to its row
    for (let i = 0; i < width; i++) {
      const di = d[i]!;
      if (di === 0) continue;
      const at = i * width;
      for (let j = 0; j <= i; j++) cov[at + j] = cov[at + j]! + di * d[j]!;
    }
  }
  for (let i = 0; i < width; i++)
    for (let j = 0; j <= i; j++) {
      const c = cov[i * width + j]! / count;
      cov[i * width + j] = c;
      cov[j * width + i] = c;
    }
  return { mean, covariance: cov };
}

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

/** One input's normalization, ready to apply to rows: `apply` reads `inWidth` values and writes `outWidth`. */
export interface RowTransform {
  readonly inWidth: number;
  readonly outWidth: number;
  apply(src: ArrayLike<number>, srcAt: number, dst: { [i: number]: number }, dstAt: number): void;
}

/** The transform of the input `name`; throws when the normalization has nothing (usable) for it. */
export function rowTransform(norm: Normalization, name: string): RowTransform {
  const mean = norm.mean[name];
  const std = norm.std[name];
  if (!mean || !std || mean.length !== std.length) throw new Error(`the normalization has no statistics for the input '${name}'`);
  const inWidth = mean.length;
  const m = Float64Array.from(mean);
  const inv = Float64Array.from(std, (s) => 1 / s);
  const rows = norm.projection?.[name];
  if (methodOf(norm) === "zscore" || rows === undefined)
    return {
      inWidth,
      outWidth: inWidth,
      apply(src, srcAt, dst, dstAt) {
        for (let k = 0; k < inWidth; k++) dst[dstAt + k] = (src[srcAt + k]! - m[k]!) * inv[k]!;
      },
    };
  const outWidth = rows.length;
  if (rows.some((r) => r.length !== inWidth)) throw new Error(`the normalization's projection of '${name}' does not have ${inWidth} columns in every row`);
  const p = Float64Array.from(rows.flat());
  const centred = new Float64Array(inWidth);
  return {
    inWidth,
    outWidth,
    apply(src, srcAt, dst, dstAt) {
      for (let k = 0; k < inWidth; k++) centred[k] = (src[srcAt + k]! - m[k]!) * inv[k]!;
      for (let j = 0; j < outWidth; j++) {
        let s = 0;
        const at = j * inWidth;
        for (let k = 0; k < inWidth; k++) s += p[at + k]! * centred[k]!;
        dst[dstAt + j] = s;
      }
    },
  };
}

/** New input arrays, each row transformed (z-scored, or projected), of the inputs' array type; targets are shared, not copied. */
export function applyNormalization<A extends FloatArray>(ds: Dataset<A>, norm: Normalization): Dataset<A> {
  const inputs: Record<string, A> = {};
  for (const [name, values] of Object.entries(ds.inputs)) {
    const t = rowTransform(norm, name);
    const width = rowSize(values, ds.count);
    if (ds.count > 0 && t.inWidth !== width) throw new Error(`the normalization of '${name}' has ${t.inWidth} values, but the input has ${width} per sample`);
    const out = arrayLike(values, ds.count * t.outWidth);
    for (let r = 0; r < ds.count; r++) t.apply(values, r * width, out, r * t.outWidth);
    inputs[name] = out;
  }
  return { count: ds.count, inputs, targets: ds.targets };
}

/** The number of elements the model's input gets per sample after this normalization (differs from the data's under pca(k)). */
export function normalizedWidth(norm: Normalization | null, name: string, dataWidth: number): number {
  return norm?.projection?.[name]?.length ?? dataWidth;
}
