/**
 * The optimizers' update rules against numbers worked out by hand from the formulas (the lecture
 * notes' forms: momentum with (1 − γ), RMSProp and Adam with ε inside the root), Adam's bias
 * correction, exact resumption from `state()` / `restore()`, and convergence on an L2-regularized
 * logistic regression whose optimum Newton's method (written here) finds independently. L-BFGS:
 * convergence, the strong Wolfe conditions at every accepted step (checked on the evaluations the
 * objective saw), the first-iteration step scaling, skipped curvature pairs, NaN regions.
 */
import { describe, expect, it } from "vitest";
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import { createOptimizer } from "../../runtime/optimizers/index.js";
import { createLbfgs } from "../../runtime/optimizers/lbfgs.js";
import type { Objective, ParamSet } from "../../runtime/types.js";
import { rng } from "../helpers/random.js";

type FirstOrder = Exclude<OptimizerConfig["name"], "lbfgs">;

/** θ₀ = (1, −2) and a fixed gradient sequence: the optimizers only ever see g */
const THETA0 = [1, -2];
const GRADS = [
  [0.5, -1],
  [0.2, 0.4],
  [-0.3, 0.1],
];

/** θ after each of the three steps with the fixed gradients, lr 0.1 */
function trajectory(name: FirstOrder, args: Record<string, number>, lr = 0.1): number[][] {
  const params = { theta: Float64Array.from(THETA0) };
  const opt = createOptimizer({ name, args: { lr, ...args } }, params);
  return GRADS.map((g) => {
    opt.step(params, { theta: Float64Array.from(g) }, lr);
    return Array.from(params.theta);
  });
}

function expectClose(actual: number[][], expected: number[][], digits = 13): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, k) => row.forEach((v, i) => expect(v, `step ${k + 1}, element ${i}`).toBeCloseTo(expected[k]![i]!, digits)));
}

