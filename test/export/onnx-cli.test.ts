/**
 * `nnc export --format onnx` as a user runs it after `nnc train`: the file onnxruntime-web loads
 * predicts what `nnc predict` prints for the same raw data; the paths are checked before any work;
 * mistakes are exit 1 with a clear message.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { CLI, hasStackTrace, requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";
import { onnxInterface, runOnnx } from "../helpers/onnxruntime.js";

let dir = "";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-export-");
  cpSync(join(ROOT, "examples", "data", "xor.csv"), join(dir, "data", "xor.csv"), { recursive: true });
  const train = runCli(["train", "xor.nn", "--epochs", "300"], dir);
  expect(train.status, train.stderr).toBe(0);
});

describe("nnc export --format onnx", () => {
  it("after nnc train, predicts what nnc predict prints, from the raw data", async () => {
    const r = runCli(["export", "xor.nn", "--format", "onnx", "-o", "xor.onnx"], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ONNX opset 17, float64: inputs x\[N, 2\] \(z-scored in the graph\) → outputs y\[N\]; \d+ nodes, \d+ initializers, \d+ bytes → xor\.onnx\n$/);
    const bytes = readFileSync(join(dir, "xor.onnx"));
    expect(await onnxInterface(bytes)).toEqual({ inputs: ["x"], outputs: ["y"] });
    // the weights keep their DSL names
    for (const name of ["h.W", "h.b", "o.W", "o.b", "x.mean", "x.std"]) expect(bytes.includes(Buffer.from(name))).toBe(true);

    const rows = readFileSync(join(dir, "data", "xor.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
    const x = Float64Array.from(rows.flatMap((r) => r.slice(0, 2)));
    const out = await runOnnx(bytes, { x: { data: x, dims: [rows.length, 2] } });
    const predict = runCli(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "data/xor.csv"], dir);
    expect(predict.status, predict.stderr).toBe(0);
    const expected = predict.stdout.trim().split("\n").slice(1).map(Number);
    expect(expected).toHaveLength(rows.length);
    expected.forEach((v, i) => expect(Math.abs(out.y!.data[i]! - v)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
  });

  it("-o - writes the same bytes to stdout, and the summary to stderr", () => {
    const r = spawnSync(process.execPath, [CLI, "export", "xor.nn", "--format", "onnx", "-o", "-", "--weights", "xor.weights.json"], { cwd: dir });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(Buffer.compare(r.stdout, readFileSync(join(dir, "xor.onnx")))).toBe(0);
    expect(r.stderr.toString()).toMatch(/^ONNX opset 17, float64: .* bytes\n$/);
  });

  it("the same model and weights give the same bytes", () => {
    expect(runCli(["export", "xor.nn", "--format", "onnx", "-o", "again.onnx", "--weights", "xor.weights.json"], dir).status).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, "again.onnx")), readFileSync(join(dir, "xor.onnx")))).toBe(0);
  });

  const fails = (args: string[], message: RegExp) => {
    const r = runCli(["export", ...args], dir);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(hasStackTrace(r.stderr)).toBe(false);
    return r;
  };

  it("without weights: names the default it looked for", () => {
    fails(["iris.nn", "--format", "onnx", "-o", "iris.onnx"], /iris\.weights\.json: cannot read weights: .*ENOENT.*\(the default: where nnc train writes them; give --weights\)/);
    expect(existsSync(join(dir, "iris.onnx"))).toBe(false);
  });

  it("weights of another model", () => {
    // the weights loader's message (runtime/weights.ts), naming the file and the parameter
    fails(["iris.nn", "--format", "onnx", "-o", "iris.onnx", "--weights", "xor.weights.json"], /^nnc: error: xor\.weights\.json: .*model "iris" has no parameter "o\.W"/);
  });

  it("a weights file whose normalization is broken", () => {
    const w = JSON.parse(readFileSync(join(dir, "xor.weights.json"), "utf8"));
    writeFileSync(join(dir, "broken.json"), JSON.stringify({ ...w, normalization: { mean: { x: [0, "a"] }, std: w.normalization.std } }));
    fails(["xor.nn", "--format", "onnx", "-o", "broken.onnx", "--weights", "broken.json"], /^nnc: error: broken\.json: normalization\.mean\["x"\]\[1\]: expected a finite number, found "a"\n$/);
    expect(existsSync(join(dir, "broken.onnx"))).toBe(false);
  });

  it("an output path that cannot be written fails before any work", () => {
    fails(["xor.nn", "--format", "onnx", "-o", "no/such/dir/xor.onnx"], /NN9002: cannot write 'no\/such\/dir\/xor\.onnx': ENOENT/);
    fails(["xor.nn", "--format", "onnx", "-o", "xor.weights.json"], /the ONNX model \(-o\) 'xor\.weights\.json' is the same file as --weights/);
    fails(["xor.nn", "--format", "onnx", "-o", "xor.nn"], /is the same file as the model/);
  });

  it("an unknown format, or none", () => {
    fails(["xor.nn", "--format", "tflite", "-o", "x.out"], /expected pytorch or onnx/);
    fails(["xor.nn", "-o", "x.out"], /required option '--format <format>' not specified/);
  });

  it("a model with errors reports them", () => {
    writeFileSync(join(dir, "bad.nn"), "input x[2]\nloss y\n");
    fails(["bad.nn", "--format", "onnx", "-o", "bad.onnx"], /bad\.nn:2/);
  });
});
