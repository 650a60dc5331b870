/**
 * What `newton` and `newton_cg` share (docs/training.md, "Second-order optimizers"): one call of
 * `iterate` is one damped Newton iteration on a full-batch, deterministic objective:
 *
 *  1. g = ∇f(x) (reused from the previous iteration when the parameters are unchanged);
 *  2. a direction d ≈ −(H + λI)⁻¹ g — the subclass's part: `newton` solves it exactly from the
 *     assembled Hessian, `newton_cg` approximately by conjugate gradient on H·v products;
 *  3. a backtracking (Armijo) line search from α = 1, halving: f(x + αd) ≤ f(x) + c₁ α gᵀd,
 *     c₁ = 1e-4, at most 30 trials. A trial whose loss is equal to f(x) up to rounding (within
 *     4ε|f|) is accepted too if its gradient is smaller: near the optimum, f's decrease falls
 *     below its rounding before ‖g‖ reaches 1e-8, and the gradient still tells progress;
 *  4. Levenberg–Marquardt adaptation of λ by ρ = (f(x) − f(x + d)) / (−(gᵀd + ½ dᵀH d)), the
 *     actual reduction of the full step over the one the undamped quadratic model predicts:
 *     ρ < 1/4 → λ ← 3/2 λ, ρ > 3/4 → λ ← `shrink` · λ — Martens' 2/3 (2010, §4.1) for
 *     newton_cg, 1/3 for newton, whose exact model earns trust faster (on XOR: 25 iterations to
 *     ‖g‖ ≤ 1e-8 instead of 43 with 2/3; docs/training.md). λ stays in [1e-12, 1e12]. A
 *     prediction within rounding of f (|pred| ≤ 4ε|f|) leaves λ as it is.
 *
 * `converged` is reported when ‖g‖∞ ≤ 1e-10, or when the step moved no coordinate by more than
 * 1e-12 · max(1, ‖x‖∞). When no trial step is accepted the parameters stay where they were, λ
 * grows as for ρ < 1/4, and the next iteration tries again.
 *
 * Work vectors are flat Float64Arrays allocated once; the objective and the Hessian-vector product
 * receive the caller's parameters and ParamSets of views into flat buffers of the parameters' array
 * type (Float32Array for an f32 module). For Float32Array parameters the point x is read back after
 * each move, so that it is exactly the rounded point the objective saw.
 */
import { arrayLike } from "../precision.js";
import { FlatLayout } from "./flat-layout.js";
import { NncUsageError } from "../usage.js";
import type { FloatArray, HessianVectorProduct, Objective, OptimizerState, ParamSet } from "../types.js";

export interface SecondOrderResult {
  /** f at the parameters after the iteration */
  readonly loss: number;
  /** ‖∇f‖₂ there */
  readonly gradNorm: number;
  /** objective (loss and gradient) evaluations this iteration */
  readonly evaluations: number;
  /** Hessian-vector products this iteration */
  readonly products: number;
  /** λ for the next iteration */
  readonly damping: number;
  readonly converged: boolean;
}

export interface SecondOrder {
  iterate(params: ParamSet, f: Objective, hv: HessianVectorProduct): SecondOrderResult;
  state(): OptimizerState;
  restore(state: OptimizerState): void;
}

const C1 = 1e-4;
const MAX_LINE_SEARCH = 30;
const GRADIENT_TOL = 1e-10;
const STEP_TOL = 1e-12;
const EPS = 2.220446049250313e-16;
const DAMPING_MIN = 1e-12;
const DAMPING_MAX = 1e12;

export function checkDamping(who: string, damping: number): void {
  if (!(damping > 0 && damping <= DAMPING_MAX)) throw new NncUsageError("options.optimizer.args.damping", `optimizer ${who}: damping must be positive and at most ${DAMPING_MAX}, got ${damping}`);
}

export abstract class DampedNewton implements SecondOrder {
  protected readonly layout: FlatLayout;
  protected readonly names: readonly string[];
  protected readonly offsets: readonly number[];
  protected readonly sizes: readonly number[];
  protected readonly n: number;
  protected lambda: number;
  /** iterations that moved the parameters */
  protected t = 0;

