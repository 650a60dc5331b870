/**
 * `nnc export` as a user runs it: the files it writes and where, and the clear errors (exit 1, no
 * stack trace) for what it cannot do. What the files compute is checked in test/export.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hasStackTrace, requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";

let dir = "";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-export-");
});

describe("nnc export --format pytorch", () => {
  it("writes model.py and train.py into the directory, made if missing", () => {
    const r = runCli(["export", "digits.nn", "--format", "pytorch", "-o", "torch/digits"], dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("wrote torch/digits/model.py and torch/digits/train.py\n");
    const model = readFileSync(join(dir, "torch", "digits", "model.py"), "utf8");
    expect(model).toMatch(/^class Model\(torch\.nn\.Module\):$/m);
    expect(model).toMatch(/^ {8}# line 4: layer h = dense\(x, 32, relu\)$/m);
    const train = readFileSync(join(dir, "torch", "digits", "train.py"), "utf8");
    // the train block's data, relative to train.py; its settings as nnc train resolves them
    expect(train).toMatch(/^DATA = os\.path\.normpath\(os\.path\.join\(HERE, "\.\.\/\.\.\/data\/digits-train\.csv"\)\)$/m);
    expect(train).toMatch(/^OPTIMIZER = \{"name": "adam", "lr": 0\.003, "beta1": 0\.9, "beta2": 0\.999, "eps": 1e-8\}$/m);
    expect(train).toMatch(/^EARLY_STOPPING = \{"patience": 10, "min_delta": 0\}$/m);
    // only the chosen optimizer's rule
    expect(train).toMatch(/^class Adam\(torch\.optim\.Optimizer\):$/m);
    expect(train).not.toMatch(/class RmsProp/);
    // the same again gives the same bytes
    const again = runCli(["export", "digits.nn", "--format", "pytorch", "-o", "torch/digits"], dir);
    expect(again.status).toBe(0);
    expect(readFileSync(join(dir, "torch", "digits", "model.py"), "utf8")).toBe(model);
  });

  it("maps the optimizers whose rule torch.optim shares to torch.optim", () => {
    const r = runCli(["export", "xor.nn", "--format", "pytorch", "-o", "xor-torch"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "xor-torch", "train.py"), "utf8")).toMatch(/return torch\.optim\.SGD\(params, lr=lr\)/);
  });

  it("warns that train.py has no second-order optimizer, and train.py says so when run", () => {
    writeFileSync(join(dir, "newton.nn"), 'input x[2]\ntarget t\nparam w[2]\nloss (dot(w, x) - t)^2\ntrain { data "xor.csv"; optimizer newton }\n');
    const r = runCli(["export", "newton.nn", "--format", "pytorch", "-o", "newton"], dir);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("nnc: warning: optimizer newton has no PyTorch counterpart in train.py: choose another optimizer in the train block and export again (model.py is complete as it is)\n");
    expect(readFileSync(join(dir, "newton", "train.py"), "utf8")).toMatch(/^ {4}sys\.exit\(\n {8}"train\.py: error: optimizer newton has no PyTorch counterpart/m);
  });

  const fails = (args: string[], message: RegExp) => {
    const r = runCli(args, dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(hasStackTrace(r.stderr)).toBe(false);
  };

  it("rejects an unknown format", () => fails(["export", "digits.nn", "--format", "tensorflow", "-o", "x"], /--format.*expected pytorch or onnx/));

  it("rejects --weights, which the PyTorch export does not use", () => fails(["export", "digits.nn", "--format", "pytorch", "-o", "w", "--weights", "w.json"], /--weights: the PyTorch export writes code/));

  it("rejects an output that is a file", () => {
    writeFileSync(join(dir, "a-file"), "x");
    fails(["export", "digits.nn", "--format", "pytorch", "-o", "a-file"], /-o a-file: (not a directory|cannot make the directory)/);
  });

  it("names a parameter that cannot keep its name in PyTorch", () => {
    writeFileSync(join(dir, "clash.nn"), "input x[3]\ntarget t[2]\nlayer forward = dense(x, 2, softmax)\nloss cross_entropy(forward, t)\n");
    fails(["export", "clash.nn", "--format", "pytorch", "-o", "clash"], /clash\.nn: the parameter 'forward\.W' cannot keep its name in PyTorch: 'forward' is an attribute of torch\.nn\.Module/);
    expect(existsSync(join(dir, "clash", "model.py"))).toBe(false);
  });

  it("reports the model's errors as nnc check does", () => {
    writeFileSync(join(dir, "bad.nn"), "input x[3]\nloss sum(y)\n");
    fails(["export", "bad.nn", "--format", "pytorch", "-o", "bad"], /bad\.nn:2:/);
  });
});
