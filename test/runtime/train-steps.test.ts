/**
 * Training driven from outside (runtime/train-steps.ts): stepped to its end it is train()'s run,
 * bit for bit, for each kind of step (fused sgdStep, fused optimizerStep, the runtime's optimizer,
 * a full-batch optimizer), with early stopping and its restored weights; an abort stops before
 * the next step with the weights of the last one; the async loop yields to the event loop.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import { loadDataset, subset } from "../../runtime/data/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { train, type StepReport, type TrainOptions, type TrainResult } from "../../runtime/train.js";
import { trainAsync, trainer } from "../../runtime/train-steps.js";
import type { Dataset, ParamSet } from "../../runtime/types.js";
import { ROOT } from "../helpers/corpus.js";

async function example(name: string): Promise<CompiledModule> {
  const file = join(ROOT, "examples", name);
  const r = await compile(readFileSync(file, "utf8"), { file });
  return loadModule(r.js!);
}

async function irisData(mod: CompiledModule): Promise<{ data: Dataset; validation: Dataset }> {
  const all = loadDataset(join(ROOT, "examples/data/iris.csv"), { inputs: mod.meta.inputs, targets: mod.meta.targets });
  const idx = Array.from({ length: all.count }, (_, i) => i);
  return { data: subset(all, idx.filter((i) => i % 5 !== 0)), validation: subset(all, idx.filter((i) => i % 5 === 0)) };
}

/** Every element of every parameter, bit for bit (Object.is: NaN and -0 told apart). */
function sameBits(a: ParamSet, b: ParamSet): boolean {
  return Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => v.length === b[k]!.length && v.every((x, i) => Object.is(x, b[k]![i])));
}

const opt = (name: OptimizerConfig["name"], args: Record<string, number> = {}): OptimizerConfig => ({ name, args }) as OptimizerConfig;

/** Steps a trainer to its end; the reports and the result. */
function stepped(mod: CompiledModule, data: Dataset, options: TrainOptions): { reports: StepReport[]; result: TrainResult } {
  const t = trainer(mod, data, options);
  const reports: StepReport[] = [];
  for (let r = t.step(); r !== null; r = t.step()) reports.push(r);
  expect(t.step()).toBeNull();
  return { reports, result: t.result! };
}

describe("trainer: step by step", () => {
  const CASES: [string, OptimizerConfig, number][] = [
    ["sgd (the module's fused sgdStep)", opt("sgd", { lr: 0.1 }), 16],
    ["adam (the module's fused optimizerStep)", opt("adam", { lr: 0.01 }), 16],
    ["lbfgs (full batch, one iteration per epoch)", opt("lbfgs"), 0],
  ];
  for (const [what, optimizer, batch] of CASES)
    it(`${what}: stepped to the end equals train() exactly, with early stopping's restored weights`, async () => {
      const mod = await example("iris.nn");
      const { data, validation } = await irisData(mod);
      const options: TrainOptions = { epochs: 12, batch: batch || data.count, optimizer, seed: 3, validation, earlyStopping: { patience: 2, minDelta: 0.05 } };
      const whole = train(mod, data, options);
      const { reports, result } = stepped(mod, data, options);
      expect(result.stopped).toBe(whole.stopped);
      expect(result.bestEpoch).toBe(whole.bestEpoch);
      expect(sameBits(result.params, whole.params)).toBe(true);
      expect(result.history.map((h) => [h.epoch, h.train.loss, h.validation?.loss])).toEqual(whole.history.map((h) => [h.epoch, h.train.loss, h.validation?.loss]));
      // a report per step: every epoch's steps, numbered over the run, with a finite loss
      const perEpoch = batch ? Math.ceil(data.count / batch) : 1;
      expect(reports.length).toBe(whole.history.length * perEpoch);
      expect(reports.every((r, k) => r.epoch === Math.floor(k / perEpoch) + 1 && r.step === k + 1 && Number.isFinite(r.loss))).toBe(true);
      // the reports are onStep's
      const seen: StepReport[] = [];
      stepped(mod, data, { ...options, onStep: (r) => seen.push(r) });
      expect(seen).toEqual(reports);
    });

  it("reports the loss of each step's batch: a step's loss is lossBatchTrain at the weights before it", async () => {
    const mod = await example("xor.nn");
    const data: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };
    // one batch of the whole set: the step's batch is the data set, whatever the shuffle
    const t = trainer(mod, data, { epochs: 3, batch: 4, optimizer: opt("sgd", { lr: 0.5 }), seed: 1, normalize: false });
    const p = mod.createParams();
    mod.initParams(p, 1);
    const first = t.step()!;
    expect(first.loss).toBeCloseTo(mod.lossBatch(p, data.inputs, data.targets, 4), 14);
  });

  it("stop() ends the run with the weights of the last step taken; later steps do nothing", async () => {
    const mod = await example("iris.nn");
    const { data } = await irisData(mod);
    const options: TrainOptions = { epochs: 5, batch: 16, optimizer: opt("adam", { lr: 0.01 }), seed: 4 };
    const a = trainer(mod, data, options);
    for (let k = 0; k < 9; k++) a.step();
    const stopped = a.stop()!;
    expect(stopped.stopped).toBe("aborted");
    expect(stopped.message).toBe("training stopped after epoch 2, step 1 (9 in all)");
    expect(a.step()).toBeNull();
    expect(a.stop()).toBe(stopped);
    // the same 9 steps taken by train() itself: one epoch and a step of a second are 8 + 1 steps
    // (120 rows in batches of 16); train() of one epoch gives the state after step 8
    const oneEpoch = train(mod, data, { ...options, epochs: 1 });
    const b = trainer(mod, data, options);
    for (let k = 0; k < 8; k++) b.step();
    expect(sameBits(b.stop()!.params, oneEpoch.params)).toBe(true);
    expect(sameBits(stopped.params, oneEpoch.params)).toBe(false);
    for (const v of Object.values(stopped.params)) expect(v.every(Number.isFinite)).toBe(true);
  });
});

