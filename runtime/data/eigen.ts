/**
 * The eigen-decomposition of a real symmetric matrix, A = V Λ Vᵀ, for PCA and whitening
 * (normalize.ts). Householder reduction to tridiagonal form, then the implicit QL algorithm with
 * Wilkinson-style shifts: the tred2/tql2 procedures of the Handbook for Automatic Computation
 * (Bowdler, Martin, Reinsch, Wilkinson 1968) as JAMA transcribed them (public domain). O(n³) with a
 * small constant (a 784 × 784 covariance takes seconds), no dependency, browser-safe; tested
 * against known spectra in test/runtime/eigen.test.ts.
 *
 * Conventions of the result: eigenvalues in descending order; eigenvector j is column j of V
 * (row-major n × n), of unit length, with its component of largest magnitude positive (the first
 * such on a tie), so the decomposition of a given matrix is unique up to repeated eigenvalues.
 */

export interface SymmetricEigen {
  readonly n: number;
  /** descending */
  readonly values: Float64Array;
  /** row-major n × n; column j is the eigenvector of values[j] */
  readonly vectors: Float64Array;
}

/** QL iterations allowed per eigenvalue before giving up (a finite symmetric matrix needs a few). */
const MAX_ITERATIONS = 60;

/** The eigen-decomposition of the symmetric n × n matrix `a` (row-major; only its lower triangle is read). */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) throw new RangeError(`symmetricEigen: expected ${n} × ${n} values, got ${a.length}`);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const x = a[i * n + j]!;
      if (!Number.isFinite(x)) throw new RangeError(`symmetricEigen: element [${i}, ${j}] is ${x}`);
      v[i * n + j] = x;
      v[j * n + i] = x;
    }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n > 0) {
    tred2(n, v, d, e);
    tql2(n, v, d, e);
  }
  return sortAndSign(n, d, v);
}

/** Householder reduction of v (symmetric, overwritten by the orthogonal transformation) to tridiagonal form: diagonal d, subdiagonal e. */
function tred2(n: number, v: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = v[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j]!;
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        v[j * n + i] = f;
        g = e[j]! + v[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k * n + j]! * d[k]!;
          e[k] = e[k]! + v[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) v[k * n + j] = v[k * n + j]! - (f * e[k]! + g * d[k]!);
        d[j] = v[(i - 1) * n + j]!;
        v[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // accumulate the transformations
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i]!;
    v[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k * n + i + 1]! * v[k * n + j]!;
        for (let k = 0; k <= i; k++) v[k * n + j] = v[k * n + j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[(n - 1) * n + j]!;
    v[(n - 1) * n + j] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e), accumulating the rotations into v: d becomes the eigenvalues, v's columns the eigenvectors. */
function tql2(n: number, v: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > MAX_ITERATIONS) throw new RangeError(`symmetricEigen: no convergence for eigenvalue ${l} after ${MAX_ITERATIONS} QL iterations`);
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          for (let k = 0; k < n; k++) {
            const vk = k * n;
            h = v[vk + i + 1]!;
            v[vk + i + 1] = s * v[vk + i]! + c * h;
            v[vk + i] = c * v[vk + i]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** Eigenvalues descending (a stable sort: equal values keep tql2's order), each vector's largest component positive. */
function sortAndSign(n: number, d: Float64Array, v: Float64Array): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b]! - d[a]! || a - b);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, j) => {
    values[j] = d[from]!;
    let big = 0;
    for (let k = 0; k < n; k++) if (Math.abs(v[k * n + from]!) > Math.abs(v[big * n + from]!)) big = k;
    const sign = v[big * n + from]! < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[k * n + j] = sign * v[k * n + from]!;
  });
  return { n, values, vectors };
}