describe("update rules against hand-computed steps (θ₀ = (1, −2), g = (0.5, −1), (0.2, 0.4), (−0.3, 0.1), η = 0.1)", () => {
  it("sgd: θ ← θ − ηg", () => {
    expectClose(trajectory("sgd", {}), [
      [0.95, -1.9],
      [0.93, -1.94],
      [0.96, -1.95],
    ]);
  });

  it("momentum: m ← γm + (1−γ)g, θ ← θ − ηm (γ = 0.9)", () => {
    // m1 = 0.1·g1 = (0.05, −0.1)
    // m2 = 0.9·m1 + 0.1·g2 = (0.045 + 0.02, −0.09 + 0.04) = (0.065, −0.05)
    // m3 = 0.9·m2 + 0.1·g3 = (0.0585 − 0.03, −0.045 + 0.01) = (0.0285, −0.035)
    expectClose(trajectory("momentum", { gamma: 0.9 }), [
      [1 - 0.005, -2 + 0.01],
      [0.995 - 0.0065, -1.99 + 0.005],
      [0.9885 - 0.00285, -1.985 + 0.0035],
    ]);
  });

  it("nesterov (look-ahead form): v ← μv + g, θ ← θ − η(g + μv) (μ = 0.9)", () => {
    // v1 = g1 = (0.5, −1);                 g1 + 0.9·v1 = (0.95, −1.9)
    // v2 = 0.9·v1 + g2 = (0.65, −0.5);     g2 + 0.9·v2 = (0.785, −0.05)
    // v3 = 0.9·v2 + g3 = (0.285, −0.35);   g3 + 0.9·v3 = (−0.0435, −0.215)
    expectClose(trajectory("nesterov", { mu: 0.9 }), [
      [0.905, -1.81],
      [0.905 - 0.0785, -1.81 + 0.005],
      [0.8265 + 0.00435, -1.805 + 0.0215],
    ]);
  });

  it("adagrad: r ← r + g², θ ← θ − ηg/(√r + ε) (ε = 0.01, large enough to matter)", () => {
    // r1 = (0.25, 1), r2 = (0.29, 1.16), r3 = (0.38, 1.17)
    const e = 0.01;
    const t1 = [1 - (0.1 * 0.5) / (0.5 + e), -2 + (0.1 * 1) / (1 + e)];
    const t2 = [t1[0]! - (0.1 * 0.2) / (Math.sqrt(0.29) + e), t1[1]! - (0.1 * 0.4) / (Math.sqrt(1.16) + e)];
    const t3 = [t2[0]! + (0.1 * 0.3) / (Math.sqrt(0.38) + e), t2[1]! - (0.1 * 0.1) / (Math.sqrt(1.17) + e)];
    expectClose(trajectory("adagrad", { eps: e }), [t1, t2, t3]);
  });

  it("rmsprop as the notes write it: v ← γv + (1−γ)g², θ ← θ − η/√(v + ε)·g (γ = 0.9, ε = 0.01)", () => {
    // v1 = 0.1·(0.25, 1) = (0.025, 0.1)
    // v2 = 0.9·v1 + 0.1·(0.04, 0.16) = (0.0265, 0.106)
    // v3 = 0.9·v2 + 0.1·(0.09, 0.01) = (0.03285, 0.0964)
    const e = 0.01;
    const t1 = [1 - (0.1 / Math.sqrt(0.025 + e)) * 0.5, -2 + (0.1 / Math.sqrt(0.1 + e)) * 1];
    const t2 = [t1[0]! - (0.1 / Math.sqrt(0.0265 + e)) * 0.2, t1[1]! - (0.1 / Math.sqrt(0.106 + e)) * 0.4];
    const t3 = [t2[0]! + (0.1 / Math.sqrt(0.03285 + e)) * 0.3, t2[1]! - (0.1 / Math.sqrt(0.0964 + e)) * 0.1];
    expectClose(trajectory("rmsprop", { gamma: 0.9, eps: e }), [t1, t2, t3]);
    // ε outside the root (√v + ε) would be a different rule: make sure the test can tell
    expect(Math.abs(t1[0]! - (1 - (0.1 * 0.5) / (Math.sqrt(0.025) + e)))).toBeGreaterThan(1e-3);
  });

  it("adam: m̂ = m/(1−β₁ᵏ), v̂ = v/(1−β₂ᵏ), θ ← θ − η m̂/√(v̂ + ε) (β₁ = 0.9, β₂ = 0.999, ε = 0.01)", () => {
    // m1 = (0.05, −0.1)            v1 = 0.001·(0.25, 1) = (0.00025, 0.001)
    // m̂1 = m1/0.1 = (0.5, −1)      v̂1 = v1/0.001 = (0.25, 1)
    // m2 = (0.065, −0.05)          v2 = 0.999·v1 + 0.001·(0.04, 0.16) = (0.00028975, 0.001159)
    // 1 − 0.9² = 0.19              1 − 0.999² = 0.001999
    // m3 = (0.0285, −0.035)        v3 = 0.999·v2 + 0.001·(0.09, 0.01) = (0.00037946025, 0.001167841)
    // 1 − 0.9³ = 0.271             1 − 0.999³ = 0.002997001
    const e = 0.01;
    const t1 = [1 - (0.1 * 0.5) / Math.sqrt(0.25 + e), -2 + (0.1 * 1) / Math.sqrt(1 + e)];
    const t2 = [t1[0]! - (0.1 * (0.065 / 0.19)) / Math.sqrt(0.00028975 / 0.001999 + e), t1[1]! + (0.1 * (0.05 / 0.19)) / Math.sqrt(0.001159 / 0.001999 + e)];
    const t3 = [t2[0]! - (0.1 * (0.0285 / 0.271)) / Math.sqrt(0.00037946025 / 0.002997001 + e), t2[1]! + (0.1 * (0.035 / 0.271)) / Math.sqrt(0.001167841 / 0.002997001 + e)];
    expectClose(trajectory("adam", { beta1: 0.9, beta2: 0.999, eps: e }), [t1, t2, t3], 12);
  });

  it("adadelta (Zeiler 2012): E[g²] ← ρE[g²] + (1−ρ)g², Δ = √(E[Δ²] + ε)/√(E[g²] + ε)·g, E[Δ²] ← ρE[Δ²] + (1−ρ)Δ², θ ← θ − ηΔ (ρ = 0.9, ε = 0.01, η = 0.5)", () => {
    // step 1 by hand: E[g²] = 0.1·(0.25, 1) = (0.025, 0.1), E[Δ²] = 0, so Δ = 0.1·g/√(E[g²] + 0.01)
    const d1 = [(0.1 * 0.5) / Math.sqrt(0.035), (0.1 * -1) / Math.sqrt(0.11)];
    expect(d1[0]).toBeCloseTo(0.2672612419, 9);
    const got = trajectory("adadelta", { rho: 0.9, eps: 0.01 }, 0.5);
    expectClose(got.slice(0, 1), [[1 - 0.5 * d1[0]!, -2 - 0.5 * d1[1]!]], 15);
    // steps 2 and 3: E[Δ²] = 0.1·Δ₁² = (0.0071428…, 0.0090909…) now sets the scale of the step
    expectClose(got, [
      [0.8663693790437879, -1.8492443277111181],
      [0.7978371005917776, -1.9303804608474309],
      [0.8958825161931699, -1.9524955089585971],
    ]);
  });

  it("adadelta takes no learning rate: lr defaults to 1 and needs ε > 0 (E[Δ²] starts at 0)", () => {
    const params = { theta: Float64Array.of(1) };
    const opt = createOptimizer({ name: "adadelta", args: {} }, params);
    opt.step(params, { theta: Float64Array.of(2) }, 1);
    // Δ = √1e-6/√(0.05·4 + 1e-6)·2
    expect(params.theta[0]).toBeCloseTo(1 - (1e-3 * 2) / Math.sqrt(0.2 + 1e-6), 15);
    expect(() => createOptimizer({ name: "adadelta", args: { eps: 0 } }, params)).toThrow(/eps must be > 0, got 0/);
    expect(() => createOptimizer({ name: "adadelta", args: { rho: 1 } }, params)).toThrow(/rho must be in \[0, 1\), got 1/);
  });

  it("uses the learning rate passed to step (the schedule's), not the configured one", () => {
    const params = { theta: Float64Array.from(THETA0) };
    const opt = createOptimizer({ name: "sgd", args: { lr: 123 } }, params);
    opt.step(params, { theta: Float64Array.of(0.5, -1) }, 0.1);
    expect(Array.from(params.theta)).toEqual([0.95, -1.9]);
  });

  it("fills missing arguments with the notes' defaults and rejects out-of-range ones", () => {
    // momentum with only lr: γ = 0.9 by default, so m1 = 0.1·g and θ1 = θ0 − 0.1·0.1·g
    const params = { theta: Float64Array.from(THETA0) };
    createOptimizer({ name: "momentum", args: { lr: 0.1 } }, params).step(params, { theta: Float64Array.of(0.5, -1) }, 0.1);
    expect(params.theta[0]).toBeCloseTo(0.995, 15);
    expect(() => createOptimizer({ name: "momentum", args: { lr: 0.1, gamma: 1.5 } }, params)).toThrow(/gamma must be in \[0, 1\)/);
    expect(() => createOptimizer({ name: "adam", args: { lr: 0.1, eps: -1 } }, params)).toThrow(/eps/);
  });

  it("refuses lbfgs with a clear message (it is not a first-order step rule)", () => {
    expect(() => createOptimizer({ name: "lbfgs", args: { history: 10, lr: 1 } }, { w: new Float64Array(2) })).toThrow(/lbfgs is not a first-order optimizer.*createLbfgs/);
  });

  it("names the parameter when the gradient does not match", () => {
    const params = { w: new Float64Array(2), b: new Float64Array(1) };
    const opt = createOptimizer({ name: "adam", args: { lr: 0.1 } }, params);
    expect(() => opt.step(params, { w: new Float64Array(2) }, 0.1)).toThrow(/'b'/);
    expect(() => opt.step(params, { w: new Float64Array(3), b: new Float64Array(1) }, 0.1)).toThrow(/'w'/);
  });
});

