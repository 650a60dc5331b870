/**
 * Flags over the train block (docs/training.md): every flag replaces only what it names. The
 * block as the compiler checks it (with the arguments it wrote), then resolveConfig with flags.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../compiler/pipeline.js";
import { parseNamedCall, OPTIMIZERS, SCHEDULES } from "../../compiler/semantics/train-block.js";
import { CliError, resolveConfig, trainOutputs, type TrainFlags } from "../../runtime/cli-train.js";

function run(block: string, flags: TrainFlags) {
  const source = `input x\ntarget t\nparam w\nloss (w * x - t)^2\ntrain { data "d.csv"; ${block} }\n`;
  const { model, diagnostics } = check(source, { file: "m.nn" });
  expect(diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
  return resolveConfig("m.nn", model!.train, flags);
}

const refused = (block: string, flags: TrainFlags) => {
  try {
    run(block, flags);
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return (e as Error).message;
  }
  throw new Error("accepted");
};

describe("--optimizer over the block's optimizer", () => {
  it("another first-order optimizer keeps the lr the block wrote, and only what the block wrote", () => {
    expect(run("optimizer momentum(lr = 0.1)", { optimizer: "sgd" }).optimizer).toEqual({ name: "sgd", args: { lr: 0.1 } });
    // adam without a written lr: sgd's default, not adam's 0.001
    expect(run("optimizer adam", { optimizer: "sgd" }).optimizer).toEqual({ name: "sgd", args: { lr: 0.01 } });
    // rmsprop's eps and gamma are not adam's eps or momentum's gamma: only lr carries
    expect(run("optimizer adam(lr = 0.02, eps = 1e-3)", { optimizer: "rmsprop" }).optimizer).toEqual({ name: "rmsprop", args: { lr: 0.02, gamma: 0.9, eps: 1e-8 } });
    expect(run("optimizer momentum(lr = 0.1, gamma = 0.5)", { optimizer: "rmsprop" }).optimizer.args.gamma).toBe(0.9);
  });

  it("adadelta's and lbfgs's lr (a scale, default 1) is not carried", () => {
    expect(run("optimizer momentum(lr = 0.1)", { optimizer: "adadelta" }).optimizer).toEqual({ name: "adadelta", args: { lr: 1, rho: 0.95, eps: 1e-6 } });
    expect(run("optimizer adam(lr = 0.003)", { optimizer: "lbfgs" }).optimizer).toEqual({ name: "lbfgs", args: { history: 10, lr: 1 } });
    expect(run("optimizer adadelta(lr = 0.5)", { optimizer: "sgd" }).optimizer).toEqual({ name: "sgd", args: { lr: 0.01 } });
  });

  it("the same optimizer keeps all the block's arguments; the flag's win; --lr replaces lr alone", () => {
    expect(run("optimizer adam(lr = 0.02, beta1 = 0.8)", { optimizer: "adam(beta2 = 0.99)" }).optimizer).toEqual({ name: "adam", args: { lr: 0.02, beta1: 0.8, beta2: 0.99, eps: 1e-8 } });
    expect(run("optimizer adam(lr = 0.02, beta1 = 0.8)", { optimizer: "adam(0.5)" }).optimizer.args).toEqual({ lr: 0.5, beta1: 0.8, beta2: 0.999, eps: 1e-8 });
    expect(run("optimizer adam(lr = 0.02, beta1 = 0.8)", { lr: 0.3 }).optimizer.args).toEqual({ lr: 0.3, beta1: 0.8, beta2: 0.999, eps: 1e-8 });
    expect(run("optimizer momentum(lr = 0.1)", { optimizer: "sgd", lr: 0.7 }).optimizer).toEqual({ name: "sgd", args: { lr: 0.7 } });
    expect(run("", { optimizer: "adadelta(rho = 0.9)" }).optimizer).toEqual({ name: "adadelta", args: { lr: 1, rho: 0.9, eps: 1e-6 } });
  });

  it("names what is wrong with a flag's value", () => {
    expect(refused("", { optimizer: "adam(lr = fast)" })).toMatch(/--optimizer adam\(lr = fast\): optimizer adam: lr must be a number, got 'fast'/);
    expect(refused("", { optimizer: "adam(gamma = 0.9)" })).toMatch(/optimizer adam has no argument 'gamma' \(its arguments: lr, beta1, beta2, eps\)/);
    expect(refused("", { optimizer: "adamw" })).toMatch(/unknown optimizer 'adamw': expected sgd, momentum, nesterov, adagrad, rmsprop, adam, adadelta, lbfgs, newton, newton_cg/);
    expect(refused("", { optimizer: "adam(lr = 0.1" })).toMatch(/is not an optimizer such as adam or adam\(lr = 0\.01\)/);
    expect(refused("", { optimizer: "adam(lr = 1, lr = 2)" })).toMatch(/'lr' is given twice/);
    expect(refused("", { optimizer: "sgd(0.1, 0.2)" })).toMatch(/argument 2 \('0\.2'\): sgd takes lr/);
  });
});

describe("--schedule over the block's schedule", () => {
  it("takes name(args); the same schedule keeps the block's arguments, another keeps those it shares by name", () => {
    expect(run("schedule step(every = 5)", { schedule: "cosine_restarts(period=5)" }).schedule).toEqual({ name: "cosine_restarts", args: { period: 5, mult: 1 } });
    expect(run("schedule step(every = 5)", { schedule: "step(factor = 0.5)" }).schedule).toEqual({ name: "step", args: { every: 5, factor: 0.5 } });
    expect(run("schedule cyclic(0.01, 0.1, 4)", { schedule: "cosine_restarts" }).schedule).toEqual({ name: "cosine_restarts", args: { period: 4, mult: 1 } });
    expect(run("schedule cyclic(min_lr = 0.01, max_lr = 0.1, period = 4)", { schedule: "cyclic(max_lr = 0.3)" }).schedule.args).toEqual({ min_lr: 0.01, max_lr: 0.3, period: 4 });
    expect(run("", { schedule: "cosine" }).schedule).toEqual({ name: "cosine", args: {} });
  });

  it("refuses a schedule without the arguments it has no default for", () => {
    expect(refused("", { schedule: "cyclic(0.01, 0.1)" })).toMatch(/cyclic needs 'period' \(no default\): write cyclic\(min_lr = …, max_lr = …, period = …\)/);
    expect(refused("", { schedule: "cosine_restarts" })).toMatch(/cosine_restarts needs 'period'/);
    expect(refused("", { schedule: "warm" })).toMatch(/unknown schedule 'warm': expected constant, step, cosine, linear, inverse_sqrt, cyclic, cosine_restarts/);
  });

  it("snapshot files sit beside the weights, in the weights' format", () => {
    expect(trainOutputs("dir/m.nn", "m", {}, 2).snapshots).toEqual(["dir/m.snap1.json", "dir/m.snap2.json"]);
    expect(trainOutputs("m.nn", "m", { output: "run/w.safetensors" }, 3).snapshots).toEqual(["run/w.snap1.safetensors", "run/w.snap2.safetensors", "run/w.snap3.safetensors"]);
    expect(trainOutputs("m.nn", "m", { output: "w.json" }, null).snapshots).toEqual([]);
    expect(trainOutputs("m.nn", "m", { output: "w.json" }, null).history).toBe("w.history.jsonl");
  });

  it("--snapshots replaces the block's snapshots", () => {
    expect(run("schedule cosine_restarts(period = 1); snapshots 2", {}).snapshots).toBe(2);
    expect(run("schedule cosine_restarts(period = 1); snapshots 2", { snapshots: 3 }).snapshots).toBe(3);
    expect(run("", {}).snapshots).toBeNull();
  });
});

describe("parseNamedCall", () => {
  it("reads names, keyword and positional numbers in the table's order, with signs and exponents", () => {
    expect(parseNamedCall(" adam ", OPTIMIZERS, "optimizer")).toEqual({ name: "adam", args: {} });
    expect(parseNamedCall("adam(1e-3, beta2=.99)", OPTIMIZERS, "optimizer")).toEqual({ name: "adam", args: { lr: 0.001, beta2: 0.99 } });
    expect(parseNamedCall("cyclic(-0, +2.5E-1, period = 3)", SCHEDULES, "schedule")).toEqual({ name: "cyclic", args: { min_lr: -0, max_lr: 0.25, period: 3 } });
    expect(parseNamedCall("step()", SCHEDULES, "schedule")).toEqual({ name: "step", args: {} });
    expect(parseNamedCall("adam(lr = 1e400)", OPTIMIZERS, "optimizer")).toMatch(/lr must be a number, got '1e400'/);
  });
});

describe("the train block", () => {
  it("a schedule without a required argument is a diagnostic naming it", () => {
    const { diagnostics } = check(`input x\ntarget t\nparam w\nloss (w * x - t)^2\ntrain { schedule cyclic(0.01, 0.1); snapshots 0 }\n`, { file: "m.nn" });
    const messages = diagnostics.list.map((d) => `${d.code} ${d.message}`);
    expect(messages).toContain("NN4009 'cyclic' needs the argument 'period' (it has no default)");
    expect(messages.some((m) => m.startsWith("NN4004 'snapshots' must be a positive integer"))).toBe(true);
  });
});
