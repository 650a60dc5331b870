/**
 * `nnc train` and `nnc predict` as a user runs them, with stdout not a terminal (as in CI):
 * the files they write, the lines they print, no progress-bar control characters, clear errors.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { hasStackTrace, requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";

let dir = "";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-train-");
  cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
});

describe("nnc train", () => {
  it("trains XOR from the example's train block, without terminal control characters", () => {
    const r = runCli(["train", "xor.nn", "--epochs", "1500"], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/\u001b/);
    expect(r.stdout).toMatch(/initial loss \d\.\d+ \(expected ≈ log 2 = 0\.6931/);
    expect(r.stdout).toMatch(/epoch 1500\/1500 +train loss \d\.\d+ +acc 100\.0%/);
    const w = JSON.parse(readFileSync(join(dir, "xor.weights.json"), "utf8"));
    expect(w.format).toBe("nnc-weights/1");
    expect(w.model).toBe("xor");
    expect(w.params["h.W"].shape).toEqual([4, 2]);
    expect(w.params["h.W"].values).toHaveLength(8);
    expect(w.normalization.mean.x).toHaveLength(2);
    expect(w.training.optimizer).toEqual({ name: "sgd", args: { lr: 0.5 } });
    expect(w.metrics.train.accuracy).toBe(1);
    const svg = readFileSync(join(dir, "xor.loss.svg"), "utf8");
    expect(svg).toMatch(/^<svg/);
    expect(svg).toMatch(/<polyline/);
    expect(existsSync(join(dir, "xor.checkpoint.json"))).toBe(true);
  });

  it("says which target it picked, and trains the same on either (digits, 2 epochs)", () => {
    const run = (extra: string[]) => runCli(["train", "digits.nn", "--epochs", "2", "--patience", "5", "--checkpoint", "target.checkpoint.json", ...extra], dir);
    const xor = runCli(["train", "xor.nn", "--epochs", "2", "-o", "xor-target.json", "--checkpoint", "xor-target.checkpoint.json"], dir);
    expect(xor.stdout).toMatch(/^target ts: no dense layer large enough for the WebAssembly kernels/m);
    const picked = run(["-o", "picked.json"]);
    expect(picked.status, picked.stderr).toBe(0);
    expect(picked.stdout).toMatch(/^target wasm: 2368 weights in 2 dense layers run as WebAssembly SIMD kernels, batch 16 \(--target to choose\)$/m);
    const ts = run(["--target", "ts", "-o", "ts.json"]);
    expect(ts.stdout).not.toMatch(/^target /m);
    const last = (out: string) => /final: train loss (\d\.\d+)/.exec(out)![1];
    // the same training to the printed digits: the kernels only sum in another order
    expect(last(picked.stdout)).toBe(last(ts.stdout));
    const bad = runCli(["train", "digits.nn", "--target", "gpu"], dir);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/expected ts or wasm/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
  });

  it("predicts with the weights: CSV to stdout, and metrics when the data has targets", () => {
    const r = runCli(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "data/xor.csv"], dir);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("y");
    expect(lines).toHaveLength(5);
    const ys = lines.slice(1).map(Number);
    expect(ys[0]).toBeLessThan(0.5);
    expect(ys[1]).toBeGreaterThan(0.5);
    expect(r.stderr).toMatch(/4 samples: loss \d\.\d+, accuracy 100\.0%/);
    expect(r.stderr).toMatch(/confusion matrix/);
  });

  it("reports a malformed data file by file, row and column, with exit 1 and no stack trace", () => {
    writeFileSync(join(dir, "bad.csv"), "x1,x2,t\n0,0,0\n0,oops,1\n");
    const r = runCli(["train", "xor.nn", "--data", "bad.csv", "-o", "bad.weights.json"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.csv:3:2/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(existsSync(join(dir, "bad.weights.json"))).toBe(false);
  });

  it("stops on divergence with the step and parameter named, and exit 1", () => {
    const r = runCli(["train", "xor.nn", "--lr", "1e308", "--epochs", "5", "-o", "div.weights.json"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/diverged at epoch \d+, step \d+.*first parameter affected: [ho]\.[Wb]/);
  });

  it("--precision f32 trains XOR to 100% (Float32Array parameters) and predicts with its weights", () => {
    const r = runCli(["train", "xor.nn", "--precision", "f32", "-o", "xor32.weights.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model xor: 17 parameters in float32 \(--precision f32/m);
    expect(r.stdout).toMatch(/epoch 2000\/2000 +train loss \d\.\d+ +acc 100\.0%/);
    const w = JSON.parse(readFileSync(join(dir, "xor32.weights.json"), "utf8"));
    expect(w.training.precision).toBe("f32");
    expect(w.metrics.train.accuracy).toBe(1);
    // the weights are float32 values, stored as JSON numbers
    const values: number[] = w.params["h.W"].values;
    expect(values.every((v) => Math.fround(v) === v)).toBe(true);
    const p = runCli(["predict", "xor.nn", "--precision", "f32", "--weights", "xor32.weights.json", "--data", "data/xor.csv"], dir);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/4 samples: loss \d\.\d+, accuracy 100\.0%/);
  });

  it("--precision f32 trains digits to a test accuracy within 1 % of f64's", () => {
    const accuracy = (precision: string): number => {
      const t = runCli(["train", "digits.nn", "--precision", precision, "-o", `digits-${precision}.weights.json`], dir);
      expect(t.status, t.stderr).toBe(0);
      const p = runCli(["predict", "digits.nn", "--precision", precision, "--weights", `digits-${precision}.weights.json`, "--data", "data/digits-test.csv", "-o", `digits-${precision}.csv`], dir);
      expect(p.status, p.stderr).toBe(0);
      const m = /359 samples: loss \d\.\d+, accuracy (\d+\.\d)%/.exec(p.stdout);
      expect(m, p.stdout).not.toBeNull();
      return Number(m![1]) / 100;
    };
    const f64 = accuracy("f64");
    const f32 = accuracy("f32");
    expect(f64).toBeGreaterThan(0.95);
    expect(Math.abs(f32 - f64), `f32 ${f32} vs f64 ${f64}`).toBeLessThanOrEqual(0.01);
  }, 120_000);

  it("resumes from a checkpoint", () => {
    const first = runCli(["train", "digits.nn", "--epochs", "3", "--patience", "100", "-o", "d.weights.json"], dir);
    expect(first.status).toBe(0);
    const r = runCli(["train", "digits.nn", "--epochs", "5", "--patience", "100", "--resume", "d.checkpoint.json", "-o", "d2.weights.json"], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/resuming from d\.checkpoint\.json after epoch 3/);
    expect(r.stdout).toMatch(/epoch 4\/5/);
    expect(r.stdout).not.toMatch(/epoch 1\/5/);
  });
});
