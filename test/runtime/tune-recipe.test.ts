/**
 * `nnc tune`'s recipe (runtime/tune/): the range test's reading of a known curve, the grid's
 * values, the ranking, and a whole run on a small model with a clock the test controls (no timed
 * assertions): every grid cell runs when time never passes, the best trial is the best of all, and
 * a trial — also one the budget cut short — is reproduced by a plain train() run of its settings.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { applyNormalization, loadDataset, splitDataset } from "../../runtime/data/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { evaluate } from "../../runtime/metrics.js";
import { train } from "../../runtime/train.js";
import type { Dataset } from "../../runtime/types.js";
import { analyse } from "../../runtime/tune/lr-range.js";
import { compareTrials, gridEpochsFor, gridRates, gridWeights, roundNice } from "../../runtime/tune/grid.js";
import { tune, type Trial, type TuneSetup } from "../../runtime/tune/recipe.js";

describe("the learning-rate range test's reading", () => {
  const lrs = Array.from({ length: 150 }, (_, i) => 1e-6 * 10 ** ((7 * i) / 149));
  it("suggests the rate where a known curve falls fastest, before its minimum", () => {
    // falls as a logistic in log10(lr) centred at 1e-3, then blows up beyond 1e-1
    const loss = (lr: number) => 2 - 1.5 / (1 + Math.exp(-3 * (Math.log10(lr) + 3))) + (lr > 0.1 ? 50 * (lr - 0.1) : 0);
    const r = analyse(lrs.map((lr) => ({ lr, loss: loss(lr) })));
    expect(r.suggested).not.toBeNull();
    expect(Math.abs(Math.log10(r.suggested!) + 3)).toBeLessThan(0.1);
    expect(r.minimum!).toBeGreaterThan(r.suggested!);
    expect(Math.abs(Math.log10(r.minimum!) + 1)).toBeLessThan(0.3);
  });
  it("suggests nothing when the loss never falls", () => {
    expect(analyse(lrs.map((lr, i) => ({ lr, loss: 1 + 0.001 * (i % 3) }))).suggested).toBeNull();
  });
});

describe("the grid's values", () => {
  it("rounds to 1, 2, 3, 5 × 10^k", () => {
    expect([0.0068, 0.0042, 0.00016, 0.27, 1, 8].map(roundNice)).toEqual([0.005, 0.005, 0.0002, 0.3, 1, 10]);
  });
  it("rates a decade around the centre; weights 0 and a decade either side; a tenth of the epochs, at least min(5, E)", () => {
    expect(gridRates(0.003)).toEqual([0.0003, 0.001, 0.003, 0.01]);
    expect(gridWeights(1e-3)).toEqual([0, 1e-4, 1e-3, 1e-2]);
    expect(gridWeights(0)).toEqual([0, 1e-5, 1e-4, 1e-3]);
    expect([100, 20, 3, 2000].map(gridEpochsFor)).toEqual([10, 5, 3, 200]);
  });
  it("ranks by validation accuracy, then the validation data loss; diverged last", () => {
    const t = (id: number, accuracy: number | null, dataLoss: number, stopped: Trial["stopped"] = "completed", phase: Trial["phase"] = "refine") =>
      ({ id, stopped, phase, validation: { loss: dataLoss + 1, dataLoss, accuracy } }) as unknown as Trial;
    const ranked = [t(1, 0.9, 0.3), t(2, 0.95, 0.5), t(3, 0.95, 0.4), t(4, 1, 0.1, "diverged")].sort(compareTrials).map((x) => x.id);
    expect(ranked).toEqual([3, 2, 1, 4]);
    expect([t(1, null, 0.3), t(2, null, 0.2)].sort(compareTrials).map((x) => x.id)).toEqual([2, 1]);
    // the grid screens: a refined trial comes first even when a grid trial scored higher
    expect([t(1, 1, 0.1, "completed", "grid"), t(2, 0.9, 0.3)].sort(compareTrials).map((x) => x.id)).toEqual([2, 1]);
  });
});

describe("a whole run (iris with weight decay)", () => {
  const source = readFileSync("examples/iris.nn", "utf8").replace("loss cross_entropy(y, t)", "const lambda = 1e-3\nloss cross_entropy(y, t) + lambda * sumsq(h.W)");
  const modules = new Map<string, Promise<CompiledModule>>();
  const load = (set: Readonly<Record<string, number>>) => {
    const key = JSON.stringify(set);
    if (!modules.has(key)) modules.set(key, compile(source, { file: "iris.nn", set }).then((r) => loadModule(r.js!)));
    return modules.get(key)!;
  };
  let data: { train: Dataset; validation: Dataset };
  let base: Omit<TuneSetup, "clock" | "out" | "budget">;
  beforeAll(async () => {
    const mod = await load({ lambda: 1e-3 });
    data = splitDataset(loadDataset("examples/data/iris.csv", { inputs: mod.meta.inputs, targets: mod.meta.targets }), 0.2, 7);
    base = { load, fixed: {}, regularization: { lambda: 1e-3 }, optimizer: { name: "adam", args: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 } }, batch: 16, epochs: 20, patience: 10, minDelta: 0, seed: 7, normalize: "zscore", ...data };
  });

  /** train() with the trial's settings, as `nnc train` runs its command; the validation loss it ends with */
  const reproduce = async (t: Trial) => {
    const mod = await load(t.set);
    const r = train(mod, data.train, { epochs: t.epochs, batch: 16, optimizer: { name: "adam", args: { ...base.optimizer.args, lr: t.lr! } }, schedule: { name: "constant", args: {} }, seed: 7, validation: data.validation, earlyStopping: { patience: t.patience, minDelta: 0 }, normalize: true });
    return evaluate(mod, r.params, applyNormalization(data.validation, r.normalization!)).loss;
  };

  it("with time standing still: every grid cell, refinement, and a best trial that is the best of all and reproducible", async () => {
    const lines: string[] = [];
    const r = await tune({ ...base, budget: 1, clock: () => 0, out: (l) => void lines.push(l), rounds: 0 });
    const grid = r.trials.filter((t) => t.phase === "grid");
    expect(grid).toHaveLength(r.lrs.length * 4);
    expect(new Set(grid.map((t) => t.set.lambda))).toEqual(new Set([0, 1e-4, 1e-3, 1e-2]));
    expect(grid.every((t) => t.epochs <= gridEpochsFor(20))).toBe(true);
    expect(r.trials.some((t) => t.phase === "refine")).toBe(true);
    for (const t of r.trials) expect(compareTrials(r.best, t)).toBeLessThanOrEqual(0);
    expect(r.initial.expected).toBeCloseTo(Math.log(3), 12);
    expect(r.range?.points.length).toBeGreaterThan(10);
    expect(lines.some((l) => /^1\. initial loss with lambda = 0: /.test(l))).toBe(true);
    expect(lines.some((l) => /^2\. overfit 20 samples with lambda = 0: /.test(l))).toBe(true);
    expect(await reproduce(r.best)).toBe(r.best.validation.loss);
  });

  it("a refined trial the budget cuts short is the run of the epochs it made", async () => {
    // time stands still until step 5 starts; then it is 30 ms before the end, and each look at the clock takes 1 ms
    let now = 0, ticking = false;
    const clock = () => (ticking ? ++now : now);
    const out = (l: string) => {
      if (l.startsWith("5. ")) (now = 1000 * 0.5 - 30), (ticking = true);
    };
    const r = await tune({ ...base, budget: 0.5, clock, out, rounds: 0 });
    const cut = r.trials.filter((t) => t.stopped === "budget");
    expect(cut.length).toBeGreaterThan(0);
    const t = cut[0]!;
    expect(t.phase).toBe("refine");
    expect(t.epochs).toBeLessThan(20);
    expect(t.bestEpoch).toBeLessThanOrEqual(t.epochs);
    expect(await reproduce(t)).toBe(t.validation.loss);
  });
});