describe("trainAsync", () => {
  it("stops on abort before the next step, with the weights of the last step, and reports every step's loss", async () => {
    const mod = await example("iris.nn");
    const { data } = await irisData(mod);
    const options: TrainOptions = { epochs: 50, batch: 16, optimizer: opt("adam", { lr: 0.01 }), seed: 4 };
    const controller = new AbortController();
    const losses: number[] = [];
    const result = await trainAsync(mod, data, {
      ...options,
      signal: controller.signal,
      onStep: (r) => {
        losses.push(r.loss);
        if (losses.length === 13) controller.abort();
      },
    });
    expect(result.stopped).toBe("aborted");
    expect(losses.length).toBe(13); // no step after the abort
    const t = trainer(mod, data, options);
    const expected: number[] = [];
    for (let k = 0; k < 13; k++) expected.push(t.step()!.loss);
    expect(losses).toEqual(expected);
    expect(sameBits(result.params, t.stop()!.params)).toBe(true);
  });

  it("yields to the event loop between steps: a timer and an abort from it arrive while it trains", async () => {
    const mod = await example("iris.nn");
    const { data } = await irisData(mod);
    const controller = new AbortController();
    let steps = 0;
    let atAbort = -1;
    // the timer fires at the loop's first yield (sliceMs 0: after every step), and aborts there
    setTimeout(() => {
      atAbort = steps;
      controller.abort();
    }, 0);
    const result = await trainAsync(mod, data, { epochs: 1000, batch: 8, optimizer: opt("sgd", { lr: 0.05 }), seed: 1, signal: controller.signal, sliceMs: 0, onStep: () => steps++ });
    expect(result.stopped).toBe("aborted");
    expect(atAbort).toBeGreaterThan(0);
    expect(steps).toBe(atAbort); // the abort took effect before another step
    expect(result.history.length).toBeLessThan(1000);
  });

  it("an already aborted signal takes no step and returns the initial weights", async () => {
    const mod = await example("iris.nn");
    const { data } = await irisData(mod);
    const result = await trainAsync(mod, data, { epochs: 3, batch: 16, optimizer: opt("sgd", { lr: 0.05 }), seed: 2, signal: AbortSignal.abort(), onStep: () => expect.fail("a step was taken") });
    expect(result.stopped).toBe("aborted");
    expect(result.message).toBe("training stopped before the first step");
    const p = mod.createParams();
    mod.initParams(p, 2);
    expect(sameBits(result.params, p)).toBe(true);
  });
});
