/**
 * The library API's boundary (issue #14, item 9): `train`, `evaluate` and `predictAll` check what
 * they are given before they run, and a bad value throws an NncUsageError whose `field` names it —
 * not a TypeError from inside, and not a run that "succeeds" on nonsense.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { evaluate, loadModule, NncUsageError, predictAll, train, type CompiledModule, type Dataset, type TrainOptions } from "../../runtime/index.js";
import { describeRule, fitsRule, NUMBER_RULES, parseFlagNumber } from "../../runtime/usage.js";
import { ROOT } from "../helpers/corpus.js";

let mod: CompiledModule;
let iris: CompiledModule;
const xorData: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };
const ok: TrainOptions = { epochs: 2, batch: 2, optimizer: { name: "sgd", args: { lr: 0.5 } }, seed: 1 };

beforeAll(async () => {
  const load = async (name: string) => loadModule((await compile(readFileSync(join(ROOT, "examples", name), "utf8"), { file: name })).js!);
  mod = await load("xor.nn");
  iris = await load("iris.nn");
});

/** The NncUsageError `run` throws: its field and message. */
function usageError(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(NncUsageError);
    expect(e).not.toBeInstanceOf(TypeError);
    return { field: (e as NncUsageError).field, message: (e as Error).message };
  }
  throw new Error("accepted");
}

const withData = (change: (d: any) => void): Dataset => {
  const d: any = { count: xorData.count, inputs: { x: xorData.inputs.x!.slice() }, targets: { t: xorData.targets.t!.slice() } };
  change(d);
  return d;
};

describe("train checks its arguments", () => {
  it("still trains with valid ones", () => {
    expect(train(mod, xorData, ok).history).toHaveLength(2);
  });

  it.each<[string, () => unknown, string, RegExp]>([
    ["epochs −1", () => train(mod, xorData, { ...ok, epochs: -1 }), "options.epochs", /expected an integer from 1 to 100000, got -1/],
    ["epochs NaN", () => train(mod, xorData, { ...ok, epochs: NaN }), "options.epochs", /got NaN/],
    ["epochs 2.5", () => train(mod, xorData, { ...ok, epochs: 2.5 }), "options.epochs", /got 2\.5/],
    ["batch 0", () => train(mod, xorData, { ...ok, batch: 0 }), "options.batch", /expected an integer from 1 to 2147483647, got 0/],
    ["seed Infinity", () => train(mod, xorData, { ...ok, seed: Infinity }), "options.seed", /expected an integer from 0 to 4294967295, got Infinity/],
    ["lr −1", () => train(mod, xorData, { ...ok, optimizer: { name: "sgd", args: { lr: -1 } } }), "options.optimizer.args.lr", /optimizer sgd: lr must be a finite number > 0, got -1/],
    ["an unknown optimizer", () => train(mod, xorData, { ...ok, optimizer: { name: "sgdd" as "sgd", args: {} } }), "options.optimizer.name", /unknown optimizer "sgdd": expected sgd, momentum/],
    ["an unknown argument", () => train(mod, xorData, { ...ok, optimizer: { name: "adam", args: { learningRate: 0.1 } } }), "options.optimizer.args.learningRate", /optimizer adam has no argument 'learningRate' \(its arguments: lr, beta1, beta2, eps\)/],
    ["beta1 1.5", () => train(mod, xorData, { ...ok, optimizer: { name: "adam", args: { beta1: 1.5 } } }), "options.optimizer.args.beta1", /beta1 must be in \[0, 1\), got 1\.5/],
    ["a step schedule's every 0", () => train(mod, xorData, { ...ok, schedule: { name: "step", args: { every: 0, factor: 0.5 } } }), "options.schedule", /every must be positive/],
    ["patience 0", () => train(mod, xorData, { ...ok, earlyStopping: { patience: 0, minDelta: 0 } }), "options.earlyStopping.patience", /got 0/],
    ["count NaN", () => train(mod, withData((d) => (d.count = NaN)), ok), "data.count", /expected a positive integer \(the number of samples\), got NaN/],
    ["count 0", () => train(mod, { count: 0, inputs: { x: new Float64Array(0) }, targets: { t: new Float64Array(0) } }, ok), "data.count", /got 0/],
    ["a count that does not match the arrays", () => train(mod, withData((d) => (d.count = 5)), ok), "data.inputs.x", /expected 10 values \(5 samples × 2 for x\[2\]\), found 8/],
    ["an input of the wrong length", () => train(mod, withData((d) => (d.inputs.x = d.inputs.x.slice(1))), ok), "data.inputs.x", /found 7/],
    ["a NaN in the inputs", () => train(mod, withData((d) => (d.inputs.x[5] = NaN)), ok), "data.inputs.x[5]", /expected a finite number, found NaN \(sample 2, element 1\)/],
    ["a plain array", () => train(mod, withData((d) => (d.targets.t = [0, 1, 1, 0])), ok), "data.targets.t", /expected a Float64Array or Float32Array .*got an array of 4/],
    ["data of another model (iris: x[4], t[3])", () => train(iris, xorData, ok), "data.inputs.x", /expected 16 values \(4 samples × 4 for x\[4\]\), found 8/],
    ["an input the model lacks", () => train(mod, withData((d) => (d.inputs.z = new Float64Array(4))), ok), "data.inputs.z", /the model has no input 'z' \(its inputs: x\[2\]\)/],
    ["validation data missing a target", () => train(mod, xorData, { ...ok, validation: withData((d) => delete d.targets.t) }), "options.validation.targets.t", /got nothing/],
    ["not a module", () => train({} as CompiledModule, xorData, ok), "mod", /expected a module generated by nnc/],
    ["no options", () => train(mod, xorData, undefined as unknown as TrainOptions), "options", /expected an object/],
    ["a callback that is not a function", () => train(mod, xorData, { ...ok, onEpoch: 3 as unknown as () => void }), "options.onEpoch", /expected a function, got 3/],
  ])("%s", (_what, run, field, message) => {
    const e = usageError(run);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });
});

