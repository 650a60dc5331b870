/**
 * The training loop's side of issue 13: the per-step report (onStep), snapshot ensembles, the
 * divergence guard that keeps only usable weights, hinge's ±1 labels scored as a classifier, and
 * the module's regularizer (the initial-loss check reports it apart from the data term).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { loadDataset } from "../../runtime/data/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { evaluate, scoringFor } from "../../runtime/metrics.js";
import { createSchedule } from "../../runtime/schedules.js";
import { train, type Snapshot, type StepReport } from "../../runtime/train.js";
import type { Dataset, ParamSet } from "../../runtime/types.js";
import { ROOT } from "../helpers/corpus.js";

async function build(source: string, set: Record<string, number> = {}): Promise<CompiledModule> {
  const r = await compile(source, { file: "m.nn", set });
  return loadModule(r.js!);
}

const IRIS = `input x[4]
target t[3]
layer h = dense(x, 6, tanh)
layer y = dense(h, 3, softmax)
const decay = 0.01
loss cross_entropy(y, t) + decay * sumsq(h.W)
`;

async function iris(): Promise<{ mod: CompiledModule; data: Dataset }> {
  const mod = await build(IRIS);
  return { mod, data: loadDataset(join(ROOT, "examples", "data", "iris.csv"), { inputs: mod.meta.inputs, targets: mod.meta.targets }) };
}

describe("onStep", () => {
  it("reports every step: 1-based epoch and global step, the schedule's rate, the batch loss before the update", async () => {
    const { mod, data } = await iris();
    const steps: StepReport[] = [];
    const schedule = { name: "cosine_restarts" as const, args: { period: 1.5, mult: 1 } };
    // the whole set as one batch: step k's loss is the loss of the weights the epoch before ended with
    const r = train(mod, data, { epochs: 4, batch: 150, optimizer: { name: "adam", args: { lr: 0.05 } }, schedule, seed: 1, normalize: false, onStep: (s) => steps.push(s) });
    expect(steps.map((s) => [s.epoch, s.step])).toEqual([[1, 1], [2, 2], [3, 3], [4, 4]]);
    expect(steps[0]!.loss).toBeCloseTo(r.initial.loss, 12);
    for (let e = 1; e < 4; e++) expect(steps[e]!.loss, `step ${e + 1}`).toBeCloseTo(r.history[e - 1]!.train.loss, 12);
    const lrAt = createSchedule(schedule, 0.05, 4);
    expect(steps.map((s) => s.lr)).toEqual([0, 1, 2, 3].map((e) => lrAt(e)));
    // cycles of 1.5 epochs: epoch 2 starts at t = 1, two thirds into the first; epoch 3 a third into the second
    expect(steps[1]!.lr).toBeCloseTo(0.025 * (1 + Math.cos((2 * Math.PI) / 3)), 15);
    expect(steps[2]!.lr).toBeCloseTo(0.025 * (1 + Math.cos(Math.PI / 3)), 15);
  });

  it("with several steps an epoch, the cyclic rate changes within the epoch", async () => {
    const { mod, data } = await iris();
    const lrs: number[] = [];
    train(mod, data, { epochs: 1, batch: 30, optimizer: { name: "sgd", args: { lr: 1 } }, schedule: { name: "cyclic", args: { min_lr: 0, max_lr: 0.1, period: 1 } }, seed: 1, onStep: (s) => lrs.push(s.lr) });
    // t = 0, 0.2, 0.4, 0.6, 0.8 of a cycle: 0, 0.04, 0.08, 0.08, 0.04
    [0, 0.04, 0.08, 0.08, 0.04].forEach((want, i) => expect(lrs[i], `step ${i + 1}`).toBeCloseTo(want, 15));
  });
});

const copy = (p: ParamSet): ParamSet => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));

describe("snapshot ensembles", () => {
  it("the weights at the end of each of the last K cycles, the same as the run's weights at those steps", async () => {
    const { mod, data } = await iris();
    const snaps: Snapshot[] = [];
    const atEpochEnd: ParamSet[] = [];
    const options = { batch: 50, optimizer: { name: "momentum" as const, args: { lr: 0.1 } }, schedule: { name: "cosine_restarts" as const, args: { period: 1, mult: 2 } }, seed: 4, snapshots: 2 };
    // cycles of 1, 2 and 4 epochs end at epochs 1, 3 and 7: the last two of those by epoch 8
    const r = train(mod, data, { ...options, epochs: 8, onSnapshot: (s) => snaps.push(s), onCheckpoint: (c) => atEpochEnd.push(copy(c.params)) });
    expect(snaps.map((s) => [s.index, s.cycle, s.epoch, s.step])).toEqual([[1, 2, 3, 9], [2, 3, 7, 21]]);
    expect(snaps[0]!.params).toEqual(atEpochEnd[2]);
    expect(snaps[1]!.params).toEqual(atEpochEnd[6]);
    expect(snaps[1]!.params).not.toEqual(r.params);
    expect(snaps[0]!.normalization).toEqual(r.normalization);
    // fewer cycles than snapshots: refused before any step, naming the field
    expect(() => train(mod, data, { ...options, epochs: 6 })).not.toThrow();
    expect(() => train(mod, data, { ...options, epochs: 2 })).toThrow(/options\.snapshots: snapshots 2 needs 2 cycles of the schedule to end by epoch 2, and 1 do/);
    expect(() => train(mod, data, { ...options, epochs: 8, schedule: { name: "cosine_restarts", args: { period: 0.25, mult: 1 } } })).toThrow(/shorter than one step \(3 steps per epoch\)/);
  });
});

describe("the divergence guard keeps usable weights", () => {
  const HINGE = `input x[2]
target t[1]
layer h = dense(x, 8, relu)
layer y = dense(h, 1, identity)
loss hinge(y, t)
`;
  /** ±1 labels: the sign of x₀·x₁ */
  function signs(count: number): Dataset {
    let s = 7;
    const u = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const x = Float64Array.from({ length: 2 * count }, u);
    return { count, inputs: { x }, targets: { t: Float64Array.from({ length: count }, (_, i) => (x[2 * i]! * x[2 * i + 1]! > 0 ? 1 : -1)) } };
  }

  it("hinge at an output of +∞ has a finite loss; the weights kept predict finite values on the whole training set", async () => {
    const mod = await build(HINGE);
    const data = signs(200);
    for (const lr of [1e30, 1e100]) {
      const r = train(mod, data, { epochs: 20, batch: 32, optimizer: { name: "sgd", args: { lr } }, seed: 1 });
      expect(r.stopped, `lr ${lr}`).toBe("diverged");
      expect(r.message).toMatch(/kept the initial weights|Kept the initial weights/);
      const e = evaluate(mod, r.params, r.normalization ? { ...data, inputs: { x: data.inputs.x!.map((v, i) => (v - r.normalization!.mean.x![i % 2]!) / r.normalization!.std.x![i % 2]!) } } : data);
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.outputsFinite).toBe(true);
    }
  });

  it("hinge with ±1 labels is scored as a classifier: the sign of the output", async () => {
    const mod = await build(`input x\ntarget t\nparam w\nparam b\ny = w * x + b\noutput y\nloss hinge(y, t)\n`);
    const data: Dataset = { count: 4, inputs: { x: Float64Array.of(-2, -0.5, 0.5, 3) }, targets: { t: Float64Array.of(-1, 1, 1, 1) } };
    expect(scoringFor(mod, data)).toEqual({ kind: "sign", target: "t", output: "y" });
    // y = x − 1: −3, −1.5, −0.5, 2 → predicted −1, −1, −1, +1; right on samples 1 and 4
    const e = evaluate(mod, { w: Float64Array.of(1), b: Float64Array.of(-1) }, data);
    expect(e.accuracy).toBe(0.5);
    expect(e.confusion).toEqual([[1, 0], [2, 1]]);
    // 0/1 labels keep the 0.5 threshold
    expect(scoringFor(mod, { ...data, targets: { t: Float64Array.of(0, 1, 1, 0) } })?.kind).toBe("threshold");
  });
});

