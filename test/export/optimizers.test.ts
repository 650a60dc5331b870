/**
 * train.py updates the parameters by nnc's rules: for every first-order optimizer of the train
 * block, the optimizer train.py makes (torch.optim where the rule is the same, else its own small
 * class) takes the parameters where nnc's runtime optimizer takes them, step after step, from the
 * same gradients. (L-BFGS maps to torch.optim.LBFGS, whose line search is not nnc's: docs/scale-out.md.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportPyTorch } from "../../compiler/export/index.js";
import { check } from "../../compiler/pipeline.js";
import { createOptimizer } from "../../runtime/optimizers/index.js";
import { mulberry32 } from "../../runtime/random.js";
import { TORCH_PYTHON, torchProblem } from "../helpers/torch.js";

const CHECKER = join(import.meta.dirname, "check_optimizers.py");
const OPTIMIZERS = ["sgd(lr = 0.1)", "momentum(lr = 0.1, gamma = 0.8)", "nesterov(lr = 0.1, mu = 0.7)", "adagrad(lr = 0.1, eps = 1e-6)", "rmsprop(lr = 0.01, gamma = 0.85, eps = 1e-4)", "adam(lr = 0.01, beta1 = 0.8, beta2 = 0.9, eps = 1e-4)", "adadelta(lr = 0.5, rho = 0.8, eps = 1e-3)"];
const STEPS = 4;
const LR = 0.05;

describe("train.py's optimizers against nnc's", () => {
  it(`${STEPS} steps of each first-order optimizer`, () => {
    const problem = torchProblem();
    if (problem !== null) throw new Error(problem);
    const root = mkdtempSync(join(tmpdir(), "nnc-torch-opt-"));
    const random = mulberry32(5);
    const cases = OPTIMIZERS.map((opt, k) => {
      const file = join(root, `m${k}.nn`);
      const source = `input x[3]\ntarget t\nparam W[2, 3] ~ normal(0, 1)\nparam b[2]\nloss sum(W @ x + b) - t\ntrain { data "d.csv"; optimizer ${opt} }\n`;
      writeFileSync(file, source);
      const { model } = check(source, { file });
      const dir = join(root, String(k));
      mkdirSync(dir);
      for (const f of exportPyTorch(file, model!, dir, "test")) writeFileSync(f.path, f.text);
      const params = { W: Float64Array.from({ length: 6 }, () => random() - 0.5), b: Float64Array.from({ length: 2 }, () => random() - 0.5) };
      const grads = Array.from({ length: STEPS }, () => ({ W: Float64Array.from({ length: 6 }, () => 2 * random() - 1), b: Float64Array.from({ length: 2 }, () => 2 * random() - 1) }));
      const start = { W: Array.from(params.W), b: Array.from(params.b) };
      const nnc = createOptimizer(model!.train.optimizer!, params);
      for (const g of grads) nnc.step(params, g, LR);
      return { dir, params: start, grads: grads.map((g) => ({ W: Array.from(g.W), b: Array.from(g.b) })), lr: LR, expected: params, name: opt };
    });
    writeFileSync(join(root, "cases.json"), JSON.stringify(cases.map(({ expected: _, name: __, ...c }) => c)));
    const r = spawnSync(TORCH_PYTHON, [CHECKER, join(root, "cases.json")], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Record<string, number[]>[];
    cases.forEach((c, k) => {
      for (const name of ["W", "b"] as const) {
        const got = results[k]![name]!.flat();
        const want = Array.from(c.expected[name]);
        // the steps moved the parameters (so the comparison means something)
        expect(want.some((v, i) => Math.abs(v - c.params[name][i]!) > 1e-3), `${c.name} moved ${name}`).toBe(true);
        got.forEach((v, i) => expect(Math.abs(v - want[i]!), `${c.name}: ${name}[${i}]`).toBeLessThan(1e-12));
      }
    });
  }, 120_000);
});
