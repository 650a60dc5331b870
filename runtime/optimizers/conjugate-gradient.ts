/**
 * Conjugate gradient on A d = −g for a symmetric A given only as a product v ↦ A v, the inner solver
 * of `newton_cg` (Martens 2010, "Deep learning via Hessian-free optimization", §4): it minimizes
 * the quadratic model φ(d) = gᵀd + ½ dᵀA d.
 *
 * - Warm start: d on entry is the first iterate (newton_cg passes its previous direction, decayed),
 *   unless φ(d) ≥ 0 there, when CG starts from 0 instead (Martens §4.5).
 * - Stops (whichever comes first): ‖r‖ ≤ `tolerance` (r = −g − A d, the residual); Martens'
 *   relative-progress test, at iteration i with k = max(10, ⌈i/10⌉): φ_i < 0 and
 *   (φ_i − φ_{i−k}) / φ_i < k · 5e-4; `maxIterations` products; or negative curvature,
 *   pᵀA p ≤ 0: A is not positive definite along p, CG's model has no minimum there, and it stops
 *   at its current iterate (which then is still a descent direction, or 0 at the first step).
 * All vectors are flat Float64Arrays allocated once here; nothing is allocated per solve.
 */

/** v ↦ A v into out (both flat, length n) */
export type LinearOperator = (v: Float64Array, out: Float64Array) => void;

export type CgStop = "residual" | "progress" | "limit" | "negative-curvature";

export interface CgResult {
  /** products of A taken (the warm start's one included) */
  readonly products: number;
  readonly stop: CgStop;
  /** dᵀA d at the returned d */
  readonly dAd: number;
  /** at negative curvature: the Rayleigh quotient pᵀA p / pᵀp found (≤ 0); else NaN */
  readonly curvature: number;
}

const PROGRESS_EPS = 5e-4;

export class ConjugateGradient {
  private readonly r: Float64Array;
  private readonly p: Float64Array;
  private readonly ap: Float64Array;
  /** φ after each iteration, for the progress test */
  private readonly phi: Float64Array;

  constructor(
    private readonly n: number,
    maxIterations: number,
  ) {
    this.r = new Float64Array(n);
    this.p = new Float64Array(n);
    this.ap = new Float64Array(n);
    this.phi = new Float64Array(maxIterations + 1);
  }

  /** d ← an approximate minimizer of gᵀd + ½ dᵀA d, starting from d as given. */
  solve(apply: LinearOperator, g: Float64Array, d: Float64Array, tolerance: number, maxIterations: number): CgResult {
    const { n, r, p, ap, phi } = this;
    if (maxIterations + 1 > phi.length) throw new Error(`conjugate gradient: at most ${phi.length - 1} iterations, asked for ${maxIterations}`);
    let products = 0;
    // r = −g − A d; φ(d) = ½(gᵀd − rᵀd)
    let warm = false;
    for (let i = 0; i < n; i++) if (d[i] !== 0) warm = true;
    if (warm && maxIterations > 0) {
      apply(d, ap);
      products++;
      for (let i = 0; i < n; i++) r[i] = -g[i]! - ap[i]!;
      if (!(0.5 * (dot(g, d, n) - dot(r, d, n)) < 0)) warm = false;
    }
    if (!warm) {
      d.fill(0);
      for (let i = 0; i < n; i++) r[i] = -g[i]!;
    }
    phi[0] = 0.5 * (dot(g, d, n) - dot(r, d, n));
    p.set(r);
    let rr = dot(r, r, n);
    let stop: CgStop = "limit";
    let curvature = NaN;
    for (let it = 1; products < maxIterations; it++) {
      if (Math.sqrt(rr) <= tolerance) {
        stop = "residual";
        break;
      }
      apply(p, ap);
      products++;
      const pAp = dot(p, ap, n);
      if (!(pAp > 0)) {
        stop = "negative-curvature";
        curvature = pAp / dot(p, p, n);
        break;
      }
      const alpha = rr / pAp;
      for (let i = 0; i < n; i++) {
        d[i] = d[i]! + alpha * p[i]!;
        r[i] = r[i]! - alpha * ap[i]!;
      }
      const rrNew = dot(r, r, n);
      const beta = rrNew / rr;
      rr = rrNew;
      for (let i = 0; i < n; i++) p[i] = r[i]! + beta * p[i]!;
      const phiIt = 0.5 * (dot(g, d, n) - dot(r, d, n));
      phi[it] = phiIt;
      const k = Math.max(10, Math.ceil(it / 10));
      if (it > k && phiIt < 0 && (phiIt - phi[it - k]!) / phiIt < k * PROGRESS_EPS) {
        stop = "progress";
        break;
      }
    }
    if (stop === "limit" && Math.sqrt(rr) <= tolerance) stop = "residual";
    // A d = −g − r
    let dAd = 0;
    for (let i = 0; i < n; i++) dAd -= d[i]! * (g[i]! + r[i]!);
    return { products, stop, dAd, curvature };
  }
}

export function dot(u: ArrayLike<number>, v: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += u[i]! * v[i]!;
  return s;
}
