/**
 * Safetensors weights (issue #11): JSON → safetensors → JSON round trips bit-identically on trained
 * weights (xor and digits, with their normalization); an f32 module's weights are written as F32
 * exactly; F32, F16 and BF16 tensors are read exactly; every kind of corrupt or mismatched file is
 * a WeightsError naming the file, the tensor or field, what was expected and what was found; and
 * files written by PyTorch (with struct and json, as the exported train.py does) are read, and
 * nnc's are read by PyTorch.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { loadDataset } from "../../runtime/data/index.js";
import { modelIdentity } from "../../runtime/identity.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { bfloat16, decodeSafetensors, encodeSafetensors, half, MAX_HEADER_BYTES } from "../../runtime/safetensors.js";
import { train } from "../../runtime/train.js";
import type { Dataset } from "../../runtime/types.js";
import { NncUsageError } from "../../runtime/usage.js";
import { fromSafetensors, MAX_WEIGHTS_BYTES, SAFETENSORS_FIELDS, toSafetensors, toWeightsFile, validateWeightsAlone, WeightsError, type WeightsFile } from "../../runtime/weights.js";
import { loadWeights, readWeights, saveWeights } from "../../runtime/node/weights-files.js";
import { ROOT } from "../helpers/corpus.js";
import { rng } from "../helpers/random.js";

const example = (name: string) => readFileSync(join(ROOT, "examples", name), "utf8");
const xorData: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };

let dir = "";
let xor: CompiledModule;
let xor32: CompiledModule;
/** trained weights files as nnc train writes them (JSON text) */
let xorText = "";
let digitsText = "";
let xor32Weights: WeightsFile;

async function load(name: string, precision: "f64" | "f32" = "f64") {
  const r = await compile(example(name), { file: name, precision });
  return { mod: await loadModule(r.js!), model: r.model! };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nnc-safetensors-"));
  const x = await load("xor.nn");
  xor = x.mod;
  xor32 = (await load("xor.nn", "f32")).mod;
  const run = { epochs: 20, batch: 2, optimizer: { name: "adam", args: { lr: 0.05 } }, seed: 3 } as const;
  const r = train(xor, xorData, run);
  expect(r.normalization).not.toBeNull();
  const extra = { training: { ...run, precision: "f64" }, metrics: { train: { loss: r.history.at(-1)!.train.loss, accuracy: null } }, graph: modelIdentity(x.model) };
  xorText = JSON.stringify(toWeightsFile(xor, r.params, { normalization: r.normalization, ...extra })) + "\n";
  const r32 = train(xor32, xorData, run);
  xor32Weights = toWeightsFile(xor32, r32.params, { normalization: r32.normalization, training: {}, metrics: {} });

  const d = await load("digits.nn");
  const data = loadDataset(join(ROOT, "examples", "data", "digits-train.csv"), { inputs: d.mod.meta.inputs, targets: d.mod.meta.targets });
  const rd = train(d.mod, data, { epochs: 1, batch: 32, optimizer: { name: "sgd", args: { lr: 0.1 } }, seed: 1 });
  digitsText = JSON.stringify(toWeightsFile(d.mod, rd.params, { normalization: rd.normalization, training: { epochs: 1 }, metrics: {}, graph: modelIdentity(d.model) })) + "\n";
});

/** Converts a file with the library, as nnc convert-weights does (without a model). */
function convert(from: string, to: string): void {
  const { raw, fields } = readWeights(from);
  saveWeights(to, validateWeightsAlone(raw, from, fields).file);
}

