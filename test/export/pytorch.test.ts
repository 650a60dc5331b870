/**
 * The PyTorch export against nnc itself: for every golden model, the exported Model's loss and
 * torch.autograd gradient at nnc's parameters and a random batch equal nnc's gradientBatch to
 * 1e-10 (float64), its outputs equal predictBatch's, and its state_dict keys are the DSL
 * parameter names in the .nn file's order. One Python process checks every model (torch takes
 * seconds to import). PyTorch is Debian's python3-torch in the system interpreter
 * (`TORCH_PYTHON`, default /usr/bin/python3); .ci/run installs it, and without it this test fails.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportPyTorch } from "../../compiler/export/index.js";
import { emitModelPy } from "../../compiler/export/pytorch.js";
import { compile } from "../../compiler/pipeline.js";
import { loadModule } from "../../runtime/load-module.js";
import { mulberry32 } from "../../runtime/random.js";
import { setOf, validModels } from "../helpers/corpus.js";
import { TORCH_PYTHON, torchProblem } from "../helpers/torch.js";

const CHECKER = join(import.meta.dirname, "check_pytorch.py");
const TOLERANCE = 1e-10;
const COUNT = 5;

interface Result {
  keys: string[];
  parameters: string[];
  dtype: string;
  loss: number;
  lossError: number;
  grads: Record<string, number>;
  outputs: Record<string, number>;
  trainCompiles: boolean;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** Beyond the golden models: Python keywords as names (kept by get_parameter), dropout of a
 * parameter (a mask per sample), an output and a loss of the parameters alone (repeated per
 * sample), a file name with quotes and a backslash, and the ops below. */
const EXTRA = [
  {
    path: "keywords.nn",
    source: "input x[3]\ntarget t[2]\nlayer lambda = dense(x, 4, relu)\nlayer class = dense(lambda, 2, softmax)\nparam in ~ constant(1)\nloss cross_entropy(class, t) + sumsq(in * lambda.W)\n",
  },
  { path: "param-dropout.nn", source: "input x[2]\ntarget t\nparam a[2] ~ normal(0, 1)\nparam c ~ constant(0.5)\nd = dropout(a, 0.3)\nu = tanh(d) * c\noutput u\nloss sumsq(u) + (sum(x) * c - t)^2\n" },
  // a file name and line ends the Python must not take as code: quotes, a backslash, CRLF
  { path: 'we"""ird\\name.nn', source: "input x[2]\r\ntarget t\r\nparam w[2] ~ normal(0, 1)\r\ny = dot(w, x)\r\noutput y\r\nloss (y - t)^2\r\n" },
  // what the golden models' forward graphs do not reach: per-sample matrices (einsum, batched
  // transpose), a shared outer product, unfused cross-entropies (xlogy), sums over two axes
  {
    path: "matrices.nn",
    source:
      "input x[3]\ntarget t[3]\ntarget s\nparam W[3, 3] ~ normal(0, 0.5)\nparam a[3] ~ normal(0, 1)\nparam b[2] ~ normal(0, 1)\n" +
      "M = outer(x, tanh(W @ x))\nu = M @ x + transpose(M) @ a\nN = outer(a, b)\np = sigmoid(u) * 0.9 + 0.05\n" +
      "q = 0.5 * (tanh(sum(N) + dot(a, x)) + 1)\noutput u\n" +
      "loss cross_entropy(p, t) + binary_cross_entropy(q, s) + 0.1 * sum(M * M) + mean(transpose(M) @ W)\n",
  },
  { path: "param-only.nn", source: "input x[2]\ntarget t\nparam a[2] ~ normal(0, 1)\nb = exp(a)\noutput b\nloss sumsq(a - 1)\n" },
  // the image ops: F.conv2d with symmetric padding and with F.pad first (an even kernel's "same"),
  // strides, the expression form on a sliced kernel, both poolings with leftovers, slices with
  // indices, concatenation along each axis with a shared part (expanded to the batch), flatten
  {
    path: "image-ops.nn",
    source:
      "input x[2, 9, 8]\ntarget t[3]\nparam K[3, 4, 3, 3] ~ normal(0, 0.3)\nparam P[1, 5, 4] ~ normal(0, 0.5)\n" +
      'layer c1 = conv2d(x, 4, 2, relu, stride = 2, padding = "same")\nlayer c2 = conv2d(x, 3, 3, tanh, padding = "same")\n' +
      "z = conv2d(c1, K[:, 0:4, :, :], stride = 1, padding = 1)\nm = maxpool(c2, 2)\na = avgpool(c2, 3)\n" +
      "u = concat(flatten(z[0:2, 1:4, :]), z[2, 0, :], flatten(m))\ns = concat(P, c1[1:2, :, :], axis = 0)\n" +
      "h = concat(u, flatten(a), flatten(s))\n" +
      "layer y = dense(h, 3, softmax)\noutput z\nloss cross_entropy(y, t)\n",
  },
];
const models = [...validModels(), ...EXTRA];
let results: Result[] = [];
let expected: { params: string[]; outputs: string[] }[] = [];
const layout: { file: string; problems: string[] }[] = [];

