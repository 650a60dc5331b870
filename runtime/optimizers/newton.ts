/**
 * `newton(damping)`: Newton's method with the exact Hessian — "step to the minimum of the quadratic
 * approximation", θ ← θ − H⁻¹g (lecture notes, second-order methods) — damped à la
 * Levenberg–Marquardt: d = −(H + λI)⁻¹ g. Per iteration:
 *
 *  - H assembled column by column from n Hessian-vector products H eᵢ (one n×n Float64Array
 *    allocated at creation, reused), symmetrized as ½(H + Hᵀ);
 *  - (H + λI) d = −g solved by Cholesky (dense-solve.ts); if H + λI is not positive definite
 *    (a saddle or a maximum of the model), λ ← max(4λ, 1e-8 · max(1, maxᵢ|Hᵢᵢ|)) and the
 *    factorization is retried (H is kept, not assembled again);
 *  - the line search and λ's adaptation of damped-newton.ts.
 *
 * O(n²) memory and O(n³) work per iteration: models of at most NEWTON_MAX_PARAMS parameters.
 */
import { choleskyDamped, choleskySolve } from "./dense-solve.js";
import { DampedNewton, maxAbs } from "./damped-newton.js";
import type { HessianVectorProduct, ParamSet } from "../types.js";

/**
 * The largest model `newton` takes: its Hessian is n² doubles (2,000² · 8 B = 32 MB), assembled
 * from n Hessian-vector products (n full-batch passes) and factored in n³/6 multiply-adds (about
 * 1.5 s in JavaScript at n = 2,000) every iteration. Larger models: newton_cg.
 */
export const NEWTON_MAX_PARAMS = 2000;

/** The user-facing reason a model is too large for `newton`, or null when it is not. */
export function newtonSizeError(parameters: number): string | null {
  if (parameters <= NEWTON_MAX_PARAMS) return null;
  const mb = Math.round((parameters * parameters * 8) / 1e6);
  return `optimizer newton assembles the full Hessian, limited to ${NEWTON_MAX_PARAMS} parameters (${NEWTON_MAX_PARAMS}² doubles = 32 MB); this model has ${parameters} (a ${mb} MB Hessian). Use newton_cg, which needs only Hessian-vector products.`;
}

export interface NewtonOptions {
  /** the initial λ (default 1e-4) */
  readonly damping?: number;
}

export function createNewton(params: ParamSet, options: NewtonOptions = {}): Newton {
  return new Newton(params, options);
}

export class Newton extends DampedNewton {
  /** H in the upper triangle, the Cholesky factor in the strict lower one (dense-solve.ts) */
  private readonly a: Float64Array;
  private readonly hDiag: Float64Array;
  private readonly lDiag: Float64Array;
  private readonly col: Float64Array;

  constructor(params: ParamSet, options: NewtonOptions) {
    let n = 0;
    for (const k of Object.keys(params)) n += params[k]!.length;
    const tooLarge = newtonSizeError(n);
    if (tooLarge !== null) throw new Error(tooLarge);
    super("newton", params, options.damping ?? 1e-4, 1 / 3);
    this.a = new Float64Array(n * n);
    this.hDiag = new Float64Array(n);
    this.lDiag = new Float64Array(n);
    this.col = new Float64Array(n);
  }

  protected direction(params: ParamSet, hv: HessianVectorProduct): number {
    const { n, a, hDiag, lDiag, col, g, d } = this;
    for (let i = 0; i < n; i++) {
      this.column(params, hv, i, col);
      // column i is row i by symmetry: entries j < i meet the ones column j stored, and are averaged
      for (let j = 0; j < i; j++) a[j * n + i] = 0.5 * (a[j * n + i]! + col[j]!);
      hDiag[i] = col[i]!;
      for (let j = i + 1; j < n; j++) a[i * n + j] = col[j]!;
    }
    const floor = 1e-8 * Math.max(1, maxAbs(hDiag));
    while (!choleskyDamped(a, hDiag, lDiag, n, this.lambda)) {
      if (!Number.isFinite(this.lambda) || this.lambda >= 1e12) {
        d.fill(0);
        return NaN;
      }
      this.lambda = Math.min(1e12, Math.max(4 * this.lambda, floor));
    }
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    choleskySolve(a, lDiag, n, d, d);
    // dᵀH d with the symmetric H of the upper triangle and diagonal
    let dHd = 0;
    for (let i = 0; i < n; i++) {
      const di = d[i]!;
      let s = 0;
      for (let j = i + 1; j < n; j++) s += a[i * n + j]! * d[j]!;
      dHd += di * (hDiag[i]! * di + 2 * s);
    }
    return dHd;
  }
}
