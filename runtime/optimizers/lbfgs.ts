/**
 * L-BFGS (limited-memory BFGS) for full-batch, deterministic objectives — "if you have a single,
 * deterministic f(x) then L-BFGS will probably work very nicely" (lecture notes). One `iterate`
 * call is one quasi-Newton iteration:
 *
 *  1. g = ∇f(x) (reused from the previous iteration when the parameters are unchanged);
 *  2. direction d = −H g by the two-loop recursion over the last `history` pairs
 *     s = x_{k+1} − x_k, y = g_{k+1} − g_k, with H₀ = (sᵀy / yᵀy) I from the newest pair
 *     (Nocedal & Wright, Alg. 7.4);
 *  3. a line search for a step α satisfying the strong Wolfe conditions
 *        f(x + αd) ≤ f(x) + c₁ α gᵀd            (sufficient decrease, c₁ = 1e-4)
 *        |∇f(x + αd)ᵀd| ≤ c₂ |gᵀd|              (curvature, c₂ = 0.9)
 *     by bracketing then zooming with safeguarded cubic interpolation (N&W Alg. 3.5 / 3.6),
 *     starting from α = lr (default 1) — on the first iteration (no pairs yet) from
 *     lr · min(1, 1/‖g‖₁), since a steepest-descent direction has no natural scale;
 *  4. x ← x + αd, and the pair (s, y) joins the history unless sᵀy ≤ 1e-10 (which would break the
 *     positive definiteness of H).
 *
 * `converged` is reported when ‖g‖∞ ≤ 1e-10, when the step moves no coordinate by more than
 * 1e-12 · max(1, ‖x‖∞), or when even steepest descent finds no decrease (numerically at the
 * minimum). If a quasi-Newton direction's line search fails, the history is dropped and the next
 * iteration starts over from steepest descent.
 *
 * The objective must be the same function on every call: the value and gradient at the point an
 * iteration ends on are reused by the next one (if the parameters were not changed in between).
 *
 * All work vectors are flattened Float64Arrays allocated once at creation; the objective receives
 * the caller's parameters (set to each trial point) and a gradient ParamSet of views into one
 * flat buffer of the parameters' array type (Float32Array for an f32 module, whose gradient
 * functions then write the arrays they are typed for). For Float32Array parameters the point x is
 * read back after each move, so that it is exactly the rounded point the objective saw.
 */
import { arrayLike } from "../precision.js";
import { FlatLayout } from "./flat-layout.js";
import type { FloatArray, Objective, OptimizerState, ParamSet } from "../types.js";

export interface LbfgsOptions {
  /** how many (s, y) pairs to keep */
  readonly history: number;
  /** the line search's first trial step (default 1) */
  readonly lr?: number;
  /** sufficient-decrease constant (default 1e-4) */
  readonly c1?: number;
  /** curvature constant (default 0.9) */
  readonly c2?: number;
  /** objective evaluations allowed per line search (default 25) */
  readonly maxLineSearch?: number;
}

export interface LbfgsResult {
  /** f at the parameters after the iteration */
  readonly loss: number;
  /** objective evaluations this iteration used */
  readonly evaluations: number;
  readonly converged: boolean;
}

export interface Lbfgs {
  iterate(params: ParamSet, f: Objective): LbfgsResult;
  state(): OptimizerState;
  restore(state: OptimizerState): void;
}

export function createLbfgs(params: ParamSet, options: LbfgsOptions): Lbfgs {
  return new LbfgsOptimizer(params, options);
}

/** sᵀy at or below this: the pair is not stored */
const CURVATURE_MIN = 1e-10;
const GRADIENT_TOL = 1e-10;
const STEP_TOL = 1e-12;

class LbfgsOptimizer implements Lbfgs {
  private readonly layout: FlatLayout;
  private readonly names: readonly string[];
  private readonly n: number;
  private readonly m: number;
  private readonly lr: number;
  private readonly c1: number;
  private readonly c2: number;
  private readonly maxLineSearch: number;

