/**
 * The second-order optimizers (language §10): the dense Cholesky solve and conjugate gradient on
 * small systems with known solutions; newton on an L2-regularized logistic regression (convex, one
 * optimum, found independently by a long L-BFGS run) in at most 10 iterations; newton_cg to
 * ‖∇f‖ ≤ 1e-6 on the digits 64-32-10 network; the parameter limit of newton; exact resumption;
 * the Hessian check against modules whose H·v is wrong; and both through the command line.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { applyNormalization, computeNormalization, loadDataset, subset } from "../../runtime/data/index.js";
import { hessianVectorProductOf } from "../../runtime/full-batch.js";
import { hessianCheck } from "../../runtime/hessian-check.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { ConjugateGradient } from "../../runtime/optimizers/conjugate-gradient.js";
import { choleskyDamped, choleskySolve } from "../../runtime/optimizers/dense-solve.js";
import { createNewtonCg } from "../../runtime/optimizers/newton-cg.js";
import { NEWTON_MAX_PARAMS } from "../../runtime/optimizers/newton.js";
import { train, type Checkpoint } from "../../runtime/train.js";
import type { Dataset, Objective, ParamSet } from "../../runtime/types.js";
import { toWeightsFile } from "../../runtime/weights.js";
import { hasStackTrace, requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";
import { ROOT } from "../helpers/corpus.js";
import { withFiniteDifferenceHessian } from "../helpers/hessian.js";

/** H in the upper triangle and hDiag, as dense-solve.ts keeps it, from a full symmetric matrix */
function packed(m: number[][]): { a: Float64Array; hDiag: Float64Array; n: number } {
  const n = m.length;
  const a = new Float64Array(n * n);
  const hDiag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    hDiag[i] = m[i]![i]!;
    for (let j = i + 1; j < n; j++) a[i * n + j] = m[i]![j]!;
  }
  return { a, hDiag, n };
}

const mul = (m: number[][], x: ArrayLike<number>) => m.map((row) => row.reduce((s, v, j) => s + v * x[j]!, 0));

describe("dense Cholesky of H + λI", () => {
  // SPD, with solution x = (1, −2, 3) of A x = b
  const A = [
    [4, 12, -16],
    [12, 37, -43],
    [-16, -43, 98],
  ];
  const x = [1, -2, 3];

  it("factors the classic example exactly (L = [[2,0,0],[6,1,0],[−8,5,3]]) and solves A x = b", () => {
    const { a, hDiag, n } = packed(A);
    const lDiag = new Float64Array(n);
    expect(choleskyDamped(a, hDiag, lDiag, n, 0)).toBe(true);
    expect(Array.from(lDiag)).toEqual([2, 1, 3]);
    expect([a[1 * n + 0], a[2 * n + 0], a[2 * n + 1]]).toEqual([6, -8, 5]);
    const sol = new Float64Array(mul(A, x));
    choleskySolve(a, lDiag, n, sol, sol);
    for (let i = 0; i < n; i++) expect(sol[i]).toBeCloseTo(x[i]!, 12);
  });

  it("adds λ to the diagonal: (A + λI) x = b for λ = 0.5", () => {
    const { a, hDiag, n } = packed(A);
    const lDiag = new Float64Array(n);
    const b = Float64Array.from(mul(A, x).map((v, i) => v + 0.5 * x[i]!));
    expect(choleskyDamped(a, hDiag, lDiag, n, 0.5)).toBe(true);
    choleskySolve(a, lDiag, n, b, b);
    for (let i = 0; i < n; i++) expect(b[i]).toBeCloseTo(x[i]!, 11);
  });

  it("reports an indefinite matrix, leaves H intact, and succeeds once λ exceeds −λ_min", () => {
    // eigenvalues 3 and −1
    const { a, hDiag, n } = packed([
      [1, 2],
      [2, 1],
    ]);
    const lDiag = new Float64Array(n);
    expect(choleskyDamped(a, hDiag, lDiag, n, 0)).toBe(false);
    expect(choleskyDamped(a, hDiag, lDiag, n, 0.999)).toBe(false);
    expect(a[1]).toBe(2);
    expect(Array.from(hDiag)).toEqual([1, 1]);
    expect(choleskyDamped(a, hDiag, lDiag, n, 1.001)).toBe(true);
  });
});

