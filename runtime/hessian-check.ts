/**
 * The Hessian check behind `nnc check --hessian`: the module's hessianVectorProductBatch against
 * central differences of its gradientBatch, in float64, at random parameters and samples (those of
 * gradCheck for the same seed):
 *
 *   H v ≈ (∇f(θ + h v) − ∇f(θ − h v)) / 2h,   h = 3e-6 · max(1, ‖θ‖∞) / ‖v‖∞
 *
 * for two random directions u and v (entries uniform in [−1, 1]), every element of H u and H v;
 * the error measure per element is gradCheck's, |analytic − numeric| / max(|analytic|, |numeric|, 1e-3).
 * h balances truncation (h² · ∂³f) against rounding (ε · ‖∇f‖ / h), best near ε^⅓: on the
 * examples, 3e-6 gave worst errors ≤ 7e-8 where gradCheck's 1e-5 gave up to 8.6e-7.
 * And the symmetry of the H·v the module computes: |uᵀ(Hv) − vᵀ(Hu)| / max(|uᵀHv|, |vᵀHu|, 1e-3),
 * which central differences cannot vouch for (they are symmetric only up to their own error).
 * The gradient itself is what gradCheck checks; `nnc check --hessian` runs both.
 */
import type { CompiledModule } from "./load-module.js";
import { modulePrecision } from "./precision.js";
import { checkPoint } from "./gradcheck.js";
import type { FloatArray, ParamSet } from "./types.js";

export interface HessianParamCheck {
  readonly name: string;
  readonly size: number;
  /** max over the elements of H u and H v of the relative error */
  readonly worst: number;
  /** the worst element: flat index, its direction ("u" or "v"), analytic and numeric value */
  readonly at: number;
  readonly direction: "u" | "v";
  readonly analytic: number;
  readonly numeric: number;
}

export interface HessianCheckResult {
  readonly params: readonly HessianParamCheck[];
  /** uᵀ(Hv), vᵀ(Hu) and their relative difference */
  readonly uHv: number;
  readonly vHu: number;
  readonly symmetry: number;
  /** the largest error of any element or of the symmetry */
  readonly worst: number;
  readonly loss: number;
}

export interface HessianCheckOptions {
  readonly seed?: number;
  readonly samples?: number;
}

/** The module's hessianVectorProductBatch, or null when it exports none (a module compiled by an older nnc). */
export function batchHessianOf(mod: CompiledModule): CompiledModule["hessianVectorProductBatch"] | null {
  const f: unknown = mod.hessianVectorProductBatch;
  return typeof f === "function" ? mod.hessianVectorProductBatch : null;
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-3);

export function hessianCheck(mod: CompiledModule, options: HessianCheckOptions = {}): HessianCheckResult {
  if (modulePrecision(mod) !== "f64") throw new Error(`hessianCheck: central differences need a float64 module, this one is ${modulePrecision(mod)}`);
  const hv = batchHessianOf(mod);
  if (hv === null) throw new Error("hessianCheck: the module exports no hessianVectorProductBatch");
  const count = options.samples ?? 3;
  // parameters and samples drawn as gradCheck draws them
  const { random, params, inputs, targets } = checkPoint(mod, options.seed ?? 1, count);
  const direction = (): ParamSet => {
    const d = mod.createParams();
    for (const a of Object.values(d)) for (let i = 0; i < a.length; i++) a[i] = 2 * random() - 1;
    return d;
  };
  const u = direction();
  const v = direction();
  const hu = mod.createParams();
  const hvOut = mod.createParams();
  const loss = hv(params, inputs, targets, count, u, hu);
  hv(params, inputs, targets, count, v, hvOut);
  const numericU = mod.createParams();
  const numericV = mod.createParams();
  centralDifferenceHessian(mod, params, inputs, targets, count, u, numericU);
  centralDifferenceHessian(mod, params, inputs, targets, count, v, numericV);

  const results: HessianParamCheck[] = [];
  for (const [name, p] of Object.entries(params)) {
    let worst = 0, at = 0, an = 0, nu = 0;
    let dir: "u" | "v" = "u";
    for (const [label, analytic, numeric] of [["u", hu, numericU], ["v", hvOut, numericV]] as const)
      for (let i = 0; i < p.length; i++) {
        const a = analytic[name]![i]!;
        const n = numeric[name]![i]!;
        const err = relative(a, n);
        if (!(err <= worst)) {
          worst = Number.isNaN(err) ? Infinity : err;
          at = i;
          dir = label;
          an = a;
          nu = n;
        }
      }
    results.push({ name, size: p.length, worst, at, direction: dir, analytic: an, numeric: nu });
  }
  let uHv = 0, vHu = 0;
  for (const name of Object.keys(params))
    for (let i = 0; i < params[name]!.length; i++) {
      uHv += u[name]![i]! * hvOut[name]![i]!;
      vHu += v[name]![i]! * hu[name]![i]!;
    }
  const symmetry = Number.isNaN(relative(uHv, vHu)) ? Infinity : relative(uHv, vHu);
  const worst = results.reduce((m, r) => Math.max(m, r.worst), symmetry);
  return { params: results, uHv, vHu, symmetry, worst, loss };
}

/**
 * out ← (∇f(θ + h d) − ∇f(θ − h d)) / 2h of the batch objective, θ restored afterwards; returns the
 * loss at θ. Allocates (a check, not a training step); tests use it as an independent H·v.
 */
export function centralDifferenceHessian(mod: CompiledModule, params: ParamSet, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, d: ParamSet, out: ParamSet): number {
  let scale = 1, dMax = 0;
  for (const [k, p] of Object.entries(params))
    for (let i = 0; i < p.length; i++) {
      scale = Math.max(scale, Math.abs(p[i]!));
      dMax = Math.max(dMax, Math.abs(d[k]![i]!));
    }
  const loss = mod.lossBatch(params, inputs, targets, count);
  if (dMax === 0) {
    for (const o of Object.values(out)) o.fill(0);
    return loss;
  }
  const h = (3e-6 * scale) / dMax;
  const saved = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.slice()]));
  const up = mod.createParams();
  const down = mod.createParams();
  const move = (by: number) => {
    for (const [k, p] of Object.entries(params)) for (let i = 0; i < p.length; i++) p[i] = saved[k]![i]! + by * d[k]![i]!;
  };
  move(h);
  mod.gradientBatch(params, inputs, targets, count, up);
  move(-h);
  mod.gradientBatch(params, inputs, targets, count, down);
  for (const [k, p] of Object.entries(params)) p.set(saved[k]!);
  for (const [k, o] of Object.entries(out)) for (let i = 0; i < o.length; i++) o[i] = (up[k]![i]! - down[k]![i]!) / (2 * h);
  return loss;
}