/** The emitted Python's layout: 4-space indents, no tabs or trailing blanks, lines of at most 120 characters, a final newline. */
function layoutProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith("\n") || text.endsWith("\n\n")) problems.push("does not end in exactly one newline");
  text.split("\n").forEach((line, i) => {
    if (line.includes("\t")) problems.push(`line ${i + 1}: a tab`);
    if (/\s$/.test(line)) problems.push(`line ${i + 1}: trailing blanks`);
    if ([...line].length > 120) problems.push(`line ${i + 1}: ${[...line].length} characters`);
    if (/^ */.exec(line)![0].length % 4 !== 0) problems.push(`line ${i + 1}: indent not a multiple of 4`);
  });
  return problems;
}

beforeAll(async () => {
  const problem = torchProblem();
  if (problem !== null) throw new Error(problem);
  const root = mkdtempSync(join(tmpdir(), "nnc-export-"));
  const cases = [];
  for (const [k, e] of models.entries()) {
    const r = await compile(e.source, { file: e.path, set: setOf(e.source) });
    if (r.model === null) throw new Error(`${e.path} does not compile`);
    const mod = await loadModule(r.js!);
    const dir = join(root, String(k));
    mkdirSync(dir);
    for (const f of exportPyTorch(e.path, r.model!, dir, "test")) {
      writeFileSync(f.path, f.text);
      layout.push({ file: `${e.path} → ${f.path.split("/").pop()}`, problems: layoutProblems(f.text) });
    }
    // nnc's parameters, moved off the initializers' special points (zero biases)
    const random = mulberry32(11 + k);
    const params = mod.createParams();
    mod.initParams(params, 7);
    for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.5 * (random() - 0.5);
    const batch = (shapes: Record<string, number[]>, lo: number, hi: number) =>
      Object.fromEntries(Object.entries(shapes).map(([name, s]) => [name, Float64Array.from({ length: COUNT * size(s) }, () => lo + (hi - lo) * random())]));
    const inputs = batch(mod.meta.inputs, -1, 1);
    const targets = batch(mod.meta.targets, 0.05, 0.95);
    const grad = mod.createParams();
    const loss = mod.gradientBatch(params, inputs, targets, COUNT, grad);
    const outputs = Object.fromEntries(Object.entries(mod.meta.outputs).map(([name, s]) => [name, new Float64Array(COUNT * size(s))]));
    mod.predictBatch(params, inputs, COUNT, outputs);
    const list = (m: Record<string, ArrayLike<number>>) => Object.fromEntries(Object.entries(m).map(([name, v]) => [name, Array.from(v)]));
    cases.push({ dir, params: list(params), inputs: list(inputs), targets: list(targets), loss, grads: list(grad), outputs: list(outputs) });
    expected.push({ params: Object.keys(mod.meta.params), outputs: Object.keys(mod.meta.outputs) });
  }
  writeFileSync(join(root, "cases.json"), JSON.stringify(cases));
  const run = spawnSync(TORCH_PYTHON, [CHECKER, join(root, "cases.json")], { encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) throw new Error(`${TORCH_PYTHON} ${CHECKER} failed (status ${run.status}):\n${run.stderr}`);
  results = JSON.parse(run.stdout) as Result[];
  expected = expected.slice();
}, 180_000);

describe("nnc export --format pytorch: model.py against gradientBatch", () => {
  for (const [k, e] of models.entries())
    it(e.path, () => {
      const r = results[k]!;
      expect(r.dtype).toBe("torch.float64");
      // the exact DSL names, in the .nn file's order
      expect(r.parameters).toEqual(expected[k]!.params);
      expect([...r.keys].sort()).toEqual([...expected[k]!.params].sort());
      expect(r.lossError, `loss ${r.loss}`).toBeLessThan(TOLERANCE);
      expect(Object.keys(r.grads).sort()).toEqual([...expected[k]!.params].sort());
      for (const [name, err] of Object.entries(r.grads)) expect(err, `∂loss/∂${name}`).toBeLessThan(TOLERANCE);
      expect(Object.keys(r.outputs)).toEqual(expected[k]!.outputs);
      for (const [name, err] of Object.entries(r.outputs)) expect(err, `output ${name}`).toBeLessThan(TOLERANCE);
    });
});

describe("exported model.py", () => {
  it("is laid out readably, as is train.py", () => {
    expect(layout.filter((l) => l.problems.length > 0)).toEqual([]);
    expect(layout.length).toBe(2 * models.length);
  });

  it("and train.py compile under Python", () => {
    for (const r of results) expect(r.trainCompiles).toBe(true);
  });

  it("is deterministic", async () => {
    const e = models.find((m) => m.path === "examples/digits.nn")!;
    const a = await compile(e.source, { file: e.path });
    expect(emitModelPy(a.model!, { file: e.path, version: "t" })).toBe(emitModelPy(a.model!, { file: e.path, version: "t" }));
  });
});
