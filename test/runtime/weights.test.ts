/**
 * Weights files and checkpoints as untrusted input (issue #14, item 5 and 6): every malformed
 * field is a WeightsError naming the file and the field, with what was expected and found, before
 * anything uses it; a checkpoint of another model, graph or optimizer, or with nothing left to
 * train, is refused before the first step; valid files round-trip bit-identically.
 */
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { modelIdentity } from "../../runtime/identity.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { train, type Checkpoint, type TrainOptions } from "../../runtime/train.js";
import type { Dataset } from "../../runtime/types.js";
import { NncUsageError } from "../../runtime/usage.js";
import { checkResume, MAX_WEIGHTS_BYTES, toWeightsFile, validateWeights, WeightsError, type WeightsFile } from "../../runtime/weights.js";
import { loadWeights, saveWeights } from "../../runtime/node/weights-files.js";
import { ROOT } from "../helpers/corpus.js";

const XOR = readFileSync(join(ROOT, "examples", "xor.nn"), "utf8");
const xorData: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };
const options: TrainOptions = { epochs: 3, batch: 2, optimizer: { name: "adam", args: { lr: 0.05 } }, seed: 4 };

let dir = "";
let mod: CompiledModule;
let mod32: CompiledModule;
/** a weights file of xor, as JSON text (trained 3 epochs, so its values are not the initial ones) */
let weightsText = "";
/** the checkpoint after epoch 1 of 3, as JSON text */
let checkpointText = "";

async function xor(precision: "f64" | "f32", source = XOR) {
  const r = await compile(source, { file: "xor.nn", precision });
  return { mod: await loadModule(r.js!), model: r.model! };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nnc-weights-"));
  ({ mod } = await xor("f64"));
  ({ mod: mod32 } = await xor("f32"));
  let first: Checkpoint | null = null;
  const r = train(mod, xorData, { ...options, onCheckpoint: (c) => void (c.resume.epoch === 1 && (first = structuredClone(c))) });
  weightsText = JSON.stringify(toWeightsFile(mod, r.params, { normalization: r.normalization, training: {}, metrics: {} }));
  const cp = first! as Checkpoint;
  checkpointText = JSON.stringify(toWeightsFile(mod, cp.params, { normalization: cp.normalization, training: {}, metrics: {}, resume: cp.resume }));
});

/** The file after `change`, written to disk; loadWeights's error message (or null when it loads). */
function loadError(text: string, change: (w: any) => void, m = mod): string | null {
  const w = JSON.parse(text);
  change(w);
  const path = join(dir, "w.json");
  writeFileSync(path, JSON.stringify(w));
  try {
    loadWeights(path, m);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    expect(e).toBeInstanceOf(NncUsageError);
    return (e as Error).message;
  }
}

