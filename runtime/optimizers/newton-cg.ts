/**
 * `newton_cg(damping, iterations)`: Hessian-free optimization (Martens 2010). The direction
 * d ≈ −(H + λI)⁻¹ g comes from conjugate gradient (conjugate-gradient.ts) using only products
 * H·v — no n×n matrix, O(n) memory — at most `iterations` products per outer iteration:
 *
 *  - warm start from the previous iteration's direction times 0.95 (Martens §4.5);
 *  - CG stops at ‖r‖ ≤ min(0.5, √‖g‖) ‖g‖ (a forcing sequence that tightens as g → 0, so that the
 *    outer iteration converges superlinearly), at Martens' relative-progress test, at
 *    `iterations` products, or at negative curvature;
 *  - negative curvature (pᵀ(H + λI)p ≤ 0): CG keeps its iterate so far (steepest descent when that
 *    is 0), and λ grows past the curvature found, λ ← max(3/2 λ, −2 pᵀHp/‖p‖²), so that H + λI is
 *    positive along p next time;
 *  - the line search and λ's adaptation of damped-newton.ts.
 */
import { NncUsageError } from "../usage.js";
import { ConjugateGradient } from "./conjugate-gradient.js";
import { DampedNewton, norm } from "./damped-newton.js";
import type { HessianVectorProduct, OptimizerState, ParamSet } from "../types.js";

export interface NewtonCgOptions {
  /** the initial λ (default 1e-4) */
  readonly damping?: number;
  /** most H·v products per iteration (default 50) */
  readonly iterations?: number;
}

/** the warm start's decay */
const DECAY = 0.95;

export function createNewtonCg(params: ParamSet, options: NewtonCgOptions = {}): NewtonCg {
  return new NewtonCg(params, options);
}

export class NewtonCg extends DampedNewton {
  private readonly maxIterations: number;
  private readonly cg: ConjugateGradient;
  /** the previous iteration's direction (the warm start), kept in checkpoints */
  private readonly previous: Float64Array;
  private readonly hv: Float64Array;
  /** the point and product of the current iteration, for `apply` */
  private at: ParamSet = {};
  private hvp: HessianVectorProduct = () => NaN;
  /** v ↦ (H + λI) v at the current point: CG's operator, created once */
  private readonly apply = (v: Float64Array, out: Float64Array): void => {
    this.product(this.at, this.hvp, v, this.hv);
    const { n, lambda } = this;
    for (let i = 0; i < n; i++) out[i] = this.hv[i]! + lambda * v[i]!;
  };

  constructor(params: ParamSet, options: NewtonCgOptions) {
    const iterations = options.iterations ?? 50;
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 100000) throw new NncUsageError("options.optimizer.args.iterations", `optimizer newton_cg: iterations must be an integer from 1 to 100000, got ${iterations}`);
    super("newton_cg", params, options.damping ?? 1e-4, 2 / 3);
    this.maxIterations = iterations;
    this.cg = new ConjugateGradient(this.n, iterations);
    this.previous = new Float64Array(this.n);
    this.hv = new Float64Array(this.n);
  }

  protected direction(params: ParamSet, hv: HessianVectorProduct): number {
    const { n, d, g, previous } = this;
    for (let i = 0; i < n; i++) d[i] = DECAY * previous[i]!;
    const lambda = this.lambda;
    this.at = params;
    this.hvp = hv;
    const gNorm = norm(g);
    const r = this.cg.solve(this.apply, g, d, Math.min(0.5, Math.sqrt(gNorm)) * gNorm, this.maxIterations);
    if (r.stop === "negative-curvature") this.grow(Math.max(1.5, (-2 * (r.curvature - lambda)) / lambda));
    previous.set(d);
    let dd = 0;
    for (let i = 0; i < n; i++) dd += d[i]! * d[i]!;
    // dᵀH d = dᵀ(H + λI)d − λ dᵀd, with the λ CG ran with
    return r.dAd - lambda * dd;
  }

  protected override extraState(): Record<string, Record<string, number[]>> {
    return { direction: this.byName(this.previous) };
  }

  protected override restoreExtra(buffers: OptimizerState["buffers"], where: string): void {
    const saved = buffers.direction;
    this.checkByName(saved, "buffer direction", where);
    this.fromByName(saved!, this.previous);
  }
}