  /** the current point, its gradient and value (valid when `cached`) */
  private readonly x: Float64Array;
  private readonly g: Float64Array;
  private fx = NaN;
  private cached = false;
  /** search direction, doubling as q/r of the two-loop recursion */
  private readonly d: Float64Array;
  /** the objective writes its gradient here, through `gradSet`'s views; of the parameters' type */
  private readonly gTrial: FloatArray;
  private readonly gradSet: ParamSet;
  /** gradient at the best acceptable step found so far in the line search */
  private readonly gLo: Float64Array;
  /** history ring: pair k in S/Y[k·n … (k+1)·n), ρ_k = 1/(s_kᵀy_k); `head` is the next slot */
  private readonly S: Float64Array;
  private readonly Y: Float64Array;
  private readonly rho: Float64Array;
  private readonly alpha: Float64Array;
  private head = 0;
  private count = 0;
  /** iterations that moved the parameters */
  private t = 0;

  /** line-search bookkeeping (fields, not a result object) */
  private evaluations = 0;
  private fLo = NaN;
  /** the evaluation count at which the current line search must stop */
  private searchEnd = 0;

  constructor(params: ParamSet, options: LbfgsOptions) {
    const { history, lr = 1, c1 = 1e-4, c2 = 0.9, maxLineSearch = 25 } = options;
    if (!Number.isInteger(history) || history < 1) throw new Error(`lbfgs: history must be a positive integer, got ${history}`);
    if (!(lr > 0 && Number.isFinite(lr))) throw new Error(`lbfgs: lr (the first trial step) must be positive, got ${lr}`);
    if (!(c1 > 0 && c1 < c2 && c2 < 1)) throw new Error(`lbfgs: the Wolfe constants need 0 < c1 < c2 < 1, got c1 = ${c1}, c2 = ${c2}`);
    if (!Number.isInteger(maxLineSearch) || maxLineSearch < 1) throw new Error(`lbfgs: maxLineSearch must be a positive integer, got ${maxLineSearch}`);
    this.layout = new FlatLayout(params);
    this.names = this.layout.names;
    const n = this.layout.length;
    this.n = n;
    this.m = history;
    this.lr = lr;
    this.c1 = c1;
    this.c2 = c2;
    this.maxLineSearch = maxLineSearch;
    this.x = new Float64Array(n);
    this.g = new Float64Array(n);
    this.d = new Float64Array(n);
    const first = this.names.length > 0 ? params[this.names[0]!]! : new Float64Array(0);
    this.gTrial = arrayLike(first, n);
    this.gLo = new Float64Array(n);
    this.gradSet = this.layout.views(this.gTrial);
    this.S = new Float64Array(history * n);
    this.Y = new Float64Array(history * n);
    this.rho = new Float64Array(history);
    this.alpha = new Float64Array(history);
  }