describe("the module's regularizer", () => {
  it("is the loss's parameter-only terms: the loss with decay minus the loss without", async () => {
    const { mod, data } = await iris();
    const off = await build(IRIS, { decay: 0 });
    const p = mod.createParams();
    mod.initParams(p, 3);
    const withDecay = mod.lossBatch(p, data.inputs, data.targets, data.count);
    const without = off.lossBatch(p, data.inputs, data.targets, data.count);
    expect(mod.regularizer!(p)).toBeGreaterThan(0);
    expect(mod.regularizer!(p)).toBeCloseTo(withDecay - without, 12);
    expect(off.regularizer!(p)).toBe(0);
    let sumsq = 0;
    for (const v of p["h.W"]!) sumsq += v * v;
    expect(mod.regularizer!(p)).toBeCloseTo(0.01 * sumsq, 14);
  });
});

describe("onStep with a full-batch optimizer", () => {
  it("one step an epoch, its loss the objective before the iteration: the previous epoch's training loss", async () => {
    const { mod, data } = await iris();
    const steps: StepReport[] = [];
    const r = train(mod, data, { epochs: 3, batch: 10, optimizer: { name: "lbfgs", args: {} }, seed: 1, onStep: (s) => steps.push(s) });
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(steps[0]!.loss).toBe(r.initial.loss);
    expect(steps[1]!.loss).toBeCloseTo(r.history[0]!.train.loss, 12);
    expect(steps[2]!.loss).toBeCloseTo(r.history[1]!.train.loss, 12);
    expect(steps[2]!.loss).toBeLessThan(steps[0]!.loss);
  });
});