describe("round trips", () => {
  it.each([["xor", () => xorText], ["digits", () => digitsText]])("%s: JSON → safetensors → JSON is bit-identical, and safetensors → JSON → safetensors too", (name, text) => {
    const json = join(dir, `${name}.json`);
    writeFileSync(json, text());
    convert(json, join(dir, `${name}.safetensors`));
    convert(join(dir, `${name}.safetensors`), join(dir, `${name}.back.json`));
    expect(readFileSync(join(dir, `${name}.back.json`), "utf8")).toBe(text());
    convert(join(dir, `${name}.back.json`), join(dir, `${name}.again.safetensors`));
    expect(readFileSync(join(dir, `${name}.again.safetensors`)).equals(readFileSync(join(dir, `${name}.safetensors`)))).toBe(true);
    // the normalization is in the metadata, the tensors under their DSL names in the model's order
    const w = JSON.parse(text()) as WeightsFile;
    const st = decodeSafetensors(readFileSync(join(dir, `${name}.safetensors`)), (f, d) => {
      throw new Error(`${f}: ${d}`);
    });
    expect(st.tensors.map((t) => t.name)).toEqual(Object.keys(w.params));
    expect(st.tensors.map((t) => t.shape)).toEqual(Object.values(w.params).map((p) => p.shape));
    expect(st.tensors.every((t) => t.dtype === "F64")).toBe(true);
    expect(JSON.parse(st.metadata!.normalization!)).toEqual(w.normalization);
    expect(w.normalization).not.toBeNull();
    expect(st.metadata!.graph).toBe(w.graph);
    expect(st.metadata!.format).toBe("nnc-weights/1");
  });

  it("loadWeights gives the same parameters from either format, bit for bit", () => {
    const json = join(dir, "same.json");
    const st = join(dir, "same.safetensors");
    writeFileSync(json, xorText);
    convert(json, st);
    const a = loadWeights(json, xor);
    const b = loadWeights(st, xor);
    expect(b.file.normalization).toEqual(a.file.normalization);
    for (const k of Object.keys(xor.meta.params)) {
      const x = Array.from(a.params[k]!);
      const y = Array.from(b.params[k]!);
      expect(y).toHaveLength(x.length);
      x.forEach((v, i) => expect(Object.is(v, y[i])).toBe(true));
    }
  });

  it("an f32 module's weights are written as F32, exactly, at half the size of F64", () => {
    const f32 = join(dir, "w32.safetensors");
    const f64 = join(dir, "w64.safetensors");
    saveWeights(f32, xor32Weights, "F32");
    saveWeights(f64, xor32Weights, "F64");
    const header = (p: string) => readFileSync(p).subarray(8, 8 + Number(readFileSync(p).readBigUInt64LE(0))).toString();
    expect(header(f32)).toMatch(/"h\.W":\{"dtype":"F32","shape":\[4,2\],"data_offsets":\[0,32\]\}/);
    expect(readFileSync(f64).length - readFileSync(f32).length).toBe(17 * 4 + (header(f64).length - header(f32).length));
    for (const m of [xor32, xor]) {
      const { params } = loadWeights(f32, m);
      for (const [k, p] of Object.entries(xor32Weights.params)) expect(Array.from(params[k]!)).toEqual(p.values);
    }
    // a value that float32 cannot hold is never rounded silently
    const inexact = structuredClone(xor32Weights);
    (inexact.params["h.W"]!.values as number[])[0] = 0.1;
    expect(() => saveWeights(join(dir, "inexact.safetensors"), inexact, "F32")).toThrow(new NncUsageError('params["h.W"].values[0]', "0.1 is not a float32 value: write F64 (F32 holds only the weights of an f32 module exactly)"));
  });

  it("a parameter named __metadata__ cannot be written as safetensors: a usage error, not a crash", () => {
    const w = JSON.parse(xorText) as WeightsFile;
    const renamed = { ...w, params: { __metadata__: w.params["h.W"]! } };
    expect(() => toSafetensors(renamed)).toThrow(NncUsageError);
    expect(() => toSafetensors(renamed)).toThrow(/safetensors keeps the name __metadata__ for its metadata/);
  });

  it("Python's NaN and Infinity in the descriptive metadata become null (as nnc's JSON writes them); strings keep them", () => {
    const d = new Uint8Array(136);
    const metrics = '{"loss": NaN, "rmse": -Infinity, "note": "NaN stays \\" Infinity", "best": Infinity}';
    const path = rawFile("nan.safetensors", { ...xorHeader(), __metadata__: { ...META, metrics } }, d);
    expect(loadWeights(path, xor).file.metrics).toEqual({ loss: null, rmse: null, note: 'NaN stays " Infinity', best: null });
    const strict = rawFile("nan-norm.safetensors", { ...xorHeader(), __metadata__: { ...META, normalization: '{"mean": {"x": [NaN, 0]}, "std": {"x": [1, 1]}}' } }, d);
    expect(loadError(strict)).toMatch(/nan-norm\.safetensors: __metadata__\.normalization: not valid JSON text: /);
  });

  it("a checkpoint is not written as safetensors", () => {
    const cp = { ...(JSON.parse(xorText) as WeightsFile), resume: { epoch: 1, optimizer: null, history: [], best: null, badEpochs: 0 } };
    expect(() => saveWeights(join(dir, "cp.safetensors"), cp)).toThrow(/a checkpoint is written as JSON/);
  });
});

