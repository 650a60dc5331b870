/**
 * `nnc export --format onnx`: the exported graph, run by onnxruntime-web (WebAssembly, in Node),
 * predicts what the emitted module's predictBatch predicts, to 1e-6, for every golden model at
 * random parameters, random raw inputs and a random stored normalization; every IR op has a
 * mapping checked against the IR interpreter; the exporter's user errors are clear.
 */
import { afterAll, describe, expect, it } from "vitest";
import { exportOnnx, OnnxExportError, type ExportWeights } from "../../compiler/export/onnx.js";
import type { NodeId } from "../../compiler/ir/graph.js";
import { interpret } from "../../compiler/ir/interpret.js";
import type { OpKind } from "../../compiler/ir/op-kinds.js";
import { numel } from "../../compiler/ir/shape.js";
import { check, compile } from "../../compiler/pipeline.js";
import type { Model } from "../../compiler/semantics/model.js";
import { applyNormalization } from "../../runtime/data/index.js";
import { loadModule } from "../../runtime/load-module.js";
import type { Normalization } from "../../runtime/types.js";
import { setOf, validModels } from "../helpers/corpus.js";
import { decodeOnnx, runOnnx } from "../helpers/onnxruntime.js";
import { randomParams, rng } from "../helpers/random.js";

/** what the issue asks: |onnx − nnc| ≤ 1e-6 · max(1, |nnc|) */
const TOLERANCE = 1e-6;
const PRODUCER = { name: "nnc", version: "test", source: "test.nn" };

function error(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
}

/** raw inputs, [count, …shape] each, uniform in [−2, 2) */
function rawInputs(model: Model, count: number, seed: number): Record<string, Float64Array> {
  const random = rng(seed);
  return Object.fromEntries(model.inputs.map((t) => [t.name, Float64Array.from({ length: count * numel(t.shape) }, () => 4 * random() - 2)]));
}

function randomNormalization(model: Model, seed: number): Normalization {
  const random = rng(seed);
  const stats = (f: () => number) => Object.fromEntries(model.inputs.map((t) => [t.name, Array.from({ length: numel(t.shape) }, f)]));
  return { mean: stats(() => 2 * random() - 1), std: stats(() => 0.5 + 1.5 * random()) };
}

const feeds = (model: Model, raw: Record<string, Float64Array>, count: number) =>
  Object.fromEntries(model.inputs.map((t) => [t.name, { data: raw[t.name]!, dims: [count, ...t.shape] }]));

describe("onnxruntime predicts like the emitted module", () => {
  const worst: Record<string, number> = {};
  for (const e of validModels())
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path, set: setOf(e.source) });
      const model = r.model!;
      const mod = await loadModule(r.js!);
      const params = randomParams(mod, 11);
      const count = 5;
      const raw = rawInputs(model, count, 12);
      const normalization = randomNormalization(model, 13);
      // nnc predict: z-score with the stored statistics, then predictBatch
      const normalized = applyNormalization({ count, inputs: raw, targets: {} }, normalization).inputs;
      const expected = Object.fromEntries(Object.entries(mod.meta.outputs).map(([k, s]) => [k, new Float64Array(count * numel(s))]));
      mod.predictBatch(params, normalized, count, expected);

      const onnx = exportOnnx(model, { params, normalization }, PRODUCER);
      const actual = await runOnnx(onnx.bytes, feeds(model, raw, count));
      expect(Object.keys(actual).sort()).toEqual(model.outputs.map((o) => o.name).sort());
      let w = 0;
      for (const [k, s] of Object.entries(mod.meta.outputs)) {
        expect(actual[k]!.dims).toEqual([count, ...s]);
        const want = expected[k]!;
        expect(want.every(Number.isFinite), `${k}: the reference is finite`).toBe(true);
        want.forEach((v, i) => (w = Math.max(w, error(actual[k]!.data[i]!, v))));
      }
      worst[e.path] = w;
      expect(w, `worst relative error of ${e.path}`).toBeLessThanOrEqual(TOLERANCE);
    });
  afterAll(() => console.log(`worst relative errors, onnxruntime against predictBatch:\n${Object.entries(worst).map(([k, v]) => `  ${k} ${v.toExponential(2)}`).join("\n")}`));
});

