#!/usr/bin/env node
// Rebuilds the shipped data files in this folder from the project's copies of the original
// datasets (see README.md here). Deterministic: the same input always gives the same bytes.
//
//   node examples/data/prepare.mjs [SOURCE]      # SOURCE defaults to /work/shared/data
//
// SOURCE must hold sklearn/digits.csv.gz, sklearn/iris.csv, sklearn/breast_cancer.csv and the
// four mnist/*-idx?-ubyte.gz files; their sha256 sums are checked before anything is written.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

const source = process.argv[2] ?? "/work/shared/data";
const out = dirname(fileURLToPath(import.meta.url));

const SOURCES = {
  "sklearn/digits.csv.gz": "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a",
  "sklearn/iris.csv": "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449",
  "sklearn/breast_cancer.csv": "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed",
  "mnist/train-images-idx3-ubyte.gz": "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
  "mnist/train-labels-idx1-ubyte.gz": "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
  "mnist/t10k-images-idx3-ubyte.gz": "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
  "mnist/t10k-labels-idx1-ubyte.gz": "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
};

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

for (const [file, sum] of Object.entries(SOURCES)) {
  const got = sha256(readFileSync(join(source, file)));
  if (got !== sum) {
    console.error(`prepare: ${join(source, file)} has sha256 ${got}, expected ${sum}; not the documented source file`);
    process.exit(1);
  }
}

/** Data lines of a CSV text (no empty last line). */
const dataLines = (text) => text.split("\n").filter((l) => l.trim() !== "");

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const written = [];
function write(name, lines) {
  writeFileSync(join(out, name), lines.join("\n") + "\n");
  written.push(name);
}

// ---- digits: stratified seeded 80/20 split ---------------------------------------------------
// For each class 0..9 in turn, its row indices are shuffled (Fisher-Yates, one mulberry32 stream
// with seed 20250101 shared by all classes), and the first round(0.2 · n_class) go to the test
// file. Both files keep the source's row order.
{
  const rows = dataLines(gunzipSync(readFileSync(join(source, "sklearn/digits.csv.gz"))).toString("ascii"));
  const byClass = Array.from({ length: 10 }, () => []);
  rows.forEach((line, i) => {
    const cells = line.split(",");
    if (cells.length !== 65) throw new Error(`digits row ${i + 1}: ${cells.length} fields`);
    byClass[Number(cells[64])].push(i);
  });
  const rand = mulberry32(20250101);
  const test = new Set();
  for (const idx of byClass) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.slice(0, Math.round(0.2 * idx.length)).forEach((i) => test.add(i));
  }
  const header = [...Array.from({ length: 64 }, (_, i) => `p${i}`), "label"].join(",");
  write("digits-train.csv", [header, ...rows.filter((_, i) => !test.has(i))]);
  write("digits-test.csv", [header, ...rows.filter((_, i) => test.has(i))]);
}

// ---- iris and breast cancer: replace sklearn's meta line with column names ---------------------
{
  const rows = dataLines(readFileSync(join(source, "sklearn/iris.csv"), "ascii"));
  if (rows[0] !== "150,4,setosa,versicolor,virginica") throw new Error(`iris: unexpected first line ${rows[0]}`);
  write("iris.csv", ["sepal_length,sepal_width,petal_length,petal_width,species", ...rows.slice(1)]);
  // a real regression problem for examples/regression.nn: petal width from petal length
  write("iris-petals.csv", ["petal_length,petal_width", ...rows.slice(1).map((r) => r.split(",").slice(2, 4).join(","))]);
}
{
  const rows = dataLines(readFileSync(join(source, "sklearn/breast_cancer.csv"), "ascii"));
  if (rows[0] !== "569,30,malignant,benign") throw new Error(`breast_cancer: unexpected first line ${rows[0]}`);
  const measures = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave_points", "symmetry", "fractal_dimension"];
  const names = ["mean", "se", "worst"].flatMap((kind) => measures.map((m) => `${kind}_${m}`));
  write("breast_cancer.csv", [[...names, "benign"].join(","), ...rows.slice(1)]);
}

// ---- MNIST: the four IDX files, byte for byte ------------------------------------------------
mkdirSync(join(out, "mnist"), { recursive: true });
for (const file of Object.keys(SOURCES).filter((f) => f.startsWith("mnist/"))) {
  rmSync(join(out, file), { force: true });
  copyFileSync(join(source, file), join(out, file));
  chmodSync(join(out, file), 0o644); // the source copies may be read-only
  written.push(file);
}

for (const name of written) {
  const bytes = readFileSync(join(out, name));
  console.log(`${sha256(bytes)}  ${name}  (${bytes.length} bytes)`);
}