  /** the current point, its gradient and value (valid when `cached`) */
  protected readonly x: Float64Array;
  protected readonly g: Float64Array;
  private fx = NaN;
  private cached = false;
  /** the direction */
  protected readonly d: Float64Array;
  /** flat buffers of the parameters' type and ParamSets of views into them: gradient, v and H·v */
  private readonly gTrial: FloatArray;
  private readonly gradSet: ParamSet;
  private readonly vFlat: FloatArray;
  private readonly vSet: ParamSet;
  private readonly hvFlat: FloatArray;
  private readonly hvSet: ParamSet;
  /** gradient at the accepted trial */
  private readonly gBest: Float64Array;
  protected evaluations = 0;
  protected products = 0;

  constructor(
    protected readonly name: "newton" | "newton_cg",
    params: ParamSet,
    damping: number,
    /** λ's factor after a step whose ρ > 3/4 */
    private readonly shrink: number,
  ) {
    checkDamping(name, damping);
    this.lambda = damping;
    this.layout = new FlatLayout(params);
    ({ names: this.names, sizes: this.sizes, offsets: this.offsets } = this.layout);
    const n = this.layout.length;
    this.n = n;
    this.x = new Float64Array(n);
    this.g = new Float64Array(n);
    this.d = new Float64Array(n);
    this.gBest = new Float64Array(n);
    const first = this.names.length > 0 ? params[this.names[0]!]! : new Float64Array(0);
    const flatSet = (): [FloatArray, ParamSet] => {
      const flat = arrayLike(first, n);
      return [flat, this.layout.views(flat)];
    };
    [this.gTrial, this.gradSet] = flatSet();
    [this.vFlat, this.vSet] = flatSet();
    [this.hvFlat, this.hvSet] = flatSet();
  }

  /**
   * d ← the direction for this iteration (params at x, g its gradient); may change λ. Returns
   * dᵀH d of the undamped Hessian, or NaN when unknown.
   */
  protected abstract direction(params: ParamSet, hv: HessianVectorProduct): number;

  /** out ← H v at the current parameters (flat, float64); one product */
  protected product(params: ParamSet, hv: HessianVectorProduct, v: Float64Array, out: Float64Array): void {
    this.vFlat.set(v);
    hv(params, this.vSet, this.hvSet);
    this.products++;
    out.set(this.hvFlat);
  }

  /** out ← H eᵢ, the i-th column; one product */
  protected column(params: ParamSet, hv: HessianVectorProduct, i: number, out: Float64Array): void {
    this.vFlat.fill(0);
    this.vFlat[i] = 1;
    hv(params, this.vSet, this.hvSet);
    this.products++;
    out.set(this.hvFlat);
  }