  iterate(params: ParamSet, f: Objective): LbfgsResult {
    this.layout.check(params, "lbfgs");
    this.evaluations = 0;
    const { n, x, g, d } = this;

    // 1. f and ∇f at the current point
    if (!this.cached || !this.layout.holds(params, this.x)) {
      this.layout.read(params, x);
      this.fx = f(params, this.gradSet);
      this.evaluations++;
      g.set(this.gTrial);
      this.cached = Number.isFinite(this.fx);
    }
    const f0 = this.fx;
    if (!Number.isFinite(f0) || !allFinite(g)) return { loss: f0, evaluations: this.evaluations, converged: false };
    if (maxAbs(g) <= GRADIENT_TOL) return { loss: f0, evaluations: this.evaluations, converged: true };

    // 2. d = −H g, falling back to steepest descent if that is not a descent direction
    this.twoLoop();
    let slope = dot(g, d, n);
    if (!(slope < 0)) {
      this.count = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = -dot(g, g, n);
    }

    // 3. strong Wolfe line search
    const first = this.count === 0 ? this.lr * Math.min(1, 1 / sumAbs(g)) : this.lr;
    const step = this.lineSearch(params, f, f0, slope, first);
    if (step === 0) {
      this.layout.write(params, x);
      const steepest = this.count === 0;
      this.count = 0;
      return { loss: f0, evaluations: this.evaluations, converged: steepest };
    }

    // 4. move, and remember (s, y) = (αd, g_new − g) unless sᵀy is too small (the ring slot to be
    //    overwritten may still hold the oldest pair, so it is written only once the pair is kept)
    const { S, Y, gLo } = this;
    let sy = 0;
    for (let i = 0; i < n; i++) sy += step * d[i]! * (gLo[i]! - g[i]!);
    if (sy > CURVATURE_MIN) {
      const slot = this.head * n;
      for (let i = 0; i < n; i++) {
        S[slot + i] = step * d[i]!;
        Y[slot + i] = gLo[i]! - g[i]!;
      }
      this.rho[this.head] = 1 / dotAt(S, slot, Y, slot, n);
      this.head = (this.head + 1) % this.m;
      this.count = Math.min(this.count + 1, this.m);
    }
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const si = step * d[i]!;
      x[i] = x[i]! + si;
      moved = Math.max(moved, Math.abs(si));
    }
    this.layout.write(params, x);
    this.layout.read(params, x); // x is the point the parameters hold (rounded, for Float32Array parameters)
    g.set(gLo);
    this.fx = this.fLo;
    this.cached = true;
    this.t++;
    const converged = maxAbs(g) <= GRADIENT_TOL || moved <= STEP_TOL * Math.max(1, maxAbs(x));
    return { loss: this.fx, evaluations: this.evaluations, converged };
  }

  /** d ← −H g: Nocedal & Wright Alg. 7.4, newest pair first, then oldest first */
  private twoLoop(): void {
    const { n, m, d, S, Y, rho, alpha, count, head } = this;
    d.set(this.g);
    for (let k = 0; k < count; k++) {
      const idx = (head - 1 - k + m) % m;
      const a = rho[idx]! * dotAt(S, idx * n, d, 0, n);
      alpha[idx] = a;
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * Y[idx * n + i]!;
    }
    if (count > 0) {
      const newest = (head - 1 + m) % m;
      const yy = dotAt(Y, newest * n, Y, newest * n, n);
      const gamma = 1 / (rho[newest]! * yy);
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    }
    for (let k = count - 1; k >= 0; k--) {
      const idx = (head - 1 - k + m) % m;
      const b = rho[idx]! * dotAt(Y, idx * n, d, 0, n);
      const c = alpha[idx]! - b;
      for (let i = 0; i < n; i++) d[i] = d[i]! + c * S[idx * n + i]!;
    }
    for (let i = 0; i < n; i++) d[i] = -d[i]!;
  }

  /**
   * Strong Wolfe line search along d from x (N&W Alg. 3.5): grows the step until it brackets an
   * acceptable one, then zooms. Returns the step (gradient there in gLo, value in fLo), or 0 when
   * no step with sufficient decrease was found within the evaluation budget.
   */
  private lineSearch(params: ParamSet, f: Objective, f0: number, slope0: number, first: number): number {
    const { c1, c2 } = this;
    this.gLo.set(this.g);
    this.fLo = f0;
    let prev = 0;
    let fPrev = f0;
    let dPrev = slope0;
    let a = first;
    this.searchEnd = this.evaluations + this.maxLineSearch;
    for (let i = 0; this.evaluations < this.searchEnd; i++) {
      const fa = this.phi(params, f, a);
      const da = dot(this.gTrial, this.d, this.n);
      if (!(fa <= f0 + c1 * a * slope0) || (i > 0 && fa >= fPrev)) return this.zoom(params, f, f0, slope0, prev, fPrev, dPrev, a, fa, da);
      if (Math.abs(da) <= -c2 * slope0) return this.accept(a, fa);
      this.accept(a, fa);
      if (da >= 0) return this.zoom(params, f, f0, slope0, a, fa, da, prev, fPrev, dPrev);
      // still descending: extrapolate by cubic interpolation, at least a little and at most tenfold
      const next = cubicMinimizer(prev, fPrev, dPrev, a, fa, da);
      const lo = a + 0.1 * (a - prev);
      const hi = 10 * a;
      prev = a;
      fPrev = fa;
      dPrev = da;
      a = Number.isFinite(next) ? Math.min(hi, Math.max(lo, next)) : Math.min(hi, 2 * a);
    }
    return prev;
  }

  /** N&W Alg. 3.6: lo satisfies sufficient decrease and is the best so far; the minimum lies between lo and hi */
  private zoom(params: ParamSet, f: Objective, f0: number, slope0: number, lo: number, fLo: number, dLo: number, hi: number, fHi: number, dHi: number): number {
    const { c1, c2 } = this;
    while (this.evaluations < this.searchEnd) {
      const left = Math.min(lo, hi);
      const width = Math.abs(hi - lo);
      if (width <= 1e-16 * Math.max(1, Math.abs(hi))) break;
      // cubic interpolation, unless it lands outside the middle 80 % of the interval: bisection
      let a = cubicMinimizer(lo, fLo, dLo, hi, fHi, dHi);
      if (!(a >= left + 0.1 * width && a <= left + 0.9 * width)) a = 0.5 * (lo + hi);
      const fa = this.phi(params, f, a);
      const da = dot(this.gTrial, this.d, this.n);
      if (!(fa <= f0 + c1 * a * slope0) || fa >= fLo) {
        hi = a;
        fHi = fa;
        dHi = da;
      } else {
        if (Math.abs(da) <= -c2 * slope0) return this.accept(a, fa);
        if (da * (hi - lo) >= 0) {
          hi = lo;
          fHi = fLo;
          dHi = dLo;
        }
        lo = a;
        fLo = fa;
        dLo = da;
        this.accept(a, fa);
      }
    }
    return lo;
  }

  /** the step just evaluated becomes the best one: keep its gradient and value */
  private accept(a: number, fa: number): number {
    this.gLo.set(this.gTrial);
    this.fLo = fa;
    return a;
  }

  /** φ(a) = f(x + a d), the parameters set to that point; ∇f lands in gTrial */
  private phi(params: ParamSet, f: Objective, a: number): number {
    this.layout.writeAlong(params, this.x, a, this.d);
    this.evaluations++;
    return f(params, this.gradSet);
  }

  /** t, and the history oldest first as buffers.s / buffers.y keyed "0", "1", … (flattened in parameter order) */
  state(): OptimizerState {
    const s: Record<string, number[]> = {};
    const y: Record<string, number[]> = {};
    const { n, m } = this;
    for (let k = 0; k < this.count; k++) {
      const idx = (this.head - this.count + k + m) % m;
      s[String(k)] = Array.from(this.S.subarray(idx * n, (idx + 1) * n));
      y[String(k)] = Array.from(this.Y.subarray(idx * n, (idx + 1) * n));
    }
    return { name: "lbfgs", t: this.t, buffers: { s, y } };
  }

  /** Checks everything first; a state that does not fit leaves the optimizer as it was. */
  restore(state: OptimizerState): void {
    const where = "cannot resume lbfgs from a saved state";
    if (state.name !== "lbfgs") throw new Error(`${where} of optimizer '${state.name}'`);
    if (!Number.isInteger(state.t) || state.t < 0) throw new Error(`${where}: bad iteration count ${state.t}`);
    const s = state.buffers?.s;
    const y = state.buffers?.y;
    if (s === undefined || y === undefined) throw new Error(`${where}: expected buffers s and y`);
    const pairs = Object.keys(s).length;
    if (Object.keys(y).length !== pairs) throw new Error(`${where}: ${pairs} s vectors but ${Object.keys(y).length} y vectors`);
    for (let k = 0; k < pairs; k++) {
      for (const [label, vectors] of [["s", s], ["y", y]] as const) {
        const v = Object.hasOwn(vectors, String(k)) ? vectors[String(k)] : undefined;
        if (!Array.isArray(v) || v.length !== this.n || !v.every(Number.isFinite)) throw new Error(`${where}: ${label}[${k}] should be ${this.n} finite numbers`);
      }
    }
    const { n, m } = this;
    // keep the newest m pairs, stored in slots 0, 1, … oldest first
    const skip = Math.max(0, pairs - m);
    this.count = 0;
    this.head = 0;
    for (let k = skip; k < pairs; k++) {
      const slot = this.head * n;
      this.S.set(s[String(k)]!, slot);
      this.Y.set(y[String(k)]!, slot);
      this.rho[this.head] = 1 / dotAt(this.S, slot, this.Y, slot, n);
      this.head = (this.head + 1) % m;
      this.count++;
    }
    this.t = state.t;
    this.cached = false;
  }
}

/**
 * The minimizer of the cubic matching φ and φ′ at a and b (N&W eq. 3.59); NaN when the cubic
 * has none (or a value is not finite), for the caller to fall back on.
 */
function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2));
}

function dot(u: FloatArray, v: FloatArray, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += u[i]! * v[i]!;
  return s;
}

function dotAt(u: Float64Array, uOff: number, v: Float64Array, vOff: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += u[uOff + i]! * v[vOff + i]!;
  return s;
}

function maxAbs(u: Float64Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s = Math.max(s, Math.abs(u[i]!));
  return s;
}

function sumAbs(u: Float64Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += Math.abs(u[i]!);
  return s;
}

function allFinite(u: Float64Array): boolean {
  for (let i = 0; i < u.length; i++) if (!Number.isFinite(u[i]!)) return false;
  return true;
}
