/**
 * Malformed values through the built CLI (issue #14, items 5, 6, 10): numeric flags of train and
 * check out of range, weights files and checkpoints with bad fields, a checkpoint of another graph
 * — each ends with exit status 1 and a message naming the flag, or the file and the field, never
 * an internal error (exit 2) or a stack trace; the valid files still train, resume and predict.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, hasStackTrace, requireBuiltCli, scratchWithExamples, type CliResult } from "../helpers/cli.js";
import { ROOT } from "../helpers/corpus.js";

/** runCli without blocking: the worker keeps answering vitest while the CLI runs (a busy machine
 * makes some runs take seconds, and a blocked worker times out vitest's calls). */
function runCli(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

let dir = "";
let weights = "";
let checkpoint = "";

beforeAll(async () => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-values-");
  writeFileSync(join(dir, "xor.csv"), readFileSync(join(ROOT, "examples", "data", "xor.csv")));
  const r = await runCli(["train", "xor.nn", "--data", "xor.csv", "--optimizer", "adam", "--epochs", "3", "--checkpoint-seconds", "0", "-o", "w.json", "--checkpoint", "cp.json"], dir);
  expect(r.status, r.stderr).toBe(0);
  weights = readFileSync(join(dir, "w.json"), "utf8");
  checkpoint = readFileSync(join(dir, "cp.json"), "utf8");
}, 60_000);

/** A user error: exit 1, the message on stderr, no internal error, no stack trace. */
function refused(r: CliResult, message: RegExp): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(hasStackTrace(r.stderr)).toBe(false);
}

/** `text` after `change`, written to `name` in the scratch directory. */
function variant(name: string, text: string, change: (w: any) => void): string {
  const w = JSON.parse(text);
  change(w);
  writeFileSync(join(dir, name), JSON.stringify(w));
  return name;
}

describe("numeric flags", () => {
  it.each([
    [["--epochs", "0"], /option '--epochs <n>' argument '0' is invalid\. expected an integer from 1 to 100000/],
    [["--epochs", "1e9"], /'--epochs <n>' argument '1e9' is invalid/],
    [["--batch", "0"], /'--batch <n>' argument '0' is invalid\. expected an integer from 1 to 2147483647/],
    [["--lr", "Infinity"], /'--lr <rate>' argument 'Infinity' is invalid\. expected a finite number > 0/],
    [["--lr=-1"], /'--lr <rate>' argument '-1' is invalid/],
    [["--seed", "4294967296"], /'--seed <n>' argument '4294967296' is invalid\. expected an integer from 0 to 4294967295/],
    [["--split", "1"], /'--split <fraction>' argument '1' is invalid\. expected a number > 0 and < 1/],
    [["--checkpoint-seconds", "-1"], /'--checkpoint-seconds <s>' argument '-1' is invalid/],
    [["--split", "0.9999"], /^nnc: error: --split 0\.9999 of the 4 samples of xor\.csv leaves 0 for training and 4 for validation: each needs at least one$/m],
    [["--split", "0.5", "--validation", "xor.csv"], /--validation and --split both choose the validation data: give one of them/],
  ])("train %j is refused", async (flags, message) => {
    refused(await runCli(["train", "xor.nn", "--data", "xor.csv", ...flags, "-o", "never.json"], dir), message);
  });

  it.each([
    [["--samples", "0"], /'--samples <n>' argument '0' is invalid\. expected an integer from 1 to 10000/],
    [["--tolerance", "Infinity"], /'--tolerance <t>' argument 'Infinity' is invalid/],
  ])("check %j is refused", async (flags, message) => {
    refused(await runCli(["check", "xor.nn", ...flags], dir), message);
  });

  it("a train block's value beyond a limit is named with the model file", async () => {
    writeFileSync(join(dir, "long.nn"), readFileSync(join(dir, "xor.nn"), "utf8").replace("epochs 2000", "epochs 1000000"));
    refused(await runCli(["train", "long.nn", "--data", "xor.csv", "-o", "never.json"], dir), /^nnc: error: long\.nn: train block: epochs: expected an integer from 1 to 100000, got 1000000$/m);
    writeFileSync(join(dir, "beta.nn"), readFileSync(join(dir, "xor.nn"), "utf8").replace("sgd(lr = 0.5)", "adam(lr = 0.1, beta1 = 1.5)"));
    refused(await runCli(["train", "beta.nn", "--data", "xor.csv", "-o", "never.json"], dir), /^nnc: error: beta\.nn: train block: optimizer adam: beta1 must be in \[0, 1\), got 1\.5$/m);
  });
});