describe("dtypes", () => {
  it("reads F16 and BF16 exactly, and F32", () => {
    const f16: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x8000, -0], [0x3555, 0.333251953125]];
    for (const [bits, v] of f16) expect(Object.is(half(bits), v)).toBe(true);
    expect(half(0x7c00)).toBe(Infinity);
    expect(half(0x7e00)).toBeNaN();
    const bf: [number, number][] = [[0x3f80, 1], [0xc040, -3], [0x3e80, 0.25], [0x7f7f, 3.3895313892515355e38], [0x0001, 2 ** -133]];
    for (const [bits, v] of bf) expect(bfloat16(bits)).toBe(v);
    // xor's parameters in three dtypes: h.W F16, h.b BF16, the rest F32
    const data = new Uint8Array(8 * 2 + 4 * 2 + 5 * 4);
    const view = new DataView(data.buffer);
    const hw = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000, 0x3800, 0x4200];
    hw.forEach((b, i) => view.setUint16(2 * i, b, true));
    [0x3f80, 0xc040, 0x3e80, 0x0001].forEach((b, i) => view.setUint16(16 + 2 * i, b, true));
    const f32 = [0.1, -2.5, 1e-40, 3.4e38, 7];
    f32.forEach((v, i) => view.setFloat32(24 + 4 * i, v, true));
    const path = rawFile("dtypes.safetensors", {
      "h.W": { dtype: "F16", shape: [4, 2], data_offsets: [0, 16] },
      "h.b": { dtype: "BF16", shape: [4], data_offsets: [16, 24] },
      "o.W": { dtype: "F32", shape: [1, 4], data_offsets: [24, 40] },
      "o.b": { dtype: "F32", shape: [1], data_offsets: [40, 44] },
      __metadata__: META,
    }, data);
    const { params, file } = loadWeights(path, xor);
    expect(Array.from(params["h.W"]!)).toEqual(hw.map(half));
    expect(Array.from(params["h.b"]!)).toEqual([1, -3, 0.25, 2 ** -133]);
    expect(Array.from(params["o.W"]!)).toEqual(f32.slice(0, 4).map(Math.fround));
    expect(Array.from(params["o.b"]!)).toEqual([7]);
    expect(file.normalization).toBeNull();
  });

  it("refuses integer dtypes, naming the tensor and the dtypes it reads", () => {
    const header = { ...xorHeader(), "h.b": { dtype: "I64", shape: [4], data_offsets: [64, 96] } };
    expect(loadError(rawFile("int.safetensors", header, new Uint8Array(136)))).toBe(
      `${dir}/int.safetensors: header["h.b"].dtype: "I64" is not read: nnc reads the floating-point dtypes F64, F32, F16, BF16 (converted exactly to float64)`,
    );
  });
});

/** The metadata nnc requires, with no normalization. */
const META = { format: "nnc-weights/1", model: "xor", normalization: "null" };

/** A header of xor's four F64 tensors (136 bytes of data). */
function xorHeader(): Record<string, unknown> {
  return {
    "h.W": { dtype: "F64", shape: [4, 2], data_offsets: [0, 64] },
    "h.b": { dtype: "F64", shape: [4], data_offsets: [64, 96] },
    "o.W": { dtype: "F64", shape: [1, 4], data_offsets: [96, 128] },
    "o.b": { dtype: "F64", shape: [1], data_offsets: [128, 136] },
    __metadata__: META,
  };
}

/** Writes a safetensors file from a header (object or text) and data, unchecked; returns its path. */
function rawFile(name: string, header: Record<string, unknown> | string | Uint8Array, data: Uint8Array = new Uint8Array(136), declared?: bigint): string {
  const text = header instanceof Uint8Array ? header : Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declared ?? BigInt(text.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([length, text, data]));
  return path;
}

/** loadWeights's message for the file (or null when it loads). */
function loadError(path: string, mod = xor): string | null {
  try {
    loadWeights(path, mod);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    expect(e).toBeInstanceOf(NncUsageError);
    return (e as Error).message;
  }
}