describe("Adam's bias correction", () => {
  for (const scale of [1e-3, 1, 1e3]) {
    it(`moves each parameter by ≈ η on steps 1 and 2 whatever the gradient scale (g = ±${scale})`, () => {
      const lr = 0.01;
      const params = { w: Float64Array.of(0, 0) };
      const opt = createOptimizer({ name: "adam", args: { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 } }, params);
      const grad = { w: Float64Array.of(scale, -scale) };
      let before = Array.from(params.w);
      for (let k = 0; k < 2; k++) {
        opt.step(params, grad, lr);
        const moved = Array.from(params.w, (v, i) => v - before[i]!);
        // without the correction step 1 would move by η(1−β₁)/√(1−β₂) ≈ 3.16 η
        expect(Math.abs(moved[0]! + lr) / lr).toBeLessThan(0.01);
        expect(Math.abs(moved[1]! - lr) / lr).toBeLessThan(0.01);
        before = Array.from(params.w);
      }
    });
  }
});

/** a smooth objective's gradient, for state tests: g = (2w₀ − 1, sin w₁ + 0.3, w₂³, 4b) */
function toyGradient(p: ParamSet, g: ParamSet): void {
  const w = p.w!;
  g.w![0] = 2 * w[0]! - 1;
  g.w![1] = Math.sin(w[1]!) + 0.3;
  g.w![2] = w[2]! ** 3;
  g.b![0] = 4 * p.b![0]!;
}