describe("evaluate and predictAll check their arguments", () => {
  const params = () => {
    const p = mod.createParams();
    mod.initParams(p, 1);
    return p;
  };

  it("work with valid ones", () => {
    expect(Number.isFinite(evaluate(mod, params(), xorData).loss)).toBe(true);
    expect(predictAll(mod, params(), { count: 4, inputs: xorData.inputs, targets: {} }).y).toHaveLength(4);
  });

  it.each<[string, () => unknown, string, RegExp?]>([
    ["a parameter missing", () => evaluate(mod, { "h.W": new Float64Array(8) }, xorData), "params.h.b"],
    ["a parameter too short", () => evaluate(mod, { ...params(), "o.W": new Float64Array(3) }, xorData), "params.o.W", /^params\.o\.W: expected 4 values \(o\.W\[1, 4\]\), found 3$/],
    ["a NaN parameter", () => evaluate(mod, { ...params(), "o.b": Float64Array.of(NaN) }, xorData), "params.o.b[0]"],
    ["an empty data set", () => evaluate(mod, params(), { count: 0, inputs: { x: new Float64Array(0) }, targets: { t: new Float64Array(0) } }), "data.count"],
    ["targets of the wrong length", () => evaluate(mod, params(), withData((d) => (d.targets.t = new Float64Array(3)))), "data.targets.t"],
    ["predictAll with inputs too short", () => predictAll(mod, params(), { count: 4, inputs: { x: new Float64Array(7) }, targets: {} }), "data.inputs.x"],
    ["predictAll with data of another model", () => predictAll(iris, iris.createParams(), xorData), "data.inputs.x"],
  ])("%s", (_what, run, field, message) => {
    const e = usageError(run);
    expect(e.field).toBe(field);
    if (message) expect(e.message).toMatch(message);
  });
});

describe("the rules of numeric settings", () => {
  it("parse only decimal numbers, and state their ranges", () => {
    expect(["12", "1e3", "-0.5", ".5", "Infinity"].map(parseFlagNumber)).toEqual([12, 1000, -0.5, 0.5, Infinity]);
    for (const text of ["", " 5", "0x10", "5abc", "1,000", "NaN"]) expect(parseFlagNumber(text)).toBeNaN();
    expect(describeRule(NUMBER_RULES.split)).toBe("a number > 0 and < 1");
    expect(describeRule(NUMBER_RULES.lr)).toBe("a finite number > 0");
    expect([0, 0.5, 0.9999, 1].map((v) => fitsRule(v, NUMBER_RULES.split))).toEqual([false, true, true, false]);
    expect([0, 1, 100_000, 100_001, 1.5].map((v) => fitsRule(v, NUMBER_RULES.epochs))).toEqual([false, true, true, false, false]);
  });
});