it("without a stored normalization, the graph takes the inputs as they are", async () => {
  const e = validModels().find((m) => m.path === "examples/iris.nn")!;
  const r = await compile(e.source, { file: e.path });
  const mod = await loadModule(r.js!);
  const params = randomParams(mod, 3);
  const raw = rawInputs(r.model!, 4, 4);
  const expected = { y: new Float64Array(4 * 3) };
  mod.predictBatch(params, raw, 4, expected);
  const out = await runOnnx(exportOnnx(r.model!, { params, normalization: null }, PRODUCER).bytes, feeds(r.model!, raw, 4));
  expected.y.forEach((v, i) => expect(error(out.y!.data[i]!, v)).toBeLessThanOrEqual(TOLERANCE));
});

describe("the graph reads like the model", () => {
  it("mnist-cnn: each convolution one MatMul of its W over the patches of the padded image, MaxPool, the layers' names", async () => {
    const e = validModels().find((m) => m.path === "examples/mnist-cnn.nn")!;
    const r = await compile(e.source, { file: e.path });
    const mod = await loadModule(r.js!);
    const m = decodeOnnx(exportOnnx(r.model!, { params: randomParams(mod, 1), normalization: null }, PRODUCER).bytes);
    expect(m.graph.initializer.filter((t) => t.name.includes(".")).map((t) => [t.name, t.dims.map(String)])).toEqual([
      ["c1.W", ["8", "1", "3", "3"]],
      ["c1.b", ["8"]],
      ["c2.W", ["16", "8", "3", "3"]],
      ["c2.b", ["16"]],
      ["h.W", ["64", "784"]],
      ["h.b", ["64"]],
      ["y.W", ["10", "64"]],
      ["y.b", ["10"]],
    ]);
    const ops = m.graph.node.map((n) => n.opType);
    const count = (op: string) => ops.filter((o) => o === op).length;
    // 9 taps per convolution, one MatMul each, the images padded once, two pools, two dense layers
    expect([count("Slice"), count("MatMul"), count("Pad"), count("MaxPool"), count("Gemm"), count("Softmax")]).toEqual([18, 2, 2, 2, 2, 1]);
    // the MatMuls' left operands: the kernels as [O, C·k²] matrices
    const producer = (name: string) => m.graph.node.find((n) => n.output.includes(name))!;
    expect(m.graph.node.filter((n) => n.opType === "MatMul").map((n) => producer(n.input[0]!).input[0])).toEqual(["c1.W", "c2.W"]);
    expect(m.graph.node.filter((n) => n.opType === "MaxPool").map((n) => n.docString)).toEqual(["line 9: layer p1 = maxpool(c1, 2)", "line 11: layer p2 = maxpool(c2, 2)"]);
  });
  it("iris: the z-score, a Gemm per layer, a Softmax; DSL names; each node's .nn line", async () => {
    const e = validModels().find((m) => m.path === "examples/iris.nn")!;
    const r = await compile(e.source, { file: e.path });
    const mod = await loadModule(r.js!);
    const onnx = exportOnnx(r.model!, { params: randomParams(mod, 1), normalization: randomNormalization(r.model!, 2) }, PRODUCER);
    const m = decodeOnnx(onnx.bytes);
    expect(String(m.irVersion)).toBe("8");
    expect(m.opsetImport.map((o) => [o.domain, String(o.version)])).toEqual([["", "17"]]);
    expect(m.producerName).toBe("nnc");
    expect(m.graph.name).toBe("iris");
    expect(m.graph.input.map((v) => v.name)).toEqual(["x"]);
    expect(m.graph.output.map((v) => v.name)).toEqual(["y"]);
    expect(m.graph.initializer.map((t) => [t.name, t.dims.map(String), t.dataType, t.rawData.length])).toEqual([
      ["x.mean", ["4"], 11, 32],
      ["x.std", ["4"], 11, 32],
      ["h.W", ["8", "4"], 11, 256],
      ["h.b", ["8"], 11, 64],
      ["y.W", ["3", "8"], 11, 192],
      ["y.b", ["3"], 11, 24],
    ]);
    expect(m.graph.node.map((n) => `${n.opType}(${n.input.join(", ")}) → ${n.output.join(", ")}`)).toEqual([
      "Sub(x, x.mean) → x/centred",
      "Div(x/centred, x.std) → x.normalized",
      "Gemm(x.normalized, h.W, h.b) → h_z",
      "Tanh(h_z) → h",
      "Gemm(h, y.W, y.b) → y_z",
      "Softmax(y_z) → y",
    ]);
    expect(m.graph.node[3]!.docString).toBe("line 4: layer h = dense(x, 8, tanh)");
    // the weights are the parameters' values, float64 little-endian
    const hW = m.graph.initializer.find((t) => t.name === "h.W")!.rawData;
    expect(Array.from(new Float64Array(Uint8Array.from(hW).buffer))).toEqual(Array.from(randomParams(mod, 1)["h.W"]!));
  });

  it("a parameter keeps its name where a layer's value would take it", async () => {
    // layer h names its pre-activation h_z; the parameter h_z, declared later, keeps its own name
    const source = "input x[2]\ntarget t\nlayer h = dense(x, 2, tanh)\nparam h_z[2]\ny = dot(h, h_z)\noutput y\nloss (y - t)^2";
    const { model } = check(source, { file: "n.nn" });
    const params = { "h.W": Float64Array.of(1, 2, 3, 4), "h.b": Float64Array.of(0.5, -0.5), h_z: Float64Array.of(2, 3) };
    const onnx = exportOnnx(model!, { params, normalization: null }, PRODUCER);
    const m = decodeOnnx(onnx.bytes);
    const names = m.graph.initializer.map((t) => t.name);
    expect(names.filter((n) => n.startsWith("h")).sort()).toEqual(["h.W", "h.b", "h_z"]);
    const hz = m.graph.initializer.find((t) => t.name === "h_z")!.rawData;
    expect(Array.from(new Float64Array(Uint8Array.from(hz).buffer))).toEqual([2, 3]);
    // the layer's pre-activation takes the next free name
    expect(m.graph.node.map((n) => n.output[0])).toContain("h_z_2");
    const out = await runOnnx(onnx.bytes, { x: { data: Float64Array.of(1, -1), dims: [1, 2] } });
    // h = tanh(W x + b) = tanh([1 − 2 + 0.5, 3 − 4 − 0.5]); y = h · h_z
    expect(out.y!.data[0]).toBeCloseTo(2 * Math.tanh(-0.5) + 3 * Math.tanh(-1.5), 14);
  });
});