describe("corrupt and mismatched files", () => {
  const data = () => {
    const d = new Uint8Array(136);
    const v = new DataView(d.buffer);
    for (let i = 0; i < 17; i++) v.setFloat64(8 * i, i / 7, true);
    return d;
  };
  const header = (change: (h: any) => void) => {
    const h = xorHeader() as any;
    change(h);
    return h;
  };

  it("a valid hand-made file loads (the cases below each break one thing of it)", () => {
    const { params } = loadWeights(rawFile("valid.safetensors", xorHeader(), data()), xor);
    expect(Array.from(params["o.b"]!)).toEqual([16 / 7]);
  });

  it.each<[string, () => string, string]>([
    ["fewer than 8 bytes", () => (writeFileSync(join(dir, "c.safetensors"), Buffer.from([1, 2, 3])), join(dir, "c.safetensors")), `: not a safetensors file: 3 bytes, fewer than the 8 of the header length`],
    ["a header length beyond the file", () => rawFile("c.safetensors", xorHeader(), data(), 10_000n), `: header: the header length is 10000 bytes, but the file has only 450 after the length`],
    ["a header length beyond the limit", () => rawFile("c.safetensors", xorHeader(), data(), 2n ** 63n), `: header: the header length is 9223372036854775808 bytes, more than the limit of ${MAX_HEADER_BYTES}`],
    ["a header that is not UTF-8", () => rawFile("c.safetensors", Uint8Array.of(0x7b, 0xff, 0x7d), new Uint8Array(0)), `: header: not valid UTF-8`],
    ["a header that is not JSON", () => rawFile("c.safetensors", '{"h.W": {', data()), `: header: not valid JSON: `],
    ["a header that is an array", () => rawFile("c.safetensors", "[1, 2]", data()), `: header: expected a JSON object of tensors by name, found [1, 2]`],
    ["a name twice", () => rawFile("c.safetensors", JSON.stringify(xorHeader()).replace('"h.b"', '"h.W"'), data()), `: header["h.W"]: the name appears twice in the header (JSON would keep only the last)`],
    ["an entry that is not an object", () => rawFile("c.safetensors", header((h) => (h["h.b"] = 3)), data()), `: header["h.b"]: expected { dtype, shape, data_offsets }, found 3`],
    ["a bad shape", () => rawFile("c.safetensors", header((h) => (h["h.b"].shape = [4.5])), data()), `: header["h.b"].shape: expected an array of non-negative integers, found [4.5]`],
    ["bad offsets", () => rawFile("c.safetensors", header((h) => (h["h.b"].data_offsets = [64])), data()), `: header["h.b"].data_offsets: expected [begin, end], two non-negative integers, found [64]`],
    ["offsets reversed", () => rawFile("c.safetensors", header((h) => (h["h.b"].data_offsets = [96, 64])), data()), `: header["h.b"].data_offsets: the end 64 is before the begin 96`],
    ["offsets beyond the data", () => rawFile("c.safetensors", header((h) => (h["o.b"].data_offsets = [128, 144])), data()), `: header["o.b"].data_offsets: [128, 144] reaches beyond the data, which has 136 bytes`],
    ["a length that does not match dtype × shape", () => rawFile("c.safetensors", header((h) => (h["h.b"].shape = [3])), data()), `: header["h.b"].data_offsets: shape [3] of F64 takes 3 × 8 = 24 bytes, the offsets [64, 96] give 32`],
    ["overlapping tensors", () => rawFile("c.safetensors", header((h) => ((h["h.b"].data_offsets = [56, 88]), (h["h.b"].shape = [4]))), data()), `: header["h.b"].data_offsets: [56, 88] overlaps another tensor's data (which ends at 64)`],
    ["a gap between tensors", () => rawFile("c.safetensors", header((h) => (h["o.b"].data_offsets = [136, 144])), new Uint8Array(144)), `: header["o.b"].data_offsets: [136, 144] leaves bytes 128 to 136 of the data unused (tensors must be contiguous)`],
    ["trailing bytes", () => rawFile("c.safetensors", xorHeader(), new Uint8Array(140)), `: 4 bytes after the last tensor's data (the tensors end at byte 136 of 140): the file is corrupt or has trailing bytes`],
    ["no __metadata__", () => rawFile("c.safetensors", header((h) => delete h.__metadata__), data()), `: __metadata__: absent: nnc reads safetensors with the metadata {"format": "nnc-weights/1", "model": <the model's name>, "normalization": <JSON text of { mean, std }, or "null">} (without it the inputs' normalization would be unknown)`],
    ["a metadata value that is not a string", () => rawFile("c.safetensors", header((h) => (h.__metadata__ = { ...META, normalization: null })), data()), `: __metadata__["normalization"]: expected a string (safetensors metadata values are strings), found null`],
    ["another format", () => rawFile("c.safetensors", header((h) => (h.__metadata__ = { ...META, format: "pt" })), data()), `: __metadata__.format: not an nnc weights file: expected "nnc-weights/1", found "pt"`],
    ["no normalization", () => rawFile("c.safetensors", header((h) => (h.__metadata__ = { format: "nnc-weights/1", model: "xor" })), data()), `: __metadata__.normalization: absent: expected the JSON text of { mean, std }, or "null" for inputs used as they are`],
    ["a normalization that is not JSON", () => rawFile("c.safetensors", header((h) => (h.__metadata__ = { ...META, normalization: '{"mean": NaN}' })), data()), `: __metadata__.normalization: not valid JSON text: `],
    ["a normalization of another input", () => rawFile("c.safetensors", header((h) => (h.__metadata__ = { ...META, normalization: '{"mean": {"z": [0, 0]}, "std": {"z": [1, 1]}}' })), data()), `: __metadata__.normalization.mean["z"]: model "xor" has no input "z" (its inputs: x[2])`],
    ["a zero standard deviation", () => rawFile("c.safetensors", header((h) => (h.__metadata__ = { ...META, normalization: '{"mean": {"x": [0, 0]}, "std": {"x": [1, 0]}}' })), data()), `: __metadata__.normalization.std["x"][1]: expected a positive standard deviation (nnc writes 1 for a constant input), found 0`],
    ["a NaN value", () => {
      const d = data();
      new DataView(d.buffer).setFloat64(8 * 3, NaN, true);
      return rawFile("c.safetensors", xorHeader(), d);
    }, `: header["h.W"].data[3]: expected a finite number, found NaN`],
    ["an infinite F16 value", () => {
      const d = new Uint8Array(128 + 2);
      new DataView(d.buffer).setUint16(128, 0xfc00, true);
      return rawFile("c.safetensors", header((h) => (h["o.b"] = { dtype: "F16", shape: [1], data_offsets: [128, 130] })), d);
    }, `: header["o.b"].data[0]: expected a finite number, found -Infinity`],
    ["a missing tensor", () => rawFile("c.safetensors", header((h) => delete h["o.b"]), data().subarray(0, 128)), `: header: no values for parameter "o.b" [1] of model "xor"`],
    ["an unexpected tensor", () => rawFile("c.safetensors", header((h) => (h["o.c"] = { dtype: "F64", shape: [0], data_offsets: [136, 136] })), data()), `: header["o.c"]: model "xor" has no parameter "o.c" (its parameters: h.W[4, 2], h.b[4], o.W[1, 4], o.b[1])`],
    ["a tensor of another shape", () => rawFile("c.safetensors", header((h) => (h["h.W"].shape = [8])), data()), `: header["h.W"].shape: expected [4, 2] (the model's), found [8]`],
    ["JSON weights named .safetensors", () => (writeFileSync(join(dir, "c.safetensors"), xorText), join(dir, "c.safetensors")), `(the file starts with '{': it looks like JSON weights; name it .json)`],
  ])("%s", (_, make, message) => {
    const got = loadError(make());
    expect(got).not.toBeNull();
    // the message in full, or its start where the rest is V8's (JSON.parse's text)
    const whole = `${dir}/c.safetensors${message}`;
    if (message.startsWith(":")) expect(message.endsWith(": ") ? got!.slice(0, whole.length) : got).toBe(whole);
    else expect(got!.startsWith(`${dir}/c.safetensors: `) && got!.endsWith(message)).toBe(true);
  });

  it("an F64 value beyond float32's range is refused by an f32 module, naming the tensor", () => {
    const d = data();
    new DataView(d.buffer).setFloat64(8 * 9, 1e39, true);
    expect(loadError(rawFile("c.safetensors", xorHeader(), d), xor32)).toBe(`${dir}/c.safetensors: header["h.b"].data[1]: 1e+39 is beyond float32's range (the module is compiled with --precision f32)`);
  });

  it("a file over the size limit is refused from its size, unread", () => {
    const path = join(dir, "huge.safetensors");
    writeFileSync(path, "");
    truncateSync(path, MAX_WEIGHTS_BYTES + 1);
    expect(loadError(path)).toBe(`${path}: the file has ${MAX_WEIGHTS_BYTES + 1} bytes; the limit for a weights file is ${MAX_WEIGHTS_BYTES} bytes (256 MiB)`);
  });

  it("safetensors named .json is recognized in the message", () => {
    const path = join(dir, "st.json");
    writeFileSync(path, toSafetensors(JSON.parse(xorText)));
    expect(loadError(path)).toMatch(/st\.json: not valid JSON: .*\(it looks like safetensors: a header length, then '\{'; name it \.safetensors\)$/);
    // JSON that is merely invalid gets no such hint, even with '{' as its 9th character
    writeFileSync(path, '[1,2,3,4,{"a"');
    expect(loadError(path)).not.toMatch(/looks like safetensors/);
  });

  it("without a model, a file is checked against its own shapes", () => {
    const alone = (path: string) => {
      try {
        const { raw, fields } = readWeights(path);
        validateWeightsAlone(raw, path, fields);
        return null;
      } catch (e) {
        expect(e).toBeInstanceOf(WeightsError);
        return (e as Error).message;
      }
    };
    const d = data();
    new DataView(d.buffer).setFloat64(0, -Infinity, true);
    expect(alone(rawFile("c.safetensors", xorHeader(), d))).toBe(`${dir}/c.safetensors: header["h.W"].data[0]: expected a finite number, found -Infinity`);
    expect(alone(rawFile("c.safetensors", header((h) => (h.__metadata__ = { ...META, normalization: '{"mean": {"x": [0, 0]}, "std": {"x": [1]}}' })), data()))).toBe(
      `${dir}/c.safetensors: __metadata__.normalization.std["x"]: expected 2 values (one per element of x[2]), found 1`,
    );
    const json = join(dir, "alone.json");
    writeFileSync(json, JSON.stringify({ ...JSON.parse(xorText), params: { "h.W": { shape: [4, -2], values: [] } } }));
    expect(alone(json)).toBe(`${json}: params["h.W"].shape: expected an array of non-negative integers, found [4, -2]`);
    writeFileSync(json, JSON.stringify({ ...JSON.parse(xorText), params: { "h.W": { shape: [1e9, 1e9], values: [1, 2] } } }));
    expect(alone(json)).toBe(`${json}: params["h.W"].values: expected 1000000000000000000 values for shape [1000000000, 1000000000], found 2`);
  });

  it("a tensor named __proto__ is converted like any other (not taken for the object's prototype)", () => {
    const path = join(dir, "proto.safetensors");
    writeFileSync(path, encodeSafetensors([{ name: "__proto__", dtype: "F64", shape: [2], values: [1, 2] }], META));
    const { raw, fields } = readWeights(path);
    const { file } = validateWeightsAlone(raw, path, fields);
    expect(Object.keys(file.params)).toEqual(["__proto__"]);
    expect(JSON.stringify(file.params)).toBe('{"__proto__":{"shape":[2],"values":[1,2]}}');
  });

  it("the encoder lays tensors out contiguously, pads the header to 8 bytes with spaces, and refuses the name __metadata__", () => {
    const bytes = encodeSafetensors([{ name: "a", dtype: "F64", shape: [2], values: [1, 2] }, { name: "b", dtype: "F32", shape: [], values: [0.5] }], { format: "x" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = Buffer.from(bytes.subarray(8, 8 + n)).toString();
    expect(text.trimEnd()).toBe('{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[],"data_offsets":[16,20]},"__metadata__":{"format":"x"}}');
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(bytes.length).toBe(8 + n + 20);
    expect(() => encodeSafetensors([{ name: "__metadata__", dtype: "F64", shape: [], values: [1] }], {})).toThrow(/__metadata__/);
  });
});

describe("the codec", () => {
  it("any corruption of a valid file loads or is a WeightsError: never another exception (2000 seeded mutations)", () => {
    const valid = toSafetensors(JSON.parse(xorText));
    const random = rng(11);
    const pick = (n: number) => Math.floor(random() * n);
    let refused = 0;
    for (let trial = 0; trial < 2000; trial++) {
      let bytes = Uint8Array.from(valid);
      const kind = trial % 4;
      // flip bytes (in the header half the time: that is where the structure is), cut, or extend
      if (kind === 0 || kind === 1) for (let k = 0; k <= pick(4); k++) bytes[kind === 0 ? pick(Math.min(bytes.length, 400)) : pick(bytes.length)] = pick(256);
      else if (kind === 2) bytes = bytes.subarray(0, pick(bytes.length));
      else bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + pick(16) }, () => pick(256))]);
      try {
        validateWeightsAlone(fromSafetensors(bytes, "m.safetensors"), "m.safetensors", SAFETENSORS_FIELDS);
      } catch (e) {
        if (!(e instanceof WeightsError)) throw new Error(`trial ${trial}: ${(e as Error).stack}`);
        expect((e as Error).message.startsWith("m.safetensors: ")).toBe(true);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it("imports no node: module, directly or through its imports (a browser can use it)", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      // type-only imports vanish when compiled
      for (const m of source.matchAll(/^import (?!type )[^;]*?from "([^"]+)"/gms)) {
        const spec = m[1]!;
        expect(spec.startsWith("node:") || !spec.startsWith("."), `${file} imports ${spec}`).toBe(false);
        visit(join(file, "..", spec.replace(/\.js$/, ".ts")));
      }
    };
    visit(join(ROOT, "runtime", "safetensors.ts"));
    expect(seen.size).toBeGreaterThan(1);
  });
});