  iterate(params: ParamSet, f: Objective, hv: HessianVectorProduct): SecondOrderResult {
    this.layout.check(params, this.name);
    this.evaluations = 0;
    this.products = 0;
    const { n, x, g, d } = this;
    if (!this.cached || !this.layout.holds(params, this.x)) {
      this.layout.read(params, x);
      this.fx = f(params, this.gradSet);
      this.evaluations++;
      g.set(this.gTrial);
      this.cached = Number.isFinite(this.fx);
    }
    const f0 = this.fx;
    const gNorm = norm(g);
    if (!Number.isFinite(f0) || !Number.isFinite(gNorm)) return this.result(f0, gNorm, false);
    if (maxAbs(g) <= GRADIENT_TOL) return this.result(f0, gNorm, true);

    let dHd = this.direction(params, hv);
    let slope = dot(g, d, n);
    if (!(slope < 0)) {
      // not a descent direction (CG stopped at 0 on negative curvature, or rounding): steepest descent
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = -gNorm * gNorm;
      dHd = NaN;
    }

    // backtracking line search; ρ from the full step
    const noise = 4 * EPS * Math.abs(f0);
    let step = 1;
    let accepted = 0;
    let fBest = f0;
    let actual = -Infinity;
    for (let trial = 0; trial < MAX_LINE_SEARCH; trial++, step *= 0.5) {
      const ft = this.phi(params, f, step);
      if (trial === 0) actual = Number.isFinite(ft) ? f0 - ft : -Infinity;
      if (!Number.isFinite(ft)) continue;
      const armijo = ft <= f0 + C1 * step * slope;
      if (armijo || (ft - f0 <= noise && norm(this.gTrial) < gNorm)) {
        accepted = step;
        fBest = ft;
        this.gBest.set(this.gTrial);
        break;
      }
    }
    const predicted = -(slope + 0.5 * dHd);
    if (!Number.isFinite(predicted)) {
      if (accepted !== 1) this.grow();
    } else if (Math.abs(predicted) > noise) {
      const rho = actual / predicted;
      if (!(rho >= 0.25)) this.grow();
      else if (rho > 0.75) this.lambda = Math.max(DAMPING_MIN, this.lambda * this.shrink);
    }

    if (accepted === 0) {
      this.layout.write(params, x);
      // a step too small to move any coordinate: numerically at the minimum
      const converged = (step * 2 * maxAbs(d)) <= STEP_TOL * Math.max(1, maxAbs(x));
      return this.result(f0, gNorm, converged);
    }
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const si = accepted * d[i]!;
      x[i] = x[i]! + si;
      moved = Math.max(moved, Math.abs(si));
    }
    this.layout.write(params, x);
    this.layout.read(params, x);
    g.set(this.gBest);
    this.fx = fBest;
    this.cached = true;
    this.t++;
    this.afterStep(accepted);
    const converged = maxAbs(g) <= GRADIENT_TOL || moved <= STEP_TOL * Math.max(1, maxAbs(x));
    return this.result(fBest, norm(g), converged);
  }

  /** a hook after a step of length `step` along d was taken */
  protected afterStep(_step: number): void {}

  /** λ ← 3/2 λ (ρ < 1/4, or no step accepted) */
  protected grow(factor = 1.5): void {
    this.lambda = Math.min(DAMPING_MAX, this.lambda * factor);
  }

  private result(loss: number, gradNorm: number, converged: boolean): SecondOrderResult {
    return { loss, gradNorm, evaluations: this.evaluations, products: this.products, damping: this.lambda, converged };
  }

  /** f(x + a d), the parameters set to that point; ∇f lands in gTrial */
  private phi(params: ParamSet, f: Objective, a: number): number {
    this.layout.writeAlong(params, this.x, a, this.d);
    this.evaluations++;
    return f(params, this.gradSet);
  }

  /** extra buffers of the subclass's state, by kind, then by parameter name */
  protected extraState(): Record<string, Record<string, number[]>> {
    return {};
  }

  protected restoreExtra(_buffers: OptimizerState["buffers"], _where: string): void {}

  /** t, λ (buffers.damping.lambda) and the subclass's buffers */
  state(): OptimizerState {
    return { name: this.name, t: this.t, buffers: { damping: { lambda: [this.lambda] }, ...this.extraState() } };
  }

  /** Checks everything first; a state that does not fit leaves the optimizer as it was. */
  restore(state: OptimizerState): void {
    const where = `cannot resume ${this.name} from a saved state`;
    if (state.name !== this.name) throw new Error(`${where} of optimizer '${state.name}'`);
    if (!Number.isInteger(state.t) || state.t < 0) throw new Error(`${where}: bad iteration count ${state.t}`);
    const lambda = state.buffers?.damping?.lambda;
    if (!Array.isArray(lambda) || lambda.length !== 1 || !(lambda[0]! >= DAMPING_MIN && lambda[0]! <= DAMPING_MAX))
      throw new Error(`${where}: expected buffers.damping.lambda = [λ] with ${DAMPING_MIN} ≤ λ ≤ ${DAMPING_MAX}`);
    this.restoreExtra(state.buffers, where);
    this.lambda = lambda[0]!;
    this.t = state.t;
    this.cached = false;
  }

  /** a Params-shaped JSON form of a flat vector */
  protected byName(v: Float64Array): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.names.forEach((k, j) => (out[k] = Array.from(v.subarray(this.offsets[j]!, this.offsets[j]! + this.sizes[j]!))));
    return out;
  }

  /** the flat vector of a Params-shaped JSON form; throws (naming `what`) unless it fits */
  protected checkByName(saved: Record<string, number[]> | undefined, what: string, where: string): void {
    this.names.forEach((k, j) => {
      const v = saved !== undefined && Object.hasOwn(saved, k) ? saved[k] : undefined;
      if (!Array.isArray(v) || v.length !== this.sizes[j] || !v.every((e) => typeof e === "number" && Number.isFinite(e)))
        throw new Error(`${where}: ${what} of parameter '${k}' should be ${this.sizes[j]} finite numbers`);
    });
  }

  protected fromByName(saved: Record<string, number[]>, into: Float64Array): void {
    this.names.forEach((k, j) => into.set(saved[k]!, this.offsets[j]!));
  }
}

export function dot(u: ArrayLike<number>, v: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += u[i]! * v[i]!;
  return s;
}

export function norm(u: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i]! * u[i]!;
  return Math.sqrt(s);
}

export function maxAbs(u: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s = Math.max(s, Math.abs(u[i]!));
  return s;
}