/**
 * Every op of the IR, batched and shared (a parameter's value, no batch axis) where that matters,
 * as extra outputs of one model, against the IR interpreter sample by sample. The table is a
 * Record<OpKind, …>: an op added to the IR fails to compile here until it is covered.
 */
describe("every IR op", () => {
  const source = `
input x[3]
input u[2]
input im[2, 6, 7]
target t
param A[2, 3] ~ normal(0, 0.5)
param K[3, 2, 3, 3] ~ normal(0, 0.5)
param K2[2, 3, 2, 2] ~ normal(0, 0.5)
param P[3, 3] ~ normal(0, 0.5)
param w[3] ~ uniform(0.1, 0.9)
param s ~ constant(0.7)
loss (sum(A @ x) + sum(P @ x) + dot(w, x) + s * sum(u) + sum(im) + sum(K) + sum(K2) - t)^2`;
  const { model } = check(source, { file: "ops.nn" });
  type Build = (m: Model, add: (op: OpKind, inputs: NodeId[], attrs?: object) => NodeId) => NodeId | null;
  const node = (name: string) => (m: Model) => [...m.inputs, ...m.params].find((t) => t.name === name)!.node;
  const x = node("x"), u = node("u"), A = node("A"), P = node("P"), w = node("w"), s = node("s");
  const im = node("im"), K = node("K"), K2 = node("K2");
  /** at = [stride, top, left, bottom, right] (ir/conv.ts) */
  const conv = (m: Model, add: Parameters<Build>[1], image: NodeId, kernel: NodeId, at: number[]) => add("conv2d", [image, kernel], { at });
  /** a matrix per sample: outer(u, x), [2, 3] */
  const M = (m: Model, add: Parameters<Build>[1]) => add("outer", [u(m), x(m)]);
  const CASES: Record<OpKind, Build> = {
    input: (m) => x(m),
    param: (m) => A(m),
    const: (m) => m.graph.c(2.5, [3]),
    target: () => null, // no output may depend on a target (NN2020)
    dropout_mask: () => null, // training mode only
    direction: () => null, // Hessian-vector products only
    neg: (m, add) => add("neg", [x(m)]),
    exp: (m, add) => add("exp", [x(m)]),
    log: (m, add) => add("log", [add("abs", [x(m)])]),
    sqrt: (m, add) => add("sqrt", [add("abs", [x(m)])]),
    abs: (m, add) => add("abs", [x(m)]),
    sign: (m, add) => add("sign", [x(m)]),
    tanh: (m, add) => add("tanh", [x(m)]),
    sigmoid: (m, add) => add("sigmoid", [x(m)]),
    relu: (m, add) => add("relu", [x(m)]),
    softplus: (m, add) => add("softplus", [add("mul", [m.graph.c(20), x(m)])]),
    leaky_relu: (m, add) => add("leaky_relu", [x(m)], { num: 0.2 }),
    elu: (m, add) => add("elu", [x(m)], { num: 0.7 }),
    pow: (m, add) => add("pow", [add("abs", [x(m)])], { num: 1.5 }),
    // a dense layer's pre-activation, one Gemm with the shared A·w as its bias
    add: (m, add) => add("add", [add("matmul", [A(m), x(m)]), add("matmul", [A(m), w(m)])]),
    // a per-sample scalar against a shared vector: [N] is unsqueezed to [N, 1]
    sub: (m, add) => add("sub", [add("sum", [x(m)]), w(m)]),
    mul: (m, add) => add("mul", [add("sum", [u(m)]), M(m, add)]),
    div: (m, add) => add("div", [x(m), add("add", [s(m), m.graph.c(1)])]),
    max: (m, add) => add("max", [x(m), w(m)]),
    min: (m, add) => add("min", [x(m), add("sum", [u(m)])]),
    gt_select: (m, add) => add("gt_select", [x(m), w(m), add("exp", [x(m)]), add("sum", [u(m)])]),
    ge_select: (m, add) => add("ge_select", [add("sum", [u(m)]), s(m), w(m), x(m)]),
    // shared matrix · per-sample vector (Gemm), per-sample matrix · per-sample vector, per-sample
    // matrix · shared matrix, shared · shared
    matmul: (m, add) =>
      add("add", [
        add("add", [add("matmul", [A(m), x(m)]), add("matmul", [M(m, add), x(m)])]),
        add("add", [add("sum", [add("matmul", [M(m, add), P(m)])]), add("sum", [add("matmul", [A(m), P(m)])])]),
      ]),
    transpose: (m, add) => add("add", [add("transpose", [M(m, add)]), add("transpose", [A(m)])]),
    outer: (m, add) => add("add", [add("outer", [w(m), u(m)]), add("outer", [x(m), add("matmul", [A(m), w(m)])])]),
    sum: (m, add) => add("sum", [M(m, add)]),
    broadcast: (m, add) => add("broadcast", [add("sum", [x(m)])], { shape: [2, 3] }),
    index: (m, add) => add("add", [add("index", [M(m, add)], { at: [1, 2] }), add("index", [A(m)], { at: [0, 1] })]),
    unindex: (m, add) => add("unindex", [add("sum", [x(m)])], { at: [1, 0], shape: [2, 3] }),
    logsumexp: (m, add) => add("logsumexp", [add("mul", [m.graph.c(300), x(m)])]),
    cross_entropy: (m, add) => add("cross_entropy", [add("sigmoid", [x(m)]), add("relu", [x(m)])]),
    binary_cross_entropy: (m, add) => add("binary_cross_entropy", [add("sigmoid", [x(m)]), add("sigmoid", [add("neg", [x(m)])])]),
    dropout: (m, add) => add("dropout", [x(m)], { num: 0.5 }),
    // stride 1 with "same" padding, then an even kernel of stride 2 with asymmetric padding; a
    // convolution of the parameters alone (no batch axis) added to it
    conv2d: (m, add) => {
      const h = add("relu", [conv(m, add, im(m), K(m), [1, 1, 1, 1, 1])]);
      const y = conv(m, add, h, K2(m), [2, 0, 0, 1, 1]);
      // K[0] as a [2, 3, 3] image: no batch axis
      const shared = conv(m, add, add("slice", [K(m)], { at: [0, 1, 1, 0, 2, 0, 0, 3, 0, 0, 3, 0] }), K(m), [1, 1, 1, 1, 1]);
      return add("add", [y, add("sum", [shared])]);
    },
    conv2d_backward_input: () => null, // training graphs only
    conv2d_backward_weight: () => null,
    maxpool: (m, add) => add("maxpool", [im(m)], { at: [2] }), // 7 columns: the last is not read
    maxpool_backward: () => null,
    maxpool_gather: () => null,
    avgpool: (m, add) => add("add", [add("avgpool", [im(m)], { at: [3] }), add("sum", [add("avgpool", [add("slice", [K(m)], { at: [0, 1, 1, 0, 2, 0, 0, 3, 0, 0, 3, 0] })], { at: [2] })])]),
    avgpool_backward: () => null,
    // an index drops its axis; the batched and the shared forms
    slice: (m, add) => add("add", [add("slice", [im(m)], { at: [1, 2, 1, 0, 3, 0, 2, 4, 0] }), add("slice", [K(m)], { at: [0, 3, 0, 1, 2, 1, 2, 3, 1, 1, 3, 0] })]),
    unslice: (m, add) => add("unslice", [add("slice", [im(m)], { at: [1, 2, 1, 0, 4, 0, 2, 7, 0] })], { at: [1, 2, 1, 0, 4, 0, 2, 7, 0], shape: [2, 6, 7] }),
    // a shared part gets the batch axis; axis 0, then axis 2
    concat: (m, add) => add("concat", [add("concat", [im(m), m.graph.c(0.5, [1, 6, 7])], { at: [0] }), conv(m, add, im(m), K(m), [1, 1, 1, 1, 1])], { at: [2] }),
    reshape: (m, add) => add("add", [add("reshape", [im(m)], { shape: [6, 14] }), add("sum", [add("reshape", [K(m)], { shape: [54] })])]),
  };

  /** the adjoints of the image ops: in training graphs only */
  const TRAINING_ONLY = ["conv2d_backward_input", "conv2d_backward_weight", "maxpool_backward", "maxpool_gather", "avgpool_backward"];
  for (const [op, build] of Object.entries(CASES) as [OpKind, Build][])
    it(op, async () => {
      const g = model!.graph.copy();
      const m: Model = { ...model!, graph: g };
      const root = build(m, (kind, inputs, attrs = {}) => g.add(kind, inputs, attrs));
      if (root === null) return expect(["target", "dropout_mask", "direction", ...TRAINING_ONLY]).toContain(op);
      const outputs = [{ name: `out_${op}`, node: root }];
      const random = rng(5);
      const params = Object.fromEntries(m.params.map((p) => [p.name, Float64Array.from({ length: numel(p.shape) }, () => 2 * random() - 1)]));
      params.w = params.w!.map((v) => 0.5 * v); // w and x differ: the selects take both branches
      const count = 6;
      const raw = rawInputs(m, count, 6);
      const onnx = exportOnnx({ ...m, outputs }, { params, normalization: null }, PRODUCER);
      if (op === "add") expect(decodeOnnx(onnx.bytes).graph.node.filter((n) => n.opType === "Gemm").map((n) => n.input.length)).toEqual([3]);
      const actual = (await runOnnx(onnx.bytes, feeds(m, raw, count)))[`out_${op}`]!;
      const shape = g.shape(root);
      expect(actual.dims).toEqual([count, ...shape]);
      for (let n = 0; n < count; n++) {
        const leaves: Record<string, Float64Array> = { ...params, t: Float64Array.of(0) };
        for (const t of m.inputs) leaves[t.name] = raw[t.name]!.subarray(n * numel(t.shape), (n + 1) * numel(t.shape));
        const want = interpret(g, [root], { leaves }).get(root)!.data;
        want.forEach((v, i) => {
          expect(Number.isFinite(v)).toBe(true);
          expect(error(actual.data[n * want.length + i]!, v), `sample ${n}, element ${i}`).toBeLessThanOrEqual(TOLERANCE);
        });
      }
    });
});