/** The Python interpreter with torch: TORCH_PYTHON, else /usr/bin/python3 (CI installs python3-torch). */
const PYTHON = process.env.TORCH_PYTHON ?? "/usr/bin/python3";
function python(script: string, args: string[] = []): string {
  const r = spawnSync(PYTHON, ["-c", script, ...args], { encoding: "utf8", timeout: 120_000 });
  if (r.error || r.status !== 0) throw new Error(`${PYTHON} failed (python3-torch must be installed; TORCH_PYTHON names another interpreter): ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

describe("PyTorch", () => {
  it("reads a file PyTorch writes with struct and json (F64 and F32 tensors, padded header), as train.py does", () => {
    const path = join(dir, "torch.safetensors");
    const out = python(
      `
import json, struct, sys, torch
torch.manual_seed(7)
params = {"h.W": torch.randn(4, 2, dtype=torch.float64), "h.b": torch.randn(4, dtype=torch.float32),
          "o.W": torch.randn(1, 4, dtype=torch.float64), "o.b": torch.randn(1, dtype=torch.float32)}
header, blobs, offset = {}, [], 0
for name, t in params.items():
    data = t.contiguous().numpy().astype("<f8" if t.dtype == torch.float64 else "<f4").tobytes()
    header[name] = {"dtype": "F64" if t.dtype == torch.float64 else "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
norm = {"mean": {"x": [0.5, 0.25]}, "std": {"x": [0.5, 2.0]}}
header["__metadata__"] = {"format": "nnc-weights/1", "model": "xor", "normalization": json.dumps(norm), "training": json.dumps({"trainer": "pytorch"})}
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
print(json.dumps({k: [float(v) for v in t.double().flatten()] for k, t in params.items()}))
`,
      [path],
    );
    const expected = JSON.parse(out) as Record<string, number[]>;
    const { params, file } = loadWeights(path, xor);
    for (const [k, v] of Object.entries(expected)) expect(Array.from(params[k]!)).toEqual(v);
    expect(file.normalization).toEqual({ mean: { x: [0.5, 0.25] }, std: { x: [0.5, 2] } });
    expect(file.training).toEqual({ trainer: "pytorch" });
  });

  it("PyTorch reads the file nnc writes: the same values under the DSL names, and the metadata", () => {
    const path = join(dir, "for-torch.safetensors");
    const w = JSON.parse(xorText) as WeightsFile;
    saveWeights(path, w);
    const out = python(
      `
import json, struct, sys, torch
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
tensors = {}
for name, e in header.items():
    b, end = e["data_offsets"]
    tensors[name] = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + end]), dtype=torch.float64).reshape(e["shape"])
print(json.dumps({"order": list(tensors), "shapes": {k: list(t.shape) for k, t in tensors.items()},
                  "values": {k: t.flatten().tolist() for k, t in tensors.items()}, "normalization": json.loads(meta["normalization"]), "model": meta["model"]}))
`,
      [path],
    );
    const got = JSON.parse(out);
    expect(got.order).toEqual(Object.keys(w.params));
    for (const [k, p] of Object.entries(w.params)) {
      expect(got.shapes[k]).toEqual(p.shape);
      expect(got.values[k]).toEqual(p.values);
    }
    expect(got.normalization).toEqual(w.normalization);
    expect(got.model).toBe("xor");
  });
});
