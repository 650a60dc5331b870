/**
 * The update rules of the first-order optimizers (language §5), as the emitted module spells
 * them: per step, scalars computed once from the hyperparameters and the step count t; per
 * element, statements that update θᵢ (and the optimizer's state) from the gradient gᵢ.
 *
 * The runtime's optimizers (runtime/optimizers/) make the same updates with the same arithmetic in
 * the same order: test/module/optimizer-step.test.ts checks that the module's fused step equals
 * gradientBatch followed by the runtime's rule. Each rule's comment is the notes' equation.
 */
import type { OptimizerConfig } from "../semantics/model.js";

export type FirstOrderName = Exclude<OptimizerConfig["name"], "lbfgs" | "newton" | "newton_cg">;

export interface UpdateRule {
  readonly name: FirstOrderName;
  /** the equations, for the emitted comment */
  readonly equations: string;
  /** hyperparameters besides lr, in the order of OPTIMIZERS */
  readonly hyper: readonly string[];
  /** the valid range of each hyperparameter, as a JavaScript condition on `x` and its words */
  readonly ranges: Readonly<Record<string, readonly [string, string]>>;
  /** state arrays per parameter */
  readonly state: readonly string[];
  /** scalars computed once per step: [name, expression of `s` (the state) ] */
  readonly perStep: readonly (readonly [string, string])[];
  /**
   * Statements for element i. Names: p, g (arrays), i, lr, the hyperparameters, the perStep
   * scalars, and the state arrays by their names.
   */
  readonly perElement: readonly string[];
  /**
   * The WebAssembly kernel (codegen/wasm/kernels.ts) that makes the same update with the same
   * arithmetic, taking (θ, g, the state arrays, n, lr, the hyperparameters, the perStep scalars).
   */
  readonly kernel?: string;
}

const UNIT = ["x >= 0 && x < 1", "in [0, 1)"] as const;
const NON_NEGATIVE = ["x >= 0", "≥ 0"] as const;

export const UPDATE_RULES: readonly UpdateRule[] = [
  {
    name: "sgd",
    equations: "θ ← θ − η g",
    hyper: [],
    ranges: {},
    state: [],
    perStep: [],
    perElement: ["p[i] -= lr * g[i];"],
    kernel: "sgd_update",
  },
  {
    name: "momentum",
    equations: "m ← γ m + (1 − γ) g;  θ ← θ − η m",
    hyper: ["gamma"],
    ranges: { gamma: UNIT },
    state: ["m"],
    perStep: [],
    perElement: ["const mi = gamma * m[i] + (1 - gamma) * g[i];", "m[i] = mi;", "p[i] -= lr * mi;"],
  },
  {
    name: "nesterov",
    equations: "v ← μ v + g;  θ ← θ − η (g + μ v)",
    hyper: ["mu"],
    ranges: { mu: UNIT },
    state: ["v"],
    perStep: [],
    perElement: ["const gi = g[i];", "const vi = mu * v[i] + gi;", "v[i] = vi;", "p[i] -= lr * (gi + mu * vi);"],
  },
  {
    name: "adagrad",
    equations: "r ← r + g²;  θ ← θ − η g / (√r + ε)",
    hyper: ["eps"],
    ranges: { eps: NON_NEGATIVE },
    state: ["r"],
    perStep: [],
    perElement: ["const gi = g[i];", "const ri = r[i] + gi * gi;", "r[i] = ri;", "p[i] -= (lr * gi) / (Math.sqrt(ri) + eps);"],
  },
  {
    name: "rmsprop",
    equations: "v ← γ v + (1 − γ) g²;  θ ← θ − η g / √(v + ε)",
    hyper: ["gamma", "eps"],
    ranges: { gamma: UNIT, eps: NON_NEGATIVE },
    state: ["v"],
    perStep: [],
    perElement: ["const gi = g[i];", "const vi = gamma * v[i] + (1 - gamma) * gi * gi;", "v[i] = vi;", "p[i] -= (lr / Math.sqrt(vi + eps)) * gi;"],
  },
  {
    name: "adam",
    equations: "m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  θ ← θ − η m̂ / √(v̂ + ε),  m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)",
    hyper: ["beta1", "beta2", "eps"],
    ranges: { beta1: UNIT, beta2: UNIT, eps: NON_NEGATIVE },
    state: ["m", "v"],
    perStep: [
      ["c1", "1 / (1 - Math.pow(s.beta1, s.t))"],
      ["c2", "1 / (1 - Math.pow(s.beta2, s.t))"],
    ],
    perElement: [
      "const gi = g[i];",
      "const mi = beta1 * m[i] + (1 - beta1) * gi;",
      "const vi = beta2 * v[i] + (1 - beta2) * gi * gi;",
      "m[i] = mi;",
      "v[i] = vi;",
      "p[i] -= (lr * (mi * c1)) / Math.sqrt(vi * c2 + eps);",
    ],
    kernel: "adam_update",
  },
  {
    name: "adadelta",
    equations: "E[g²] ← ρ E[g²] + (1 − ρ) g²;  Δθ = √(E[Δθ²] + ε) / √(E[g²] + ε) · g;  E[Δθ²] ← ρ E[Δθ²] + (1 − ρ) Δθ²;  θ ← θ − η Δθ",
    hyper: ["rho", "eps"],
    ranges: { rho: UNIT, eps: ["x > 0", "> 0"] },
    state: ["g2", "dx2"],
    perStep: [],
    perElement: [
      "const gi = g[i];",
      "const g2i = rho * g2[i] + (1 - rho) * gi * gi;",
      "const dxi = (Math.sqrt(dx2[i] + eps) / Math.sqrt(g2i + eps)) * gi;",
      "g2[i] = g2i;",
      "dx2[i] = rho * dx2[i] + (1 - rho) * dxi * dxi;",
      "p[i] -= lr * dxi;",
    ],
  },
];
