/**
 * The dense linear algebra of `newton`: a Cholesky factorization of H + λI that leaves H intact
 * (so that a failed factorization can be retried with a larger λ without assembling H again), and
 * the triangular solves. One n×n Float64Array holds both: H in the upper triangle (j > i) with its
 * diagonal in `hDiag`, L in the strict lower triangle with its diagonal in `lDiag`.
 *
 * Row-oriented (Cholesky–Banachiewicz): the inner products run along rows i and j of L, which lie
 * contiguously in memory. n³/6 multiply-adds.
 */

/**
 * L Lᵀ = H + λI, L into the strict lower triangle of `a` and `lDiag`. False (L partly written, H
 * untouched) when H + λI is not positive definite, to working precision.
 */
export function choleskyDamped(a: Float64Array, hDiag: Float64Array, lDiag: Float64Array, n: number, lambda: number): boolean {
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j < i; j++) {
      const rowJ = j * n;
      let s = a[rowJ + i]!; // H[j][i], upper triangle
      for (let k = 0; k < j; k++) s -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = s / lDiag[j]!;
    }
    let s = hDiag[i]! + lambda;
    for (let k = 0; k < i; k++) s -= a[rowI + k]! * a[rowI + k]!;
    // a pivot that lost all but rounding noise of the diagonal counts as not positive definite
    if (!(s > 1e-14 * Math.abs(hDiag[i]! + lambda))) return false;
    lDiag[i] = Math.sqrt(s);
  }
  return true;
}

/** x ← (L Lᵀ)⁻¹ b with the factor of choleskyDamped; `x` may be `b`. */
export function choleskySolve(a: Float64Array, lDiag: Float64Array, n: number, b: Float64Array, x: Float64Array): void {
  // L y = b, forward
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= a[row + k]! * x[k]!;
    x[i] = s / lDiag[i]!;
  }
  // Lᵀ x = y, backward: once x_i is known, subtract its column of Lᵀ (row i of L) from the rest
  for (let i = n - 1; i >= 0; i--) {
    const xi = x[i]! / lDiag[i]!;
    x[i] = xi;
    const row = i * n;
    for (let k = 0; k < i; k++) x[k] = x[k]! - a[row + k]! * xi;
  }
}