describe("conjugate gradient", () => {
  const A = [
    [4, 1, 0, 0],
    [1, 3, 1, 0],
    [0, 1, 2, 0.5],
    [0, 0, 0.5, 1],
  ];
  const apply = (m: number[][]) => (v: Float64Array, out: Float64Array) => out.set(mul(m, v));

  it("solves an SPD system A d = −g in at most n products", () => {
    const g = Float64Array.of(1, -2, 0.5, 3);
    const d = new Float64Array(4);
    const r = new ConjugateGradient(4, 10).solve(apply(A), g, d, 1e-12, 10);
    expect(r.stop).toBe("residual");
    expect(r.products).toBeLessThanOrEqual(4);
    const Ad = mul(A, d);
    for (let i = 0; i < 4; i++) expect(Ad[i]).toBeCloseTo(-g[i]!, 10);
    expect(r.dAd).toBeCloseTo(Ad.reduce((s, v, i) => s + v * d[i]!, 0), 10);
  });

  it("stops at the product limit with a partial solution that decreases the model", () => {
    const g = Float64Array.of(1, -2, 0.5, 3);
    const d = new Float64Array(4);
    const r = new ConjugateGradient(4, 2).solve(apply(A), g, d, 0, 2);
    expect(r.stop).toBe("limit");
    expect(r.products).toBe(2);
    const phi = d.reduce((s, v, i) => s + g[i]! * v, 0) + 0.5 * r.dAd;
    expect(phi).toBeLessThan(0);
  });

  it("stops on negative curvature and reports the Rayleigh quotient found", () => {
    const indefinite = [
      [1, 0],
      [0, -2],
    ];
    const g = Float64Array.of(0, 1); // the first search direction is −g, along the negative eigenvector
    const d = new Float64Array(2);
    const r = new ConjugateGradient(2, 10).solve(apply(indefinite), g, d, 1e-12, 10);
    expect(r.stop).toBe("negative-curvature");
    expect(r.curvature).toBeCloseTo(-2, 12);
    expect(Array.from(d)).toEqual([0, 0]);
  });

  it("uses a warm start that decreases the model, and discards one that does not", () => {
    const g = Float64Array.of(1, -2, 0.5, 3);
    const exact = new Float64Array(4);
    new ConjugateGradient(4, 10).solve(apply(A), g, exact, 1e-13, 10);
    // to a residual of 0.1‖g‖: 0.95 d* has 0.05‖g‖ and needs no CG step past its own product
    const tolerance = 0.1 * Math.hypot(...g);
    const warm = exact.map((v) => 0.95 * v);
    const r = new ConjugateGradient(4, 10).solve(apply(A), g, warm, tolerance, 10);
    expect([r.stop, r.products]).toEqual(["residual", 1]);
    expect(new ConjugateGradient(4, 10).solve(apply(A), g, new Float64Array(4), tolerance, 10).products).toBeGreaterThan(1);
    const wrong = exact.map((v) => -v); // φ(−d*) = −3 φ(d*) > 0: discarded, CG starts from 0
    const r2 = new ConjugateGradient(4, 10).solve(apply(A), g, wrong, 1e-12, 10);
    expect(r2.stop).toBe("residual");
    for (let i = 0; i < 4; i++) expect(wrong[i]).toBeCloseTo(exact[i]!, 10);
  });
});

async function example(name: string, edit: (source: string) => string = (s) => s): Promise<CompiledModule> {
  const file = join(ROOT, "examples", name);
  const r = await compile(edit(readFileSync(file, "utf8")), { file });
  return loadModule(r.js!);
}

function data(mod: CompiledModule, csv: string): Dataset {
  return loadDataset(join(ROOT, "examples/data", csv), { inputs: mod.meta.inputs, targets: mod.meta.targets });
}

