/**
 * `nnc train` and the notes' training practice (issue 13): flags that override only what they
 * name, the loss history beside the weights, snapshot ensembles, the initial-loss check with the
 * regularizer apart, the warnings and banners the audit asked for.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { spawn } from "node:child_process";
import { CLI, hasStackTrace, requireBuiltCli, scratchWithExamples, type CliResult } from "../helpers/cli.js";

/** runCli without blocking the test worker (these runs are many, and long on a shared machine) */
function runCli(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1" }, timeout: 120_000 });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", fail);
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

let dir = "";
/** iris (150 samples, 3 classes) with weight decay and a momentum optimizer whose lr the block writes */
const IRIS = `input x[4]
target t[3]
layer h = dense(x, 6, tanh)
layer y = dense(h, 3, softmax)
const decay = 0.01
loss cross_entropy(y, t) + decay * sumsq(h.W)
train { data "data/iris.csv"; optimizer momentum(lr = 0.1); batch 30; epochs 4; seed 2 }
`;

beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-practice-");
  cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
  writeFileSync(join(dir, "iris-m.nn"), IRIS);
});

const weights = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8"));

describe("flags over the train block", () => {
  it("--optimizer sgd over momentum(lr = 0.1) keeps lr = 0.1, and says so", async () => {
    const r = await runCli(["train", "iris-m.nn", "--optimizer", "sgd", "-o", "o1.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(weights("o1.json").training.optimizer).toEqual({ name: "sgd", args: { lr: 0.1 } });
    expect(r.stdout).toContain("note: --optimizer sgd keeps lr = 0.1 of the train block's momentum(lr = 0.1, gamma = 0.9)");
  });

  it("--optimizer \"adam(lr=0.01)\" takes its arguments, the other ones adam's defaults", async () => {
    const r = await runCli(["train", "iris-m.nn", "--optimizer", "adam(lr=0.01, beta2 = 0.99)", "-o", "o2.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(weights("o2.json").training.optimizer).toEqual({ name: "adam", args: { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8 } });
    expect(r.stdout).not.toMatch(/note: --optimizer/);
  });

  it("the same optimizer keeps every argument of the block; --lr replaces lr alone", async () => {
    const r = await runCli(["train", "iris-m.nn", "--optimizer", "momentum(gamma = 0.5)", "--lr", "0.2", "-o", "o3.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(weights("o3.json").training.optimizer).toEqual({ name: "momentum", args: { lr: 0.2, gamma: 0.5 } });
  });

  it("an lr does not carry to adadelta or lbfgs, whose lr means something else (default 1)", async () => {
    const r = await runCli(["train", "iris-m.nn", "--optimizer", "adadelta", "-o", "o4.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(weights("o4.json").training.optimizer).toEqual({ name: "adadelta", args: { lr: 1, rho: 0.95, eps: 1e-6 } });
  });

  it("--schedule \"cosine_restarts(period=2)\" and a bad value, told what is wrong (exit 1)", async () => {
    const r = await runCli(["train", "iris-m.nn", "--schedule", "cosine_restarts(period=2)", "-o", "o5.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(weights("o5.json").training.schedule).toEqual({ name: "cosine_restarts", args: { period: 2, mult: 1 } });
    expect(r.stdout).toMatch(/schedule cosine_restarts\(period = 2, mult = 1\)/);
    // the messages of every bad value: test/runtime/overrides.test.ts
    const bad = await runCli(["train", "iris-m.nn", "--schedule", "cyclic(0.01, 0.1)", "-o", "bad.json"], dir);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--schedule cyclic\(0\.01, 0\.1\): cyclic needs 'period' \(no default\)/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
    expect(existsSync(join(dir, "bad.json"))).toBe(false);
  });
});

describe("what nnc train writes and says", () => {
  it("the loss history: one line per step ({epoch, step, loss, lr}) and one per epoch", async () => {
    const r = await runCli(["train", "iris-m.nn", "--schedule", "cyclic(min_lr = 0.01, max_lr = 0.2, period = 2)", "-o", "h.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("loss history → h.history.jsonl");
    const lines = readFileSync(join(dir, "h.history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const steps = lines.filter((l) => "step" in l);
    const epochs = lines.filter((l) => "train" in l);
    // 150 samples, batch 30: 5 steps an epoch
    expect(steps).toHaveLength(20);
    expect(epochs).toHaveLength(4);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(steps.map((s) => s.epoch)).toEqual(Array.from({ length: 20 }, (_, i) => Math.floor(i / 5) + 1));
    expect(Object.keys(steps[0]).sort()).toEqual(["epoch", "loss", "lr", "step"]);
    // the rate of each step: triangular over 2 epochs = 10 steps, from 0.01 up to 0.2 at step 6
    expect(steps[0].lr).toBeCloseTo(0.01, 12);
    expect(steps[5].lr).toBeCloseTo(0.2, 12);
    expect(steps[10].lr).toBeCloseTo(0.01, 12);
    expect(steps[2].lr).toBeCloseTo(0.01 + 0.19 * 0.4, 12);
    for (const s of steps) expect(Number.isFinite(s.loss)).toBe(true);
    expect(Object.keys(epochs[0]).sort()).toEqual(["best", "epoch", "lr", "seconds", "train", "validation"]);
    expect(epochs[3].train.loss).toBe(weights("h.json").metrics.train.loss);
    expect(epochs[0].validation).toBeNull();
  });

  it("a resumed run's history is the uninterrupted run's (the file is brought up to date with every checkpoint)", async () => {
    const cyclic = ["--schedule", "cyclic(min_lr = 0.01, max_lr = 0.2, period = 2)", "--checkpoint-seconds", "0"];
    expect((await runCli(["train", "iris-m.nn", ...cyclic, "-o", "straight.json"], dir)).status).toBe(0);
    expect((await runCli(["train", "iris-m.nn", ...cyclic, "--epochs", "2", "-o", "part.json"], dir)).status).toBe(0);
    const resumed = await runCli(["train", "iris-m.nn", ...cyclic, "-o", "part.json", "--resume", "part.checkpoint.json"], dir);
    expect(resumed.status, resumed.stderr).toBe(0);
    const lines = (file: string) => readFileSync(join(dir, file), "utf8").trim().split("\n").map((l) => ({ ...JSON.parse(l), seconds: 0 }));
    expect(lines("part.history.jsonl")).toEqual(lines("straight.history.jsonl"));
    expect(lines("part.history.jsonl")).toHaveLength(24);
  });

  it("snapshots 2 under cyclic(period = 2) for 4 epochs: the ends of cycles 1 and 2, the last one the final weights", async () => {
    const r = await runCli(["train", "iris-m.nn", "--schedule", "cyclic(min_lr = 0.01, max_lr = 0.2, period = 2)", "--snapshots", "2", "-o", "s.json", "--checkpoint-seconds", "0"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("snapshots → s.snap1.json … s.snap2.json");
    const [one, two, final] = [weights("s.snap1.json"), weights("s.snap2.json"), weights("s.json")];
    expect(one.metrics.snapshot).toEqual({ index: 1, cycle: 1, epoch: 2, step: 10 });
    expect(two.metrics.snapshot).toEqual({ index: 2, cycle: 2, epoch: 4, step: 20 });
    expect(two.params).toEqual(final.params);
    expect(one.params).not.toEqual(two.params);
    expect(one.normalization).toEqual(final.normalization);
    const predicted = await runCli(["predict", "iris-m.nn", "--weights", "s.snap1.json", "--data", "data/iris.csv"], dir);
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(predicted.stderr).toMatch(/150 samples: loss \d\.\d+, accuracy/);
  });

  it("refuses snapshots it cannot take before training (exit 1)", async () => {
    const cases: [string[], RegExp][] = [
      [["--snapshots", "2"], /snapshots 2 needs a schedule with cycles .*the schedule is constant/],
      [["--snapshots", "1", "--schedule", "cosine_restarts(period = 2)", "-o", "-"], /snapshots are written beside the weights/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(["train", "iris-m.nn", ...flags], dir);
      expect(r.status, flags.join(" ")).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it("the initial loss: the data term against log C, the regularizer apart, adding up to the loss", async () => {
    const r = await runCli(["train", "iris-m.nn", "--epochs", "1", "-o", "i.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    const m = /initial loss (\d\.\d+): data term (\d\.\d+) \(expected ≈ log 3 = 1\.0986 for 3 classes with near-uniform initial outputs\) \+ regularization (\d\.\d+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [total, data, reg] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(reg).toBeGreaterThan(0);
    expect(Math.abs(data + reg - total)).toBeLessThanOrEqual(1.5e-4);
  });

  it("warns that early stopping without validation data cannot stop", async () => {
    const r = await runCli(["train", "iris-m.nn", "--patience", "2", "-o", "e.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: early stopping \(patience 2\) watches the validation loss, and there is no validation data: all 4 epochs run/);
    const split = await runCli(["train", "iris-m.nn", "--patience", "2", "--split", "0.2", "-o", "e2.json"], dir);
    expect(split.stderr).not.toMatch(/warning/);
  });

  it("says full batch for the full-batch optimizers, whatever the block's batch", async () => {
    for (const opt of ["lbfgs", "newton_cg(iterations = 5)"]) {
      const r = await runCli(["train", "iris-m.nn", "--optimizer", opt, "--epochs", "2", "-o", "fb.json"], dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ · full batch · 2 epochs/);
      expect(r.stdout).not.toMatch(/batch 30/);
    }
  });
});