const ALL: [FirstOrder, Record<string, number>][] = [
  ["sgd", { lr: 0.1 }],
  ["momentum", { lr: 0.1, gamma: 0.9 }],
  ["nesterov", { lr: 0.05, mu: 0.9 }],
  ["adagrad", { lr: 0.1, eps: 1e-8 }],
  ["rmsprop", { lr: 0.01, gamma: 0.9, eps: 1e-8 }],
  ["adam", { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
  ["adadelta", { lr: 1, rho: 0.95, eps: 1e-6 }],
];

describe("state() / restore()", () => {
  for (const [name, args] of ALL) {
    it(`${name}: a run resumed from a JSON round-tripped state is bit-identical to the uninterrupted run`, () => {
      const fresh = () => ({ w: Float64Array.of(0.3, -0.7, 1.1), b: Float64Array.of(0.2) });
      const lrAt = (k: number) => args.lr! / (1 + 0.1 * k);
      const g = { w: new Float64Array(3), b: new Float64Array(1) };

      const straight = fresh();
      const a = createOptimizer({ name, args }, straight);
      for (let k = 0; k < 10; k++) {
        toyGradient(straight, g);
        a.step(straight, g, lrAt(k));
      }

      const first = fresh();
      const b = createOptimizer({ name, args }, first);
      for (let k = 0; k < 6; k++) {
        toyGradient(first, g);
        b.step(first, g, lrAt(k));
      }
      const saved = JSON.parse(JSON.stringify(b.state()));
      expect(saved).toEqual(b.state());
      expect(saved.t).toBe(6);
      const resumed = { w: Float64Array.from(first.w), b: Float64Array.from(first.b) };
      const c = createOptimizer({ name, args }, fresh());
      c.restore(saved);
      for (let k = 6; k < 10; k++) {
        toyGradient(resumed, g);
        c.step(resumed, g, lrAt(k));
      }
      expect(resumed.w).toEqual(straight.w);
      expect(resumed.b).toEqual(straight.b);
      expect(c.state()).toEqual(a.state());
    });
  }

  it("keeps one buffer per parameter for each moment (adam: m and v)", () => {
    const opt = createOptimizer({ name: "adam", args: { lr: 0.1 } }, { w: new Float64Array(3), b: new Float64Array(1) });
    const s = opt.state();
    expect(Object.keys(s.buffers).sort()).toEqual(["m", "v"]);
    expect(s.buffers.m).toEqual({ w: [0, 0, 0], b: [0] });
  });

  it("rejects a state of another optimizer or shape, and is unchanged afterwards", () => {
    const params = { w: Float64Array.of(1, 2) };
    const opt = createOptimizer({ name: "momentum", args: { lr: 0.1 } }, params);
    opt.step(params, { w: Float64Array.of(1, 1) }, 0.1);
    const before = opt.state();
    const adam = createOptimizer({ name: "adam", args: { lr: 0.1 } }, { w: new Float64Array(2) }).state();
    expect(() => opt.restore(adam)).toThrow(/of optimizer 'adam'/);
    expect(() => opt.restore({ name: "momentum", t: 3, buffers: { m: { w: [1, 2, 3] } } })).toThrow(/buffer m of parameter 'w' should have 2 values, has 3/);
    expect(() => opt.restore({ name: "momentum", t: 3, buffers: { m: { v: [1, 2] } } })).toThrow(/parameter 'w'/);
    expect(opt.state()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// A convex problem with a unique optimum: L2-regularized logistic regression on 60 seeded points.

const N = 60;
const D = 3;
const LAMBDA = 0.05;
const data = (() => {
  const random = rng(7);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < N; i++) {
    const xi = [0, 0, 0].map(() => 4 * random() - 2);
    const z = 1.5 * xi[0]! - 2 * xi[1]! + 0.5 * xi[2]! + 0.3;
    x.push(xi);
    y.push(random() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
  }
  return { x, y };
})();

/** f(w, b) = (1/N) Σ [softplus(z) − y z] + (λ/2)(‖w‖² + b²), z = w·x + b */
const logistic: Objective = (p, g) => {
  const w = p.w!;
  const b = p.b![0]!;
  const gw = g.w!;
  const gb = g.b!;
  gw.fill(0);
  gb.fill(0);
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const xi = data.x[i]!;
    let z = b;
    for (let k = 0; k < D; k++) z += w[k]! * xi[k]!;
    loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - data.y[i]! * z;
    const r = 1 / (1 + Math.exp(-z)) - data.y[i]!;
    for (let k = 0; k < D; k++) gw[k] = gw[k]! + (r * xi[k]!) / N;
    gb[0] = gb[0]! + r / N;
  }
  let sq = b * b;
  for (let k = 0; k < D; k++) {
    sq += w[k]! * w[k]!;
    gw[k] = gw[k]! + LAMBDA * w[k]!;
  }
  gb[0] = gb[0]! + LAMBDA * b;
  return loss / N + (LAMBDA / 2) * sq;
};

/** Newton's method on θ = (w, b): H = (1/N) Σ σ(1−σ) x̃x̃ᵀ + λI, solved by Gaussian elimination */
function newtonOptimum(): number[] {
  const theta = [0, 0, 0, 0];
  for (let iter = 0; iter < 50; iter++) {
    const grad = theta.map((t) => LAMBDA * t);
    const H: number[][] = theta.map((_, r) => theta.map((__, c) => (r === c ? LAMBDA : 0)));
    for (let i = 0; i < N; i++) {
      const xt = [...data.x[i]!, 1];
      const z = xt.reduce((s, v, k) => s + v * theta[k]!, 0);
      const s = 1 / (1 + Math.exp(-z));
      xt.forEach((v, r) => {
        grad[r] = grad[r]! + ((s - data.y[i]!) * v) / N;
        xt.forEach((u, c) => (H[r]![c] = H[r]![c]! + (s * (1 - s) * v * u) / N));
      });
    }
    // solve H δ = grad
    const A = H.map((row, r) => [...row, grad[r]!]);
    for (let c = 0; c < 4; c++) {
      for (let r = c + 1; r < 4; r++) {
        const f = A[r]![c]! / A[c]![c]!;
        for (let k = c; k < 5; k++) A[r]![k] = A[r]![k]! - f * A[c]![k]!;
      }
    }
    const delta = [0, 0, 0, 0];
    for (let r = 3; r >= 0; r--) {
      let s = A[r]![4]!;
      for (let k = r + 1; k < 4; k++) s -= A[r]![k]! * delta[k]!;
      delta[r] = s / A[r]![r]!;
    }
    theta.forEach((_, k) => (theta[k] = theta[k]! - delta[k]!));
  }
  return theta;
}

const OPT = newtonOptimum();
const asParams = (t: readonly number[]): ParamSet => ({ w: Float64Array.from(t.slice(0, 3)), b: Float64Array.of(t[3]!) });
const flat = (p: ParamSet): number[] => [...p.w!, ...p.b!];
const zeros = (): ParamSet => ({ w: new Float64Array(3), b: new Float64Array(1) });
const F_OPT = logistic(asParams(OPT), zeros());
const gradNorm = (p: ParamSet): number => {
  const g = zeros();
  logistic(p, g);
  return Math.hypot(...flat(g));
};

describe("convergence on L2-regularized logistic regression (full batch)", () => {
  it("Newton's method in the test finds a stationary point (the reference optimum)", () => {
    expect(gradNorm(asParams(OPT))).toBeLessThan(1e-12);
    expect(Math.hypot(...OPT)).toBeGreaterThan(0.5); // not the trivial point
  });

  const settings: [FirstOrder, Record<string, number>][] = [
    ["sgd", { lr: 1 }],
    ["momentum", { lr: 1, gamma: 0.9 }],
    ["nesterov", { lr: 0.1, mu: 0.9 }],
    ["adagrad", { lr: 0.5, eps: 1e-8 }],
    ["rmsprop", { lr: 0.003, gamma: 0.9, eps: 1e-8 }],
    ["adam", { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
  ];
  for (const [name, args] of settings) {
    it(`${name} (lr ${args.lr}) reaches the optimum within 1000 steps: loss within 1e-5, parameters within 1e-2`, () => {
      const params = zeros();
      const grad = zeros();
      const opt = createOptimizer({ name, args }, params);
      const start = logistic(params, grad);
      for (let k = 0; k < 1000; k++) {
        logistic(params, grad);
        opt.step(params, grad, args.lr!);
      }
      const loss = logistic(params, grad);
      expect(start - F_OPT).toBeGreaterThan(0.1);
      expect(loss - F_OPT).toBeGreaterThanOrEqual(-1e-12);
      expect(loss - F_OPT).toBeLessThan(1e-5);
      flat(params).forEach((v, k) => expect(Math.abs(v - OPT[k]!)).toBeLessThan(1e-2));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// L-BFGS

interface Evaluation {
  x: number[];
  f: number;
  g: number[];
}

/** the objective, recording every point it is evaluated at */
function recording(f: Objective): { f: Objective; log: Evaluation[] } {
  const log: Evaluation[] = [];
  return {
    log,
    f: (p, g) => {
      const value = f(p, g);
      log.push({ x: flat(p), f: value, g: flat(g) });
      return value;
    },
  };
}

const dotv = (u: readonly number[], v: readonly number[]) => u.reduce((s, ui, i) => s + ui * v[i]!, 0);

/**
 * Runs L-BFGS to convergence, checking at every iteration that the accepted point is one the
 * objective was evaluated at, and that it satisfies the strong Wolfe conditions with respect to
 * the point the iteration started from (s = x₁ − x₀ is α·d, so both conditions scale with α).
 */
function runLbfgs(objective: Objective, start: ParamSet, history: number, maxIterations: number) {
  const params = start;
  const opt = createLbfgs(params, { history });
  const { f, log } = recording(objective);
  let wolfeChecked = 0;
  let searched = 0;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const g0set = { w: new Float64Array(params.w!.length), b: new Float64Array(params.b!.length) };
    const f0 = objective(params, g0set);
    const x0 = flat(params);
    const g0 = flat(g0set);
    const logged = log.length;
    const r = opt.iterate(params, f);
    expect(r.evaluations).toBe(log.length - logged);
    if (r.evaluations > 2) searched++;
    const x1 = flat(params);
    const s = x1.map((v, i) => v - x0[i]!);
    if (s.some((v) => v !== 0)) {
      const at = log.slice(logged).find((e) => e.x.every((v, i) => Object.is(v, x1[i])));
      expect(at, "the accepted point was evaluated").toBeDefined();
      expect(r.loss).toBe(at!.f);
      const slope0 = dotv(g0, s);
      expect(slope0).toBeLessThan(0);
      if (Math.hypot(...g0) > 1e-6) {
        expect(at!.f, "sufficient decrease").toBeLessThanOrEqual(f0 + 1e-4 * slope0);
        expect(Math.abs(dotv(at!.g, s)), "strong curvature").toBeLessThanOrEqual(0.9 * Math.abs(slope0));
        wolfeChecked++;
      }
    }
    if (r.converged) break;
  }
  return { params, iterations, wolfeChecked, searched, opt };
}

describe("L-BFGS", () => {
  it("reaches ‖∇f‖ < 1e-6 on the logistic regression within 100 iterations, every step a strong Wolfe step", () => {
    const r = runLbfgs(logistic, zeros(), 10, 100);
    expect(r.iterations).toBeLessThan(100);
    expect(gradNorm(r.params)).toBeLessThan(1e-6);
    expect(r.wolfeChecked).toBeGreaterThanOrEqual(3);
    flat(r.params).forEach((v, k) => expect(v).toBeCloseTo(OPT[k]!, 7));
  });

  /** Rosenbrock: f = (1 − x)² + 100(y − x²)², minimum (1, 1), a curved valley that needs the line search */
  const rosenbrock: Objective = (p, g) => {
    const x = p.w![0]!;
    const y = p.b![0]!;
    g.w![0] = -2 * (1 - x) - 400 * x * (y - x * x);
    g.b![0] = 200 * (y - x * x);
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2;
  };

  it("solves Rosenbrock from (−1.2, 1), the line search bracketing and zooming on the way", () => {
    const r = runLbfgs(rosenbrock, { w: Float64Array.of(-1.2), b: Float64Array.of(1) }, 5, 100);
    expect(r.iterations).toBeLessThan(100);
    expect(r.params.w![0]).toBeCloseTo(1, 6);
    expect(r.params.b![0]).toBeCloseTo(1, 6);
    expect(r.wolfeChecked).toBeGreaterThanOrEqual(10);
    expect(r.searched).toBeGreaterThanOrEqual(1);
  });

  it("scales the first trial step to lr·min(1, 1/‖g‖₁), then tries the full step lr", () => {
    // f = ½ Σ cᵢ xᵢ² from x = (1, 1): g = (c₁, c₂), ‖g‖₁ = 12
    const c = [2, 10];
    const quad: Objective = (p, g) => {
      g.w![0] = c[0]! * p.w![0]!;
      g.b![0] = c[1]! * p.b![0]!;
      return 0.5 * (c[0]! * p.w![0]! ** 2 + c[1]! * p.b![0]! ** 2);
    };
    const { f, log } = recording(quad);
    const params = { w: Float64Array.of(1), b: Float64Array.of(1) };
    createLbfgs(params, { history: 3 }).iterate(params, f);
    expect(log[0]!.x).toEqual([1, 1]);
    expect(log[1]!.x[0]).toBeCloseTo(1 - 2 / 12, 15);
    expect(log[1]!.x[1]).toBeCloseTo(1 - 10 / 12, 15);
  });

  it("does not store a pair with sᵀy ≤ 1e-10 (a linear objective has y = 0)", () => {
    const linear: Objective = (p, g) => {
      g.w![0] = 1;
      g.b![0] = -2;
      return p.w![0]! - 2 * p.b![0]!;
    };
    const params = { w: Float64Array.of(0), b: Float64Array.of(0) };
    const opt = createLbfgs(params, { history: 4, maxLineSearch: 5 });
    const r = opt.iterate(params, linear);
    expect(r.loss).toBeLessThan(0);
    expect(r.evaluations).toBe(6);
    expect(opt.state().buffers.s).toEqual({});
    expect(opt.state().t).toBe(1);
  });

  it("keeps a full history intact when a pair is skipped", () => {
    // two quadratic iterations fill history 2, then a linear objective yields sᵀy = 0
    const quad: Objective = (p, g) => {
      g.w![0] = 2 * p.w![0]!;
      g.b![0] = 8 * p.b![0]!;
      return p.w![0]! ** 2 + 4 * p.b![0]! ** 2;
    };
    const linear: Objective = (p, g) => {
      g.w![0] = 1;
      g.b![0] = 1;
      return p.w![0]! + p.b![0]!;
    };
    const params = { w: Float64Array.of(3), b: Float64Array.of(-2) };
    const opt = createLbfgs(params, { history: 2 });
    opt.iterate(params, quad);
    opt.iterate(params, quad);
    const full = opt.state();
    expect(Object.keys(full.buffers.s!)).toEqual(["0", "1"]);
    params.w[0] = params.w[0]! + 1; // a new point: nothing cached from the quadratic is reused
    opt.iterate(params, linear);
    expect(opt.state().buffers).toEqual(full.buffers);
  });

  it("backs off from a region where the objective is NaN and still converges", () => {
    // f = −log x − log(1 − x) on (0, 1), NaN outside; minimum at ½. From 0.05 the first trial is 1.05.
    const barrier: Objective = (p, g) => {
      const x = p.w![0]!;
      g.w![0] = -1 / x + 1 / (1 - x);
      g.b![0] = 0;
      return -Math.log(x) - Math.log(1 - x);
    };
    const { f, log } = recording(barrier);
    const params = { w: Float64Array.of(0.05), b: Float64Array.of(0) };
    const opt = createLbfgs(params, { history: 5 });
    for (let k = 0; k < 50; k++) {
      const r = opt.iterate(params, f);
      expect(Number.isFinite(r.loss)).toBe(true);
      if (r.converged) break;
    }
    expect(log.some((e) => Number.isNaN(e.f))).toBe(true);
    expect(params.w[0]).toBeCloseTo(0.5, 8);
  });

  it("resumes bit-identically from a JSON round-tripped state", () => {
    const straight = zeros();
    const a = createLbfgs(straight, { history: 3 });
    for (let k = 0; k < 7; k++) a.iterate(straight, logistic);

    const first = zeros();
    const b = createLbfgs(first, { history: 3 });
    for (let k = 0; k < 4; k++) b.iterate(first, logistic);
    const saved = JSON.parse(JSON.stringify(b.state()));
    expect(saved.t).toBe(4);
    expect(Object.keys(saved.buffers.s)).toEqual(["0", "1", "2"]);
    const resumed = { w: Float64Array.from(first.w!), b: Float64Array.from(first.b!) };
    const c = createLbfgs(zeros(), { history: 3 });
    c.restore(saved);
    for (let k = 4; k < 7; k++) c.iterate(resumed, logistic);
    expect(resumed.w).toEqual(straight.w);
    expect(resumed.b).toEqual(straight.b);
    expect(c.state()).toEqual(a.state());
    expect(() => c.restore({ name: "adam", t: 1, buffers: {} })).toThrow(/lbfgs.*'adam'/);
    expect(() => c.restore({ name: "lbfgs", t: 1, buffers: { s: { 0: [1] }, y: { 0: [1] } } })).toThrow(/s\[0\] should be 4 finite numbers/);
  });
});