describe("weights files", () => {
  it("a valid file round-trips bit-identically, in f64 and into an f32 module", () => {
    const path = join(dir, "ok.json");
    const w = JSON.parse(weightsText) as WeightsFile;
    saveWeights(path, w);
    const { params } = loadWeights(path, mod);
    for (const [k, p] of Object.entries(w.params)) {
      const got = Array.from(params[k]!);
      expect(got).toEqual(p.values);
      got.forEach((v, i) => expect(Object.is(v, p.values[i])).toBe(true));
    }
    const f32 = loadWeights(path, mod32).params;
    for (const [k, p] of Object.entries(w.params)) expect(Array.from(f32[k]!)).toEqual(p.values.map(Math.fround));
  });

  it.each<[string, (w: any) => void, RegExp]>([
    ['a value "NaN"', (w) => (w.params["h.W"].values[0] = "NaN"), /w\.json: params\["h\.W"\]\.values\[0\]: expected a finite number, found "NaN"$/],
    ['a value "abc"', (w) => (w.params["h.W"].values[3] = "abc"), /params\["h\.W"\]\.values\[3\]: expected a finite number, found "abc"$/],
    ["a value null (JSON's NaN)", (w) => (w.params["o.b"].values[0] = null), /params\["o\.b"\]\.values\[0\]: expected a finite number, found null$/],
    ["too few values", (w) => w.params["h.W"].values.pop(), /params\["h\.W"\]\.values: expected 8 values for shape \[4, 2\], found 7$/],
    ["another shape", (w) => (w.params["h.W"].shape = [8]), /params\["h\.W"\]\.shape: expected \[4, 2\] \(the model's\), found \[8\]$/],
    ["a parameter missing", (w) => delete w.params["h.b"], /params: no values for parameter "h\.b" \[4\] of model "xor"$/],
    ["a parameter the model lacks", (w) => (w.params.extra = { shape: [1], values: [1] }), /params\["extra"\]: model "xor" has no parameter "extra" \(its parameters: h\.W\[4, 2\], h\.b\[4\], o\.W\[1, 4\], o\.b\[1\]\)$/],
    ["no params at all", (w) => delete w.params, /w\.json: params: expected an object of parameters by name \(model "xor": h\.W\[4, 2\].*\), found nothing$/],
    ["a parameter that is a number", (w) => (w.params["h.W"] = 5), /params\["h\.W"\]: expected \{ shape, values \}, found 5$/],
    ["a std of 0", (w) => (w.normalization.std.x[1] = 0), /normalization\.std\["x"\]\[1\]: expected a positive standard deviation .*found 0$/],
    ["a negative std", (w) => (w.normalization.std.x[0] = -2), /normalization\.std\["x"\]\[0\]: expected a positive standard deviation .*found -2$/],
    ["a short std", (w) => (w.normalization.std.x = [1]), /normalization\.std\["x"\]: expected 2 values \(one per element of x\[2\]\), found 1$/],
    ["non-numeric means", (w) => (w.normalization.mean.x = ["a", "b"]), /normalization\.mean\["x"\]\[0\]: expected a finite number, found "a"$/],
    ["an empty normalization", (w) => (w.normalization = {}), /normalization\.mean: expected an object of arrays by input name \(x\[2\]\), found nothing$/],
    ["another format", (w) => (w.format = "nnc-weights/9"), /w\.json: format: not an nnc weights file: expected "nnc-weights\/1", found "nnc-weights\/9"$/],
    ["no model name", (w) => (w.model = 3), /model: expected the model's name, found 3$/],
    ["a malformed graph identity", (w) => (w.graph = "md5:00"), /graph: expected "sha256:" and 64 hexadecimal digits, found "md5:00"$/],
    ["metrics that are not an object", (w) => (w.metrics = [1]), /metrics: expected an object, found an array of 1$/],
  ])("refuses %s, naming the field", (_what, change, message) => {
    expect(loadError(weightsText, change)).toMatch(message);
  });

  it("refuses 1e400 (Infinity after parsing) and, for an f32 module, a value beyond float32's range", () => {
    const path = join(dir, "inf.json");
    writeFileSync(path, weightsText.replace(/("h\.b":\{"shape":\[4\],"values":\[)[^,]+/, "$11e400"));
    expect(() => loadWeights(path, mod)).toThrow(/params\["h\.b"\]\.values\[0\]: expected a finite number, found Infinity \(a number beyond ±1\.8e308\)/);
    expect(loadError(weightsText, (w) => (w.params["h.b"].values[2] = 1e39))).toBeNull();
    expect(loadError(weightsText, (w) => (w.params["h.b"].values[2] = 1e39), mod32)).toMatch(/params\["h\.b"\]\.values\[2\]: 1e\+39 is beyond float32's range/);
  });

  it("refuses what is not a JSON object, and a file over the size limit without reading it", () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, "[1, 2]");
    expect(() => loadWeights(path, mod)).toThrow(/bad\.json: not an nnc weights file .*found an array of 2/);
    writeFileSync(path, '{"format": ');
    expect(() => loadWeights(path, mod)).toThrow(/bad\.json: not valid JSON: /);
    expect(() => loadWeights(join(dir, "missing.json"), mod)).toThrow(/missing\.json: cannot read weights: ENOENT/);
    // V8 quotes the text around a syntax error; the file's control characters reach no terminal
    writeFileSync(path, '{"a": \u001b[31mred\u0007');
    expect(() => loadWeights(path, mod)).toThrow(/not valid JSON: .*\\u001b\[31mred/);
    expect(() => loadWeights(path, mod)).not.toThrow(/[\u0000-\u001f]/);
    // a key of a million characters is quoted by its ends
    const long = loadError(weightsText, (w) => (w.params["\u001b".repeat(1e6)] = 1))!;
    expect(long).toMatch(/params\["\\u001b.*….*\\u001b"\]: model "xor" has no parameter/);
    expect(long.length).toBeLessThan(400);
    // a sparse file: its size is known at once, and reading it would take seconds and 256 MiB
    truncateSync(path, MAX_WEIGHTS_BYTES + 1);
    expect(() => loadWeights(path, mod)).toThrow(new RegExp(`bad\\.json: the file has ${MAX_WEIGHTS_BYTES + 1} bytes; the limit for a weights file is ${MAX_WEIGHTS_BYTES} bytes`));
  });
});

describe("checkpoints", () => {
  /** train() resuming from the checkpoint after `change`: the error, and whether a step was taken */
  function resumeError(change: (w: any) => void, run: Partial<TrainOptions> = {}): string {
    const w = JSON.parse(checkpointText);
    change(w);
    let started = false;
    try {
      train(mod, xorData, { ...options, ...run, resume: w, onStart: () => (started = true) });
    } catch (e) {
      expect(e).toBeInstanceOf(NncUsageError);
      expect(started).toBe(false);
      return (e as Error).message;
    }
    throw new Error("the checkpoint was accepted");
  }

  it("a valid checkpoint resumes to the uninterrupted run's weights", () => {
    const whole = train(mod, xorData, options);
    const resumed = train(mod, xorData, { ...options, resume: JSON.parse(checkpointText) });
    for (const k of Object.keys(whole.params)) expect(Array.from(resumed.params[k]!)).toEqual(Array.from(whole.params[k]!));
  });

  it.each<[string, (w: any) => void, RegExp]>([
    ["epoch −5", (w) => (w.resume.epoch = -5), /options\.resume: resume\.epoch: expected an integer from 1 to 100000 \(the epochs done\), found -5$/],
    ['epoch "abc"', (w) => (w.resume.epoch = "abc"), /resume\.epoch: expected an integer from 1 to 100000 .*found "abc"$/],
    ["epoch 1e9", (w) => (w.resume.epoch = 1e9), /resume\.epoch: expected an integer from 1 to 100000 .*found 1000000000$/],
    ["resume: {}", (w) => (w.resume = {}), /resume\.epoch: expected an integer .*found nothing$/],
    ["a history shorter than the epochs", (w) => (w.resume.history = []), /resume\.history: expected 1 epoch reports \(one per epoch done\), found 0$/],
    ["a history entry of another epoch", (w) => (w.resume.history[0].epoch = 7), /resume\.history\[0\]\.epoch: expected 1, found 7$/],
    ["a history loss that is a string", (w) => (w.resume.history[0].train.loss = "x"), /resume\.history\[0\]\.train\.loss: expected a number or null, found "x"$/],
    ["best weights of another model", (w) => (w.resume.best.params = { a: [1] }), /resume\.best\.params\["a"\]: model "xor" has no parameter "a"/],
    ["best weights too short", (w) => w.resume.best.params["h.W"].pop(), /resume\.best\.params\["h\.W"\]: expected 8 values for shape \[4, 2\], found 7$/],
    ["best of a later epoch", (w) => (w.resume.best.epoch = 2), /resume\.best\.epoch: expected an integer from 1 to 1, found 2$/],
    ["badEpochs −1", (w) => (w.resume.badEpochs = -1), /resume\.badEpochs: expected an integer from 0 to 1 .*found -1$/],
    ["an optimizer buffer too short", (w) => w.resume.optimizer.buffers.m["h.W"].pop(), /resume\.optimizer: cannot resume adam from a saved state: buffer m of parameter 'h\.W' should have 8 values, has 7$/],
    ["an optimizer buffer with null", (w) => (w.resume.optimizer.buffers.v["o.b"][0] = null), /resume\.optimizer: .*buffer v of parameter 'o\.b' holds a non-finite value$/],
    ["an optimizer's step count −1", (w) => (w.resume.optimizer.t = -1), /resume\.optimizer\.t: expected an integer ≥ 0 .*found -1$/],
    ["another optimizer's state", (w) => (w.resume.optimizer.name = "rmsprop"), /resume\.optimizer\.name: the checkpoint was written by optimizer "rmsprop", the run uses adam/],
    ["another model's name", (w) => (w.model = "iris"), /options\.resume: model: the checkpoint is of model "iris", not of "xor"$/],
    ["no checkpoint state", (w) => delete w.resume, /resume: this is a weights file without checkpoint state/],
    ["a normalization of another input", (w) => (w.normalization.mean = { z: [0, 0] }), /normalization\.mean\["z"\]: model "xor" has no input "z"/],
  ])("refuses %s before the first step, naming the field", (_what, change, message) => {
    expect(resumeError(change)).toMatch(message);
  });

  it("refuses a checkpoint beyond the run's epochs, and a run with another optimizer", () => {
    expect(resumeError((w) => { w.resume.epoch = 2; w.resume.history.push({ ...w.resume.history[0], epoch: 2 }); }, { epochs: 1 })).toMatch(/resume\.epoch: the checkpoint is after epoch 2 and the run has only 1 epochs \(ask for at least 2 epochs\)$/);
    expect(resumeError(() => {}, { optimizer: { name: "sgd", args: { lr: 0.1 } } })).toMatch(/written by optimizer "adam", the run uses sgd/);
  });

  it("checks the graph identity: another graph with the same parameters is refused; a file without one is accepted by name and shapes", async () => {
    const { model } = await xor("f64");
    const { model: relu } = await xor("f64", XOR.replace("tanh", "relu"));
    const same = modelIdentity(model);
    expect(modelIdentity((await xor("f32")).model)).toBe(same);
    expect(modelIdentity(relu)).not.toBe(same);
    const w = JSON.parse(checkpointText) as WeightsFile;
    const run = { epochs: 3, optimizer: options.optimizer };
    validateWeights({ ...w, graph: same }, mod, "cp.json");
    expect(checkResume({ ...w, graph: same }, mod, { ...run, graph: same }, "cp.json")).toEqual({ graphChecked: true });
    expect(() => checkResume({ ...w, graph: same }, mod, { ...run, graph: modelIdentity(relu) }, "cp.json")).toThrow(/cp\.json: graph: the checkpoint was written for another graph of model "xor"/);
    expect(checkResume(w, mod, { ...run, graph: same }, "cp.json")).toEqual({ graphChecked: false });
  });
});
