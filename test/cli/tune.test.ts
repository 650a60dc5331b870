/**
 * `nnc tune` end to end on a small model (iris with weight decay) with a small budget: the JSON's
 * structure, the best trial the best of the trials, the printed `nnc train` command reproducing
 * the best trial's validation loss, the SVG report; and bad flags exit 1 before any work.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { hasStackTrace, requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";
import { checkXml } from "../helpers/xml.js";

let dir = "";
const MODEL = "iris-wd.nn";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-tune-");
  cpSync(join(ROOT, "examples", "data", "iris.csv"), join(dir, "data", "iris.csv"));
  const iris = readFileSync(join(ROOT, "examples", "iris.nn"), "utf8");
  writeFileSync(join(dir, MODEL), iris.replace("loss cross_entropy(y, t)", "const lambda = 1e-3\nloss cross_entropy(y, t) + lambda * 0.5 * sumsq(h.W)"));
});

interface TrialJson {
  id: number;
  phase: string;
  lr: number;
  set: Record<string, number>;
  epochs: number;
  patience: number;
  stopped: string;
  validation: { loss: number; dataLoss: number; accuracy: number };
  command: string;
}

describe("nnc tune", () => {
  it("runs the recipe within its budget, writes the JSON and the SVG, and its command reproduces the best trial", () => {
    const r = runCli(["tune", MODEL, "--budget", "6"], dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    for (const step of ["1. initial loss with lambda = 0: ", "2. overfit 20 samples with lambda = 0: ", "3. learning-rate range test", "4. coarse grid: "]) expect(r.stdout).toContain(step);
    expect(r.stdout).toMatch(/regularization weights: lambda = 0\.001/);

    const json = JSON.parse(readFileSync(join(dir, "iris-wd.tune.json"), "utf8"));
    expect(Object.keys(json.best)).toEqual(expect.arrayContaining(["lr", "set", "validation"]));
    expect(Object.keys(json.best.set)).toEqual(["lambda"]);
    expect(typeof json.best.lr).toBe("number");
    expect(typeof json.best.validation.loss).toBe("number");
    expect(typeof json.best.validation.accuracy).toBe("number");
    const trials = json.trials as TrialJson[];
    expect(trials.length).toBeGreaterThan(0);
    // a line per trial
    for (const t of trials) expect(r.stdout).toMatch(new RegExp(`trial +${t.id} ${t.phase}`));
    // the best is the best of the trials (of the refined ones when there are any: the grid screens):
    // no trial has a higher accuracy, or the same with a lower data loss
    const best = trials.find((t) => t.id === json.best.trial)!;
    expect(best.lr).toBe(json.best.lr);
    expect(best.set).toEqual(json.best.set);
    expect(best.validation).toEqual(json.best.validation);
    const refined = trials.some((t) => t.phase === "refine" && t.stopped !== "diverged");
    expect(best.phase).toBe(refined ? "refine" : "grid");
    for (const t of trials.filter((t) => t.stopped !== "diverged" && (!refined || t.phase === "refine"))) {
      expect(t.validation.accuracy).toBeLessThanOrEqual(best.validation.accuracy);
      if (t.validation.accuracy === best.validation.accuracy) expect(t.validation.dataLoss).toBeGreaterThanOrEqual(best.validation.dataLoss);
    }

    const svg = readFileSync(join(dir, "iris-wd.tune.svg"), "utf8");
    expect(checkXml(svg).root).toBe("svg");
    expect(svg).toContain("learning-rate range test");
    expect(svg).toContain("coarse grid");

    // the last line is the command; run it as printed (the program name aside) and compare
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[lines.length - 2]).toBe("reproduce the best trial with:");
    const command = lines[lines.length - 1]!.trim();
    expect(command).toBe(json.best.command);
    const words = command.split(" ");
    expect(words.slice(0, 3)).toEqual(["nnc", "train", MODEL]);
    expect(words).toContain(`lambda=${json.best.set.lambda}`);
    const t = runCli([...words.slice(1), "-o", "reproduced.weights.json"], dir);
    expect(t.status).toBe(0);
    const weights = JSON.parse(readFileSync(join(dir, "reproduced.weights.json"), "utf8"));
    expect(weights.metrics.validation.loss).toBe(json.best.validation.loss);
    expect(weights.metrics.validation.accuracy).toBe(json.best.validation.accuracy);
  });

  it("refuses bad flags and colliding outputs with exit 1, before any work", () => {
    for (const [args, message] of [
      [["--budget", "0"], /--budget.*greater than 0/],
      [["--data", "iris-wd.tune.json"], /the tuning results 'iris-wd.tune.json' is the same file as the data/],
      [["--data", "missing.csv"], /missing\.csv/],
    ] as const) {
      const r = runCli(["tune", MODEL, ...args], dir);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    const r = runCli(["tune", "nothere.nn"], dir);
    expect(r.status).toBe(1);
    expect(existsSync(join(dir, "nothere.tune.json"))).toBe(false);
  });
});
