/**
 * Safetensors weights on the command line (issue #11): `nnc train -o w.safetensors` (F64, or F32
 * with --precision f32, side files beside it), `nnc predict --weights w.safetensors` predicting
 * exactly what the JSON weights predict, `nnc convert-weights` both ways (bit-identical round
 * trip, checkpoints, --model), and clear errors with exit 1 and no stack trace.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { CLI, hasStackTrace, requireBuiltCli, scratchWithExamples, type CliResult } from "../helpers/cli.js";

let dir = "";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-safetensors-cli-");
  cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
});

/** The header of a safetensors file, parsed. */
function header(path: string): Record<string, any> {
  const bytes = readFileSync(path);
  return JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString("utf8"));
}

/** runCli (helpers/cli.ts), without blocking the test worker: these runs take seconds each on a loaded machine. */
function runCli(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((done, failed) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", failed);
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

async function ok(args: string[]) {
  const r = await runCli(args, dir);
  expect(r.status, r.stderr).toBe(0);
  return r;
}

async function fails(args: string[], message: RegExp) {
  const r = await runCli(args, dir);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(hasStackTrace(r.stderr)).toBe(false);
  return r;
}

describe("nnc train and predict with safetensors", () => {
  it("trains to w.safetensors (F64, side files beside it) and predicts the same as with the JSON weights", async () => {
    const r = await ok(["train", "xor.nn", "--epochs", "300", "-o", "w.safetensors"]);
    expect(r.stdout).toMatch(/weights → w\.safetensors {3}loss curves → w\.loss\.svg {3}checkpoint → w\.checkpoint\.json/);
    expect(existsSync(join(dir, "w.checkpoint.json"))).toBe(true);
    const h = header(join(dir, "w.safetensors"));
    expect(Object.keys(h)).toEqual(["h.W", "h.b", "o.W", "o.b", "__metadata__"]);
    expect(h["h.W"]).toEqual({ dtype: "F64", shape: [4, 2], data_offsets: [0, 64] });
    expect(h.__metadata__.format).toBe("nnc-weights/1");
    expect(h.__metadata__.model).toBe("xor");
    expect(h.__metadata__.graph).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(h.__metadata__.normalization).mean.x).toHaveLength(2);
    expect(JSON.parse(h.__metadata__.training).epochs).toBe(300);
    expect(JSON.parse(h.__metadata__.metrics).train.accuracy).toBe(1);

    await ok(["convert-weights", "w.safetensors", "w-as.json"]);
    const fromSt = await ok(["predict", "xor.nn", "--weights", "w.safetensors", "--data", "data/xor.csv"]);
    const fromJson = await ok(["predict", "xor.nn", "--weights", "w-as.json", "--data", "data/xor.csv"]);
    expect(fromSt.stdout).toBe(fromJson.stdout);
    expect(fromSt.stderr).toBe(fromJson.stderr);
    expect(fromSt.stderr).toMatch(/4 samples: loss \d\.\d+, accuracy 100\.0%/);
    // nnc export reads them through the same loader: the same ONNX bytes from either file
    await ok(["export", "xor.nn", "--format", "onnx", "-o", "from-st.onnx", "--weights", "w.safetensors"]);
    await ok(["export", "xor.nn", "--format", "onnx", "-o", "from-json.onnx", "--weights", "w-as.json"]);
    expect(readFileSync(join(dir, "from-st.onnx")).equals(readFileSync(join(dir, "from-json.onnx")))).toBe(true);
    // the same run written as JSON has the same values
    await ok(["train", "xor.nn", "--epochs", "300", "-o", "w-direct.json"]);
    const direct = JSON.parse(readFileSync(join(dir, "w-direct.json"), "utf8"));
    const converted = JSON.parse(readFileSync(join(dir, "w-as.json"), "utf8"));
    expect(converted.params).toEqual(direct.params);
    expect(converted.normalization).toEqual(direct.normalization);
  });

  it("--precision f32 writes F32 tensors, which predict reads", async () => {
    await ok(["train", "xor.nn", "--epochs", "300", "--precision", "f32", "-o", "w32.safetensors", "--checkpoint", "w32.checkpoint.json"]);
    const h = header(join(dir, "w32.safetensors"));
    expect(h["h.W"]).toEqual({ dtype: "F32", shape: [4, 2], data_offsets: [0, 32] });
    expect(JSON.parse(h.__metadata__.training).precision).toBe("f32");
    const r = await ok(["predict", "xor.nn", "--precision", "f32", "--weights", "w32.safetensors", "--data", "data/xor.csv"]);
    expect(r.stderr).toMatch(/accuracy 100\.0%/);
  });

  it("refuses a safetensors checkpoint before any work", async () => {
    await fails(["train", "xor.nn", "--checkpoint", "c.safetensors", "-o", "x.json"], /^nnc: error: --checkpoint c\.safetensors: checkpoints are JSON \(\.json\): safetensors holds the weights, not the optimizer state and history of a checkpoint$/m);
    await fails(["train", "xor.nn", "--resume", "w.safetensors", "-o", "x.json"], /^nnc: error: --resume w\.safetensors: checkpoints are JSON/m);
    expect(existsSync(join(dir, "x.json"))).toBe(false);
  });

  it("predict names the file, the tensor, expected and found for a mismatched or corrupt file", async () => {
    await ok(["train", "iris.nn", "--epochs", "1", "-o", "iris.safetensors"]);
    await fails(["predict", "digits.nn", "--weights", "iris.safetensors", "--data", "data/digits-test.csv"], /^nnc: error: iris\.safetensors: header\["h\.W"\]\.shape: expected \[32, 64\] \(the model's\), found \[8, 4\]$/m);
    await fails(["predict", "xor.nn", "--weights", "iris.safetensors", "--data", "data/xor.csv"], /^nnc: error: iris\.safetensors: header\["y\.W"\]: model "xor" has no parameter "y\.W" \(its parameters: h\.W\[4, 2\], h\.b\[4\], o\.W\[1, 4\], o\.b\[1\]\)$/m);
    const bytes = readFileSync(join(dir, "w.safetensors"));
    writeFileSync(join(dir, "cut.safetensors"), bytes.subarray(0, bytes.length - 8));
    await fails(["predict", "xor.nn", "--weights", "cut.safetensors", "--data", "data/xor.csv"], /^nnc: error: cut\.safetensors: header\["o\.b"\]\.data_offsets: \[128, 136\] reaches beyond the data, which has 128 bytes$/m);
  });
});

describe("nnc convert-weights", () => {
  it("converts JSON → safetensors → JSON bit-identically, without a model", async () => {
    await ok(["train", "digits.nn", "--epochs", "1", "-o", "d.json"]);
    const there = await ok(["convert-weights", "d.json", "d.safetensors"]);
    expect(there.stdout).toBe("d.json → d.safetensors (safetensors, F64): 4 parameters, 2410 values, with the inputs' normalization\n");
    const back = await ok(["convert-weights", "d.safetensors", "d-back.json"]);
    expect(back.stdout).toBe("d.safetensors → d-back.json (JSON): 4 parameters, 2410 values, with the inputs' normalization\n");
    expect(readFileSync(join(dir, "d-back.json"), "utf8")).toBe(readFileSync(join(dir, "d.json"), "utf8"));
    await ok(["convert-weights", "d-back.json", "d-again.safetensors"]);
    expect(readFileSync(join(dir, "d-again.safetensors")).equals(readFileSync(join(dir, "d.safetensors")))).toBe(true);
  });

  it("converts a checkpoint's weights, saying that its resume state stays behind", async () => {
    const r = await ok(["convert-weights", "w.checkpoint.json", "from-checkpoint.safetensors"]);
    expect(r.stdout).toMatch(/^note: w\.checkpoint\.json is a checkpoint: its weights are converted; its state for --resume \(epoch 300, optimizer, history\) is not, since checkpoints are JSON$/m);
    const a = header(join(dir, "from-checkpoint.safetensors"));
    expect(Object.keys(a)).toEqual(["h.W", "h.b", "o.W", "o.b", "__metadata__"]);
  });

  it("--model checks the weights against the model", async () => {
    await ok(["convert-weights", "d.safetensors", "d-checked.json", "--model", "digits.nn"]);
    await fails(["convert-weights", "d.safetensors", "d-wrong.json", "--model", "iris.nn"], /^nnc: error: d\.safetensors: header\["h\.W"\]\.shape: expected \[8, 4\] \(the model's\), found \[32, 64\]$/m);
    expect(existsSync(join(dir, "d-wrong.json"))).toBe(false);
  });

  it("refuses unknown extensions, an output that is the input, and a corrupt input, with exit 1", async () => {
    await fails(["convert-weights", "d.json", "d.bin"], /^nnc: error: the output 'd\.bin': the format is chosen by the extension: \.json \(nnc-weights\) or \.safetensors$/m);
    await fails(["convert-weights", "d.json", "d.json"], /the output 'd\.json' is the same file as the input 'd\.json'/);
    writeFileSync(join(dir, "bad.safetensors"), "not safetensors at all");
    await fails(["convert-weights", "bad.safetensors", "bad.json"], /^nnc: error: bad\.safetensors: header: the header length is \d+ bytes, more than the limit of 100000000$/m);
    await fails(["convert-weights", "missing.json", "m.safetensors"], /^nnc: error: missing\.json: cannot read weights: ENOENT$/m);
    expect(existsSync(join(dir, "bad.json"))).toBe(false);
    const w = JSON.parse(readFileSync(join(dir, "d.json"), "utf8"));
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ ...w, params: { __metadata__: w.params["y.b"] } }));
    await fails(["convert-weights", "meta.json", "meta.safetensors"], /^nnc: error: params\["__metadata__"\]: safetensors keeps the name __metadata__ for its metadata/m);
  });
});