describe("user errors", () => {
  const source = "input x[2]\ntarget t\nparam w[2]\ny = dot(w, x)\noutput y\nloss (y - t)^2";
  const model = () => check(source, { file: "m.nn" }).model!;
  const params = { w: Float64Array.of(1, 2) };

  it("weights without a parameter", () => {
    expect(() => exportOnnx(model(), { params: {}, normalization: null }, PRODUCER)).toThrow(new OnnxExportError("the weights have no values of shape [2] for the parameter 'w'"));
  });
  it("a normalization without an input's statistics", () => {
    const weights: ExportWeights = { params, normalization: { mean: {}, std: {} } };
    expect(() => exportOnnx(model(), weights, PRODUCER)).toThrow(/no statistics of 2 finite numbers for the input 'x'/);
    // as a hand-edited weights file may have them
    for (const normalization of [{ mean: { x: [0, "1"] }, std: { x: [1, 1] } }, { mean: { x: [0, 0] }, std: { x: [1, null] } }, { mean: 3, std: "s" }, { mean: { x: [0] }, std: { x: [1] } }])
      expect(() => exportOnnx(model(), { params, normalization } as unknown as ExportWeights, PRODUCER)).toThrow(OnnxExportError);
  });
  it("an output named like an input or a parameter", () => {
    const m = model();
    expect(() => exportOnnx({ ...m, outputs: [{ name: "x", node: m.inputs[0]!.node }] }, { params, normalization: null }, PRODUCER)).toThrow(/the output 'x' is an input/);
    expect(() => exportOnnx({ ...m, outputs: [{ name: "w", node: m.params[0]!.node }] }, { params, normalization: null }, PRODUCER)).toThrow(/the output 'w' is a parameter/);
  });
  it("an op with no place in an inference graph names the op and the line", () => {
    const m = model();
    const mask = m.graph.raw("dropout_mask", [], { num: 0.5, shape: [2], ref: "0" });
    const y = m.graph.add("mul", [m.inputs[0]!.node, mask]);
    expect(() => exportOnnx({ ...m, outputs: [{ name: "z", node: y }] }, { params, normalization: null }, PRODUCER)).toThrow(/the op 'dropout_mask' of .* cannot be exported to ONNX/);
  });
});