function gradientNorm(mod: CompiledModule, params: ParamSet, d: Dataset): number {
  const g = mod.createParams();
  mod.gradientBatch(params, d.inputs, d.targets, d.count, g);
  let s = 0;
  for (const v of Object.values(g)) for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

const maxDiff = (a: ParamSet, b: ParamSet) => Math.max(...Object.keys(a).flatMap((k) => Array.from(a[k]!, (v, i) => Math.abs(v - b[k]![i]!))));

describe("newton", () => {
  for (const how of ["the module's H·v", "central differences of the gradient"])
  it(`reaches the optimum of an L2-regularized logistic regression (breast cancer, 31 parameters) in at most 10 iterations, with ${how}`, async () => {
    const compiled = await example("logistic-regression.nn");
    const mod = how.startsWith("central") ? withFiniteDifferenceHessian(compiled) : compiled;
    const d = data(mod, "breast_cancer.csv");
    const normalized = applyNormalization(d, computeNormalization(d));
    // the reference: L-BFGS run to convergence (its own stopping rule, ‖g‖∞ ≤ 1e-10)
    const reference = train(mod, d, { epochs: 400, batch: d.count, optimizer: { name: "lbfgs", args: { history: 10, lr: 1 } }, seed: 1 });
    expect(gradientNorm(mod, reference.params, normalized)).toBeLessThan(1e-8);
    const optimum = reference.history[reference.history.length - 1]!.train.loss;

    const r = train(mod, d, { epochs: 10, batch: d.count, optimizer: { name: "newton", args: { damping: 1e-4 } }, seed: 1 });
    expect(r.stopped).toBe("completed");
    expect(r.history.length).toBe(10);
    const first = r.history.findIndex((h) => Math.abs(h.train.loss - optimum) <= 1e-12 * optimum);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(gradientNorm(mod, r.params, normalized)).toBeLessThan(1e-8);
    // strongly convex (curvature ≥ λ = 1e-3 along w): ‖θ − θ*‖ ≤ ‖g‖ / 1e-3 for both runs
    expect(maxDiff(r.params, reference.params)).toBeLessThan(1e-5);
    // and far from the start: the optimum is not the initial point
    expect(r.initial.loss - optimum).toBeGreaterThan(0.1);
  });

  it(`refuses a model of more than ${NEWTON_MAX_PARAMS} parameters, naming its size and newton_cg`, async () => {
    const mod = await example("digits.nn");
    const d = subset(data(mod, "digits-train.csv"), [0, 1, 2, 3]);
    expect(() => train(mod, d, { epochs: 1, batch: d.count, optimizer: { name: "newton", args: { damping: 1e-4 } }, seed: 1 })).toThrow(
      /limited to 2000 parameters.*this model has 2410.*newton_cg/,
    );
  });
});

describe("newton_cg", () => {
  it("reaches ‖∇f‖ ≤ 1e-6 on the digits 64-32-10 network (tanh hidden layer, 200 samples)", async () => {
    // ReLU's kinks make the objective non-smooth where it stalls (docs/training.md): tanh instead
    const mod = await example("digits.nn", (s) => s.replace("dense(x, 32, relu)", "dense(x, 32, tanh)"));
    const all = data(mod, "digits-train.csv");
    const d = subset(all, Array.from({ length: 200 }, (_, i) => i));
    const normalized = applyNormalization(d, computeNormalization(d));
    const params = mod.createParams();
    mod.initParams(params, 1);
    const f: Objective = (p, g) => mod.gradientBatch(p, normalized.inputs, normalized.targets, normalized.count, g);
    const hv = hessianVectorProductOf(mod, normalized)!;
    const opt = createNewtonCg(params, { damping: 1e-4, iterations: 50 });
    const start = gradientNorm(mod, params, normalized);
    let iterations = 0;
    let last = opt.iterate(params, f, hv);
    for (iterations = 1; last.gradNorm > 1e-6 && iterations < 120; iterations++) last = opt.iterate(params, f, hv);
    expect(last.gradNorm).toBeLessThanOrEqual(1e-6);
    expect(gradientNorm(mod, params, normalized)).toBeCloseTo(last.gradNorm, 12);
    expect(start).toBeGreaterThan(0.1);
  }, 120_000);

  it("a run resumed from a checkpoint ends with the same weights as the uninterrupted run", async () => {
    const mod = await example("xor.nn");
    const d = data(mod, "xor.csv");
    const options = { epochs: 6, batch: d.count, optimizer: { name: "newton_cg" as const, args: { damping: 1e-4, iterations: 5 } }, seed: 3 };
    const whole = train(mod, d, options);
    let after3: Checkpoint | null = null;
    train(mod, d, { ...options, onCheckpoint: (c) => { if (c.resume.epoch === 3) after3 = structuredClone(c); } });
    const cp = after3 as unknown as Checkpoint;
    expect(cp.resume.optimizer?.name).toBe("newton_cg");
    const file = JSON.parse(JSON.stringify(toWeightsFile(mod, cp.params, { normalization: cp.normalization, training: {}, metrics: {}, resume: cp.resume })));
    const resumed = train(mod, d, { ...options, resume: file });
    for (const k of Object.keys(whole.params)) expect(Array.from(resumed.params[k]!)).toEqual(Array.from(whole.params[k]!));
    expect(whole.history[5]!.train.loss).toBeLessThan(whole.history[0]!.train.loss);
  });
});

describe("hessianCheck", () => {
  it("passes the module's H·v and catches one off by 1e-4 or made asymmetric", async () => {
    const mod = await example("xor.nn");
    expect(hessianCheck(mod).worst).toBeLessThan(1e-6);
    const scaled: CompiledModule = {
      ...mod,
      hessianVectorProductBatch: (p, i, t, c, v, out) => {
        const loss = mod.hessianVectorProductBatch(p, i, t, c, v, out);
        for (const o of Object.values(out)) for (let k = 0; k < o.length; k++) o[k] = o[k]! * (1 + 1e-4);
        return loss;
      },
    };
    const r = hessianCheck(scaled);
    expect(r.worst).toBeGreaterThan(5e-5);
    expect(r.symmetry).toBeLessThan(1e-12); // scaling keeps H symmetric
    // H + E with E = e₀e₁ᵀ (not symmetric): uᵀ(H+E)v − vᵀ(H+E)u = u₀v₁ − v₀u₁
    const asymmetric: CompiledModule = {
      ...mod,
      hessianVectorProductBatch: (p, i, t, c, v, out) => {
        const loss = mod.hessianVectorProductBatch(p, i, t, c, v, out);
        out["h.W"]![0] = out["h.W"]![0]! + 0.1 * v["h.W"]![1]!;
        return loss;
      },
    };
    expect(hessianCheck(asymmetric).symmetry).toBeGreaterThan(1e-3);
  });
});

describe("the command line", () => {
  let dir = "";
  beforeAll(() => {
    requireBuiltCli();
    dir = scratchWithExamples("nnc-second-order-");
    cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
  });

  it("nnc check --hessian prints the gradient check, then H·v's error per parameter and its symmetry", () => {
    const r = runCli(["check", "xor.nn", "--hessian"], dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^gradient check of xor/);
    expect(r.stdout).toMatch(/Hessian check of xor: H·u and H·v against central differences of the gradient/);
    for (const name of ["h.W", "h.b", "o.W", "o.b"]) expect(r.stdout).toMatch(new RegExp(`\\n${name.replace(".", "\\.")} +\\d+  \\d\\.\\d\\de-\\d+\\n`));
    expect(r.stdout).toMatch(/symmetry: uᵀ\(Hv\) = \S+, vᵀ\(Hu\) = \S+, relative difference/);
  });

  it("nnc check --hessian fails (exit 1) above a tolerance it cannot meet, and refuses --precision f32", () => {
    const r = runCli(["check", "xor.nn", "--hessian", "--tolerance", "1e-14"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAILED: worst \S+ > tolerance 1e-14\n$/);
    const f32 = runCli(["check", "xor.nn", "--hessian", "--precision", "f32"], dir);
    expect(f32.status).toBe(1);
    expect(f32.stderr).toMatch(/--hessian compares with central differences, which need float64/);
    expect(hasStackTrace(f32.stderr)).toBe(false);
  });

  it("nnc train --optimizer newton refuses digits (2410 parameters) before training, pointing to newton_cg", () => {
    const r = runCli(["train", "digits.nn", "--optimizer", "newton", "--epochs", "1"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/digits\.nn: optimizer newton assembles the full Hessian, limited to 2000 parameters .*this model has 2410 .*Use newton_cg/);
    expect(r.stdout).not.toMatch(/initial loss|epoch/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("nnc train runs newton from the train block and newton_cg from --optimizer, one iteration per epoch", () => {
    const a = runCli(["train", "logistic-regression.nn", "-o", "lr.weights.json"], dir);
    expect(a.stderr).toBe("");
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/optimizer newton\(damping = 0\.0001\) · schedule constant · full batch · 20 epochs/);
    expect(a.stdout).toMatch(/epoch 20\/20 +train loss 0\.0598 +acc +98\.\d% +\d+\.\ds\n/); // no learning rate to show
    const b = runCli(["train", "xor.nn", "--optimizer", "newton_cg", "--epochs", "30", "-o", "xor.weights.json"], dir);
    expect(b.status).toBe(0);
    expect(b.stdout).toMatch(/optimizer newton_cg\(damping = 0\.0001, iterations = 50\)/);
    expect(b.stdout).toMatch(/final: train loss \S+ +acc 100\.0%/);
  });

  it("nnc train refuses to resume newton from another optimizer's checkpoint (exit 1, naming both)", () => {
    expect(runCli(["train", "xor.nn", "--epochs", "2", "--checkpoint-seconds", "0", "-o", "sgd.weights.json"], dir).status).toBe(0);
    const r = runCli(["train", "xor.nn", "--optimizer", "newton", "--resume", "sgd.checkpoint.json", "-o", "n.weights.json"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the checkpoint was written by optimizer "sgd", the run uses newton/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("nnc train reports an optimizer argument out of range as the user's error (exit 1) before training", () => {
    writeFileSync(join(dir, "bad-damping.nn"), readFileSync(join(dir, "xor.nn"), "utf8").replace("optimizer sgd(lr = 0.5)", "optimizer newton_cg(damping = -1)"));
    const r = runCli(["train", "bad-damping.nn", "-o", "bad.weights.json"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad-damping\.nn: train block: optimizer newton_cg: damping must be positive and at most 1000000000000, got -1/);
    expect(r.stdout).not.toMatch(/initial loss/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("nnc train refuses --lr for newton_cg, which has no learning rate", () => {
    const r = runCli(["train", "xor.nn", "--optimizer", "newton_cg", "--lr", "0.1"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--lr does not apply to optimizer newton_cg, which has no learning rate/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
