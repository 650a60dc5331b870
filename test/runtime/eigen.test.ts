/**
 * The symmetric eigen-decomposition (runtime/data/eigen.ts) against known spectra: diagonal,
 * rotated diagonal, repeated eigenvalues, rank-deficient, and the 64-element covariance of the
 * digits data: V Λ Vᵀ reconstructs the matrix to 1e-10 (relative to its largest element), V is
 * orthonormal, the values are descending and every vector's largest component is positive.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/index.js";
import { covarianceOf } from "../../runtime/data/normalize.js";
import { symmetricEigen, type SymmetricEigen } from "../../runtime/data/eigen.js";
import { ROOT } from "../helpers/corpus.js";

/** A seeded uniform generator in [−0.5, 0.5). */
function uniform(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

/** A random orthogonal n × n matrix (row-major): Gram–Schmidt on random columns. */
function orthogonal(n: number, seed: number): Float64Array {
  const r = uniform(seed);
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const v = Array.from({ length: n }, r);
    for (let pass = 0; pass < 2; pass++)
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q[i * n + k]! * v[i]!;
        for (let i = 0; i < n; i++) v[i] = v[i]! - d * q[i * n + k]!;
      }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * n + j] = v[i]! / norm;
  }
  return q;
}

/** Q diag(values) Qᵀ */
function compose(q: Float64Array, values: readonly number[]): Float64Array {
  const n = values.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k]! * values[k]! * q[j * n + k]!;
      a[i * n + j] = s;
    }
  return a;
}

/** The checks every decomposition must pass; returns it for more. */
function checked(a: Float64Array, n: number): SymmetricEigen {
  const e = symmetricEigen(a, n);
  const scale = Math.max(1e-300, ...Array.from(a, Math.abs));
  const back = compose(e.vectors, Array.from(e.values));
  let worst = 0;
  for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(back[i]! - a[i]!) / scale);
  expect(worst, "V Λ Vᵀ = A").toBeLessThan(1e-10);
  for (let j = 0; j < n; j++)
    for (let k = 0; k < n; k++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += e.vectors[i * n + j]! * e.vectors[i * n + k]!;
      expect(Math.abs(d - (j === k ? 1 : 0)), `VᵀV[${j}, ${k}]`).toBeLessThan(1e-12);
    }
  for (let j = 1; j < n; j++) expect(e.values[j]!).toBeLessThanOrEqual(e.values[j - 1]!);
  for (let j = 0; j < n; j++) {
    const col = Array.from({ length: n }, (_, i) => e.vectors[i * n + j]!);
    const big = col.reduce((b, v, i) => (Math.abs(v) > Math.abs(col[b]!) ? i : b), 0);
    expect(col[big]!, `vector ${j}'s largest component`).toBeGreaterThan(0);
  }
  return e;
}

const sortedDesc = (v: readonly number[]) => [...v].sort((a, b) => b - a);

describe("symmetricEigen", () => {
  it("a diagonal matrix: its diagonal, sorted, and unit vectors", () => {
    const d = [3, -1, 7, 0.5, 2];
    const a = new Float64Array(25);
    d.forEach((v, i) => (a[i * 5 + i] = v));
    const e = checked(a, 5);
    expect(Array.from(e.values)).toEqual(sortedDesc(d));
    // 7 is the third diagonal element: its vector is e₂
    expect(Array.from({ length: 5 }, (_, i) => e.vectors[i * 5]!)).toEqual([0, 0, 1, 0, 0]);
  });

  it.each([2, 7, 30])("a rotated diagonal of size %i: the spectrum comes back, each vector the rotated axis up to sign", (n) => {
    const values = Array.from({ length: n }, (_, i) => (i + 1) * (i % 2 ? -1 : 1) * 0.75);
    const q = orthogonal(n, 11 + n);
    const e = checked(compose(q, values), n);
    const want = sortedDesc(values);
    e.values.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-12 * n));
    // distinct eigenvalues: |⟨v_j, q_k⟩| = 1 for the matching column k
    for (let j = 0; j < n; j++) {
      const k = values.indexOf(want[j]!);
      let d = 0;
      for (let i = 0; i < n; i++) d += e.vectors[i * n + j]! * q[i * n + k]!;
      expect(Math.abs(Math.abs(d) - 1)).toBeLessThan(1e-10);
    }
  });

  it("repeated eigenvalues: the values repeat, and the vectors still span orthonormally", () => {
    const values = [4, 4, 4, 1, 1, -2];
    const e = checked(compose(orthogonal(6, 5), values), 6);
    e.values.forEach((v, i) => expect(Math.abs(v - values[i]!)).toBeLessThan(1e-12));
  });

  it("rank-deficient: a covariance of 3 samples in 8 dimensions has 6 zero eigenvalues", () => {
    const r = uniform(3);
    const rows = Array.from({ length: 3 * 8 }, r);
    const { covariance } = covarianceOf(rows, 3, 8);
    const e = checked(covariance, 8);
    // centred, 3 samples span 2 dimensions
    expect(e.values[1]!).toBeGreaterThan(1e-3);
    for (let j = 2; j < 8; j++) expect(Math.abs(e.values[j]!)).toBeLessThan(1e-15);
  });

  it("the digits' 64-pixel covariance (a constant pixel among them)", () => {
    const ds = loadDataset(join(ROOT, "examples", "data", "digits-train.csv"), { inputs: { x: [64] }, targets: { t: [10] } });
    const { covariance } = covarianceOf(ds.inputs.x!, ds.count, 64);
    const e = checked(covariance, 64);
    // the trace is the total variance
    let trace = 0;
    for (let i = 0; i < 64; i++) trace += covariance[i * 64 + i]!;
    expect(Math.abs(e.values.reduce((a, b) => a + b, 0) - trace) / trace).toBeLessThan(1e-12);
    expect(e.values[63]!).toBeGreaterThan(-1e-10 * e.values[0]!);
  });

  it("the zero matrix, 1 × 1 and 0 × 0; refuses non-finite elements and a wrong size", () => {
    expect(Array.from(checked(new Float64Array(9), 3).values)).toEqual([0, 0, 0]);
    expect(Array.from(symmetricEigen([-2.5], 1).values)).toEqual([-2.5]);
    expect(symmetricEigen([], 0).values.length).toBe(0);
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(/element \[1, 0\] is NaN/);
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/expected 2 × 2/);
  });
});
