/**
 * train.py reads the data as nnc train does: for the examples' data files (CSV by position with a
 * class column, by name, regression, gzipped MNIST IDX) and a CSV with named columns in another
 * order, the exported readers give the same arrays, the same seeded split into training and
 * validation samples, and the same normalization as runtime/data. One Python process reads them all.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportPyTorch } from "../../compiler/export/index.js";
import { check } from "../../compiler/pipeline.js";
import { columnNames, computeNormalization, loadDataset, splitDataset } from "../../runtime/data/index.js";
import type { Dataset } from "../../runtime/types.js";
import { ROOT } from "../helpers/corpus.js";
import { TORCH_PYTHON, torchProblem } from "../helpers/torch.js";

const CHECKER = join(import.meta.dirname, "check_train_data.py");

function checksums(arrays: Record<string, ArrayLike<number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(arrays).map(([k, v]) => {
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * ((i % 1009) + 1);
      return [k, s];
    }),
  );
}
const all = (ds: Dataset) => checksums({ ...ds.inputs, ...ds.targets });

function expectClose(a: Record<string, number>, b: Record<string, number>, what: string) {
  expect(Object.keys(a).sort(), what).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(b)) expect(Math.abs(a[k]! - b[k]!) / Math.max(1, Math.abs(b[k]!)), `${what}: ${k}`).toBeLessThan(1e-12);
}

/** one exported model and the data files read with it */
interface Case {
  readonly model: string;
  readonly files: { file: string; split: number | null; seed: number }[];
}

const scratch = mkdtempSync(join(tmpdir(), "nnc-torch-data-"));
// iris with its columns by name, in another order, the species as a class column
const irisByName = join(scratch, "iris-by-name.csv");
writeFileSync(irisByName, ["t," + [3, 1, 0, 2].map((i) => columnNames("x", [4])[i]).join(","), "2,0.5,1.5,2.5,3.5", "0,1,2,3,4", "1,-1,-2,-3,-4", ""].join("\n"));
const data = (f: string) => join(ROOT, "examples", "data", f);
// files train.py must refuse, with what it says
const irisHeader = columnNames("x", [4]).join(",");
const BAD_IRIS = (
  [
    ["label.csv", `${irisHeader},t\n1,2,3,4,7\n`, /row 2: class label '7' is not in 0\.\.2/],
    ["cell.csv", `${irisHeader},t\n1,2,oops,4,1\n`, /row 2: 'oops' is not a number/],
    ["lacks.csv", `${irisHeader},t_0,t_1\n1,2,3,4,0,1\n`, /lacks t_2/],
    ["infinite.csv", `${irisHeader},t\n1,2,inf,4,1\n`, /'inf' is not a finite number/],
  ] as const
).map(([name, text, message]) => {
  writeFileSync(join(scratch, name), text);
  return [join(scratch, name), message] as const;
});
const CASES: Case[] = [
  { model: "digits", files: [{ file: data("digits-train.csv"), split: 0.15, seed: 1 }] },
  { model: "iris", files: [{ file: data("iris.csv"), split: 0.2, seed: 5 }, { file: irisByName, split: null, seed: 1 }] },
  { model: "regression", files: [{ file: data("iris-petals.csv"), split: 0.3, seed: 2 }] },
  { model: "xor", files: [{ file: data("xor.csv"), split: null, seed: 1 }] },
  { model: "mnist", files: [{ file: data("mnist/t10k-images-idx3-ubyte.gz"), split: 0.1, seed: 3 }] },
];

/** every export read by one Python process (torch takes seconds to import) */
let results: unknown[][] = [];
beforeAll(() => {
  const problem = torchProblem();
  if (problem !== null) throw new Error(problem);
  const exports = CASES.map((c) => {
    const file = join(ROOT, "examples", `${c.model}.nn`);
    const { model } = check(readFileSync(file, "utf8"), { file });
    const dir = join(scratch, c.model);
    mkdirSync(dir, { recursive: true });
    for (const f of exportPyTorch(file, model!, dir, "test")) writeFileSync(f.path, f.text);
    return { dir, files: c.files, bad: c.model === "iris" ? BAD_IRIS.map(([file]) => file) : [] };
  });
  writeFileSync(join(scratch, "cases.json"), JSON.stringify(exports));
  const r = spawnSync(TORCH_PYTHON, [CHECKER, join(scratch, "cases.json")], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${CHECKER} failed (status ${r.status}):\n${r.stderr}`);
  results = JSON.parse(r.stdout);
}, 150_000);

describe("train.py's data readers against nnc's", () => {
  CASES.forEach((c, n) =>
    it(`${c.model}: ${c.files.map((f) => f.file.split("/").pop()).join(", ")}`, () => {
      const file = join(ROOT, "examples", `${c.model}.nn`);
      const { model } = check(readFileSync(file, "utf8"), { file });
      const shape = { inputs: Object.fromEntries(model!.inputs.map((t) => [t.name, [...t.shape]])), targets: Object.fromEntries(model!.targets.map((t) => [t.name, [...t.shape]])) };
      c.files.forEach((f, k) => {
        const ds = loadDataset(f.file, shape);
        const py = results[n]![k] as PyResult;
        expect(py.count).toBe(ds.count);
        expectClose(py.all, all(ds), "all samples");
        if (f.split === null) return;
        const parts = splitDataset(ds, f.split, f.seed);
        expectClose(py.train!, all(parts.train), "training part");
        expectClose(py.validation!, all(parts.validation), "validation part");
        const norm = computeNormalization(parts.train);
        for (const name of Object.keys(norm.mean)) {
          expect(py.normalization!.mean[name]).toHaveLength(norm.mean[name]!.length);
          norm.mean[name]!.forEach((m, i) => expect(Math.abs(py.normalization!.mean[name]![i]! - m), `mean ${i}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(m))));
          norm.std[name]!.forEach((s, i) => expect(Math.abs(py.normalization!.std[name]![i]! - s), `std ${i}`).toBeLessThan(1e-12 * Math.max(1, s)));
        }
      });
    }),
  );
});

interface PyResult {
  count: number;
  all: Record<string, number>;
  train?: Record<string, number>;
  validation?: Record<string, number>;
  normalization?: { mean: Record<string, number[]>; std: Record<string, number[]> };
}

describe("train.py's data errors", () => {
  const runTrain = (csv: string) => {
    const file = join(scratch, "bad.csv");
    writeFileSync(file, csv);
    return spawnSync(TORCH_PYTHON, [join(scratch, "iris", "train.py"), "--data", file, "--epochs", "1", "-o", join(scratch, "never.safetensors")], { encoding: "utf8", timeout: 60_000 });
  };
  const header = columnNames("x", [4]).join(",");

  it("says how many columns the model needs, without a traceback", () => {
    const r = runTrain("a,b,c\n1,2,3\n");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^train\.py: error: .*bad\.csv: the model needs 7 columns \(or 5 with a class column\), the file has 3$/m);
    expect(r.stderr).not.toMatch(/Traceback/);
  });

  it("names a class label out of range, a cell that is not a number, a missing column", () => {
    const n = CASES.findIndex((c) => c.model === "iris");
    BAD_IRIS.forEach(([file, message], k) => {
      const r = results[n]![CASES[n]!.files.length + k] as { error: string | null };
      expect(r.error, file).toMatch(message);
      expect(r.error).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
    });
  });
});