describe("weights files given to predict", () => {
  it("the valid file predicts", async () => {
    const r = await runCli(["predict", "xor.nn", "--weights", "w.json", "--data", "xor.csv"], dir);
    expect(r.status, r.stderr).toBe(0);
  });

  it.each<[string, (w: any) => void, RegExp]>([
    ['"NaN"', (w) => (w.params["h.W"].values[0] = "NaN"), /^nnc: error: bad\.json: params\["h\.W"\]\.values\[0\]: expected a finite number, found "NaN"$/m],
    ["null", (w) => (w.params["h.W"].values[1] = null), /params\["h\.W"\]\.values\[1\]: expected a finite number, found null/],
    ["a short array", (w) => w.params["h.W"].values.pop(), /params\["h\.W"\]\.values: expected 8 values for shape \[4, 2\], found 7/],
    ["a std of 0", (w) => (w.normalization.std.x[0] = 0), /normalization\.std\["x"\]\[0\]: expected a positive standard deviation/],
    ["a short std", (w) => (w.normalization.std.x = [1]), /normalization\.std\["x"\]: expected 2 values .*found 1/],
    ["no params", (w) => delete w.params, /bad\.json: params: expected an object of parameters by name/],
    ["an empty normalization", (w) => (w.normalization = {}), /normalization\.mean: expected an object of arrays by input name/],
  ])("a file with %s is refused naming the field", async (_what, change, message) => {
    refused(await runCli(["predict", "xor.nn", "--weights", variant("bad.json", weights, change), "--data", "xor.csv"], dir), message);
  });

  it("a value 1e400 (Infinity once parsed) is refused", async () => {
    writeFileSync(join(dir, "inf.json"), weights.replace(/("o\.b":\{"shape":\[1\],"values":\[)[^\]]+/, "$11e400"));
    refused(await runCli(["predict", "xor.nn", "--weights", "inf.json", "--data", "xor.csv"], dir), /inf\.json: params\["o\.b"\]\.values\[0\]: expected a finite number, found Infinity \(a number beyond ±1\.8e308\)/);
  });
});

describe("checkpoints given to --resume", () => {
  const resume = (file: string, extra: string[] = []) => runCli(["train", "xor.nn", "--data", "xor.csv", "--optimizer", "adam", "--epochs", "5", "--resume", file, "-o", "resumed.json", "--checkpoint", "resumed.cp.json", ...extra], dir);

  it("the valid checkpoint resumes; one without a graph identity is accepted with a note", async () => {
    const r = await resume("cp.json");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming from cp\.json after epoch 3/);
    expect(r.stdout).not.toMatch(/^note: .*graph identity/m);
    expect(JSON.parse(readFileSync(join(dir, "resumed.cp.json"), "utf8")).graph).toMatch(/^sha256:[0-9a-f]{64}$/);
    const old = await resume(variant("old.json", checkpoint, (w) => delete w.graph));
    expect(old.status, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/^note: old\.json records no graph identity \(written by an earlier nnc\): checked by the model's name and parameter shapes only$/m);
  });

  it.each<[string, (w: any) => void, RegExp]>([
    ["epoch −5", (w) => (w.resume.epoch = -5), /^nnc: error: bad\.cp\.json: resume\.epoch: expected an integer from 1 to 100000 \(the epochs done\), found -5$/m],
    ['epoch "abc"', (w) => (w.resume.epoch = "abc"), /resume\.epoch: expected an integer .*found "abc"/],
    ["epoch 1e9", (w) => (w.resume.epoch = 1e9), /resume\.epoch: expected an integer .*found 1000000000/],
    ["resume: {}", (w) => (w.resume = {}), /resume\.epoch: expected an integer .*found nothing/],
    ["optimizer state of another size", (w) => w.resume.optimizer.buffers.v["h.b"].pop(), /resume\.optimizer: cannot resume adam from a saved state: buffer v of parameter 'h\.b' should have 4 values, has 3/],
    ["a history that is not an array", (w) => (w.resume.history = {}), /resume\.history: expected an array of 3 epoch reports, found an object/],
    ["best weights of another parameter set", (w) => (w.resume.best.params = {}), /resume\.best\.params: no values for parameter "h\.W"/],
    ["a normalization of the wrong length", (w) => (w.normalization.mean.x = [0]), /normalization\.mean\["x"\]: expected 2 values/],
    ["another model's name", (w) => (w.model = "digits"), /bad\.cp\.json: model: the checkpoint is of model "digits", not of "xor"/],
    ["another graph", (w) => (w.graph = `sha256:${"0".repeat(64)}`), /bad\.cp\.json: graph: the checkpoint was written for another graph of model "xor"/],
  ])("a checkpoint with %s is refused before training", async (_what, change, message) => {
    const r = await resume(variant("bad.cp.json", checkpoint, change));
    refused(r, message);
    expect(r.stdout).not.toMatch(/^epoch /m);
  });

  it("a checkpoint of the same parameters but another activation is refused by its graph", async () => {
    writeFileSync(join(dir, "xor-relu.nn"), readFileSync(join(dir, "xor.nn"), "utf8").replace("tanh", "relu"));
    const r = await runCli(["train", "xor-relu.nn", "--data", "xor.csv", "--optimizer", "adam", "--epochs", "5", "--resume", variant("relu.cp.json", checkpoint, (w) => (w.model = "xor-relu")), "-o", "never.json"], dir);
    refused(r, /relu\.cp\.json: graph: the checkpoint was written for another graph of model "xor-relu"/);
  });

  it("a checkpoint beyond the run's epochs, or another optimizer, is refused", async () => {
    refused(await resume("cp.json", ["--epochs", "2"]), /cp\.json: resume\.epoch: the checkpoint is after epoch 3 and the run has only 2 epochs/);
    refused(await runCli(["train", "xor.nn", "--data", "xor.csv", "--epochs", "5", "--resume", "cp.json", "-o", "never.json"], dir), /resume\.optimizer\.name: the checkpoint was written by optimizer "adam", the run uses sgd/);
  });
});
