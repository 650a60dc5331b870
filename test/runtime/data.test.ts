import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import {
  applyNormalization,
  computeNormalization,
  CSV_CHUNK_BYTES,
  idxLabelsFile,
  loadByContent,
  loadDataset,
  loadIdxPair,
  parseCsv,
  parseIdx,
  splitDataset,
  subset,
} from "../../runtime/data/index.js";
import type { Dataset, DataShape } from "../../runtime/types.js";
import { dataError } from "../helpers/data-error.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const examples = join(root, "examples/data");
const tmp = mkdtempSync(join(tmpdir(), "nnc-data-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const arr = (a: Float64Array | Float32Array | undefined) => Array.from(a ?? []);


const xor: DataShape = { inputs: { x: [2] }, targets: { t: [] } };
const cls: DataShape = { inputs: { x: [2] }, targets: { t: [3] } };

describe("parseCsv: column mapping", () => {
  it("maps columns positionally: inputs then targets, row-major", () => {
    const shape: DataShape = { inputs: { a: [], b: [2, 2] }, targets: { t: [2] } };
    const ds = parseCsv("c1,c2,c3,c4,c5,c6,c7\n1,2,3,4,5,6,7\n8,9,10,11,12,13,14\n", "f.csv", shape);
    expect(ds.count).toBe(2);
    expect(arr(ds.inputs.a)).toEqual([1, 8]);
    expect(arr(ds.inputs.b)).toEqual([2, 3, 4, 5, 9, 10, 11, 12]);
    expect(arr(ds.targets.t)).toEqual([6, 7, 13, 14]);
  });

  it("maps columns by name (x_<i> for elements, bare name for scalars), in any order", () => {
    const ds = parseCsv("t,x_1,x_0\n1,20,10\n0,40,30\n", "f.csv", xor);
    expect(arr(ds.inputs.x)).toEqual([10, 20, 30, 40]);
    expect(arr(ds.targets.t)).toEqual([1, 0]);
  });

  it("uses positions when a single header name does not match (the shipped xor.csv)", () => {
    const ds = parseCsv("x1,x2,t\n0,1,1\n", "xor.csv", xor);
    expect(arr(ds.inputs.x)).toEqual([0, 1]);
    expect(arr(ds.targets.t)).toEqual([1]);
    const swapped = parseCsv("t,x_1,y\n5,6,7\n", "f.csv", xor); // 'y' is unknown: positional
    expect(arr(swapped.inputs.x)).toEqual([5, 6]);
    expect(arr(swapped.targets.t)).toEqual([7]);
  });

  it("reports a by-name header that lacks a column, or names one twice", () => {
    let e = dataError(() => parseCsv("x_0,t\n1,2\n", "f.csv", xor));
    expect(e.message).toBe("f.csv:1: the header names the model's columns but lacks x_1");
    e = dataError(() => parseCsv("x_0,x_1,x_0,t\n1,2,3,4\n", "f.csv", xor));
    expect([e.row, e.column]).toEqual([1, 3]);
    expect(e.message).toContain("'x_0' appears twice (also column 1)");
  });

  it("turns one integer class column into a one-hot vector target (positional and by name)", () => {
    const ds = parseCsv("a,b,label\n0.5,1,2\n1.5,2,0\n2.5,3,1\n", "f.csv", cls);
    expect(ds.count).toBe(3);
    expect(arr(ds.inputs.x)).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
    expect(arr(ds.targets.t)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    const named = parseCsv("t,x_0,x_1\n2,0.5,1\n", "f.csv", cls);
    expect(arr(named.targets.t)).toEqual([0, 0, 1]);
    expect(arr(named.inputs.x)).toEqual([0.5, 1]);
    // the full one-hot layout still works
    const full = parseCsv("a,b,c,d,e\n1,2,0,1,0\n", "f.csv", cls);
    expect(arr(full.targets.t)).toEqual([0, 1, 0]);
  });

  it("rejects a class label that is out of range or not an integer, naming row and column", () => {
    let e = dataError(() => parseCsv("a,b,label\n1,2,0\n1,2,3\n", "f.csv", cls));
    expect([e.file, e.row, e.column]).toEqual(["f.csv", 3, 3]);
    expect(e.message).toBe("f.csv:3:3: class label '3' is not valid: the target t[3] takes one integer class 0..2 in this column");
    e = dataError(() => parseCsv("a,b,label\n1,2,1.5\n", "f.csv", cls));
    expect([e.row, e.column]).toEqual([2, 3]);
    e = dataError(() => parseCsv("a,b,label\n1,2,-1\n", "f.csv", cls));
    expect([e.row, e.column]).toEqual([2, 3]);
  });

  it("handles CRLF, surrounding spaces, a missing final newline, blank lines and a BOM", () => {
    const ds = parseCsv("\uFEFF x_0 , x_1 ,t\r\n 1 , 2 ,3\r\n\r\n4,5 ,6", "f.csv", xor);
    expect(ds.count).toBe(2);
    expect(arr(ds.inputs.x)).toEqual([1, 2, 4, 5]);
    expect(arr(ds.targets.t)).toEqual([3, 6]);
    // blank lines still count as rows in messages
    const e = dataError(() => parseCsv("a,b,c\r\n1,2,3\r\n\r\n1,x,3\r\n", "f.csv", xor));
    expect([e.row, e.column]).toEqual([4, 2]);
  });

  it("accepts signs, decimals and exponents", () => {
    const ds = parseCsv("a,b,c\n-1.5,+2e-3,.25\n", "f.csv", xor);
    expect(arr(ds.inputs.x)).toEqual([-1.5, 0.002]);
    expect(arr(ds.targets.t)).toEqual([0.25]);
  });

  it("loads inputs only when the model's targets are not asked for", () => {
    const ds = parseCsv("a,b\n1,2\n", "f.csv", { inputs: { x: [2] }, targets: {} });
    expect(arr(ds.inputs.x)).toEqual([1, 2]);
    expect(ds.targets).toEqual({});
  });
});

describe("parseCsv: malformed files", () => {
  it("rejects an empty file", () => {
    for (const text of ["", "\n\n", "  \r\n"]) {
      const e = dataError(() => parseCsv(text, "empty.csv", xor));
      expect(e.message).toBe("empty.csv: the file is empty; expected a header line and data rows");
    }
  });

  it("rejects a header with no rows", () => {
    const e = dataError(() => parseCsv("a,b,c\n\n", "h.csv", xor));
    expect(e.message).toBe("h.csv: the file has a header but no data rows");
  });

  it("rejects a file without a header (numbers on the first line)", () => {
    const e = dataError(() => parseCsv("0,1,1\n1,0,1\n", "n.csv", xor));
    expect(e.row).toBe(1);
    expect(e.message).toContain("must start with a header line");
  });

  it("rejects ragged rows: too few cells and too many", () => {
    let e = dataError(() => parseCsv("a,b,c\n1,2,3\n1,2\n", "r.csv", xor));
    expect(e.message).toBe("r.csv:3:3: this row has 2 cells but the header has 3 columns (missing value)");
    e = dataError(() => parseCsv("a,b,c\n1,2,3,4,5\n", "r.csv", xor));
    expect(e.message).toBe("r.csv:2:4: this row has 5 cells but the header has 3 columns (extra value)");
    e = dataError(() => parseCsv("a,b,c\n1,2,3,\n", "r.csv", xor)); // a trailing comma is an extra cell
    expect([e.row, e.column]).toEqual([2, 4]);
  });

  it("rejects non-numeric and empty cells", () => {
    let e = dataError(() => parseCsv("a,b,c\n1,2,3\n1,abc,3\n", "v.csv", xor));
    expect(e.message).toBe("v.csv:3:2: 'abc' is not a number");
    e = dataError(() => parseCsv("a,b,c\n1,,3\n", "v.csv", xor));
    expect(e.message).toBe("v.csv:2:2: empty value in column 2; expected a number");
    e = dataError(() => parseCsv("a,b,c\n1,2, \n", "v.csv", xor));
    expect([e.row, e.column]).toEqual([2, 3]);
    for (const bad of ["NaN", "Infinity", "1e999", "0x10", "1,5".replace(",", ";"), "2..3"]) {
      e = dataError(() => parseCsv(`a,b,c\n1,2,${bad}\n`, "v.csv", xor));
      expect([e.row, e.column]).toEqual([2, 3]);
    }
    e = dataError(() => parseCsv("x_0,x_1,t\n1,2,oops\n", "v.csv", xor));
    expect(e.message).toBe("v.csv:2:3: 'oops' is not a number (column 't')");
  });

  it("explains a column count that fits neither layout", () => {
    const digits: DataShape = { inputs: { x: [64] }, targets: { t: [10] } };
    const header = Array.from({ length: 63 }, (_, i) => `c${i}`).join(",");
    const e = dataError(() => parseCsv(`${header}\n${Array(63).fill(0).join(",")}\n`, "d.csv", digits));
    expect(e.row).toBe(1);
    expect(e.message).toContain("the model needs 64 input values and 10 target values (or 1 class column); the file has 63 columns");
    const e2 = dataError(() => parseCsv("a,b,c,d\n1,2,3,4\n", "x.csv", xor));
    expect(e2.message).toBe("x.csv:1: the model needs 2 input values and 1 target value; the file has 4 columns (the model's values, in column order: x[2], t)");
  });
});

// ---- IDX ----------------------------------------------------------------------------------------

function idx(magic: number, dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
/** 3 images of 2 x 2 pixels and their labels */
const images = idx(0x803, [3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0]);
const labels = idx(0x801, [3], [2, 0, 1]);

describe("IDX", () => {
  it("parses a plain and a gzipped file", () => {
    for (const bytes of [images, new Uint8Array(gzipSync(images))]) {
      const f = parseIdx(bytes, "img");
      expect(f.dims).toEqual([3, 2, 2]);
      expect(Array.from(f.data)).toEqual([0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0]);
    }
    expect(parseIdx(labels, "lab").dims).toEqual([3]);
  });

  it("rejects a wrong magic number", () => {
    const e = dataError(() => parseIdx(idx(0x804, [3], [1, 2, 3]), "bad"));
    expect(e.message).toContain("magic number is 0x00000804; expected 0x00000803 (images) or 0x00000801 (labels)");
    dataError(() => parseIdx(new TextEncoder().encode("a,b\n1,2\n"), "csv"));
  });

  it("rejects a truncated file (data or header) and trailing bytes", () => {
    let e = dataError(() => parseIdx(images.subarray(0, images.length - 1), "img"));
    expect(e.message).toBe("img: truncated: the header says 3 x 2 x 2 bytes of data, so 28 bytes in all, but the file has 27");
    e = dataError(() => parseIdx(new Uint8Array(gzipSync(images.subarray(0, 10))), "img.gz"));
    expect(e.message).toContain("truncated");
    e = dataError(() => parseIdx(new Uint8Array([...labels, 9]), "lab"));
    expect(e.message).toContain("1 unexpected bytes after the data");
    e = dataError(() => parseIdx(gzipSync(images).subarray(0, 20), "cut.gz"));
    expect(e.message).toContain("cannot be decompressed");
  });

  const files = (name: string, img: Uint8Array, lab: Uint8Array | null) => {
    const imagesFile = join(tmp, `${name}-images-idx3-ubyte.gz`);
    writeFileSync(imagesFile, gzipSync(img));
    if (lab) writeFileSync(idxLabelsFile(imagesFile), lab);
    return imagesFile;
  };

  it("loads a pair: pixels / 255, labels one-hot or as a class index", () => {
    const f = files("ok", images, labels);
    expect(idxLabelsFile(f)).toBe(join(tmp, "ok-labels-idx1-ubyte.gz"));
    const ds = loadDataset(f, { inputs: { x: [4] }, targets: { t: [3] } });
    expect(ds.count).toBe(3);
    expect(arr(ds.inputs.x).slice(0, 4)).toEqual([0, 1, 0.2, 0.4]);
    expect(arr(ds.targets.t)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    const scalar = loadIdxPair(f, idxLabelsFile(f), { inputs: { img: [2, 2] }, targets: { y: [] } });
    expect(arr(scalar.targets.y)).toEqual([2, 0, 1]);
    const noTargets = loadDataset(files("nolabels", images, null), { inputs: { x: [4] }, targets: {} });
    expect(noTargets.count).toBe(3);
  });

  it("rejects a count mismatch, a wrong image size, a label out of range and a missing labels file", () => {
    let e = dataError(() => loadDataset(files("count", images, idx(0x801, [2], [0, 1])), { inputs: { x: [4] }, targets: { t: [3] } }));
    expect(e.message).toContain("has 2 labels but");
    expect(e.message).toContain("has 3 images; the counts must match");
    e = dataError(() => loadDataset(files("size", images, labels), { inputs: { x: [784] }, targets: { t: [10] } }));
    expect(e.message).toContain("the images are 2 x 2 = 4 pixels, but the model's input x[784] takes 784 values");
    e = dataError(() => loadDataset(files("range", images, labels), { inputs: { x: [4] }, targets: { t: [2] } }));
    expect(e.message).toContain("label 2 of sample 1 is out of range");
    e = dataError(() => loadDataset(files("missing", images, null), { inputs: { x: [4] }, targets: { t: [3] } }));
    expect(e.message).toContain("missing-labels-idx1-ubyte.gz is missing");
    e = dataError(() => loadDataset(join(tmp, "ok-labels-idx1-ubyte.gz"), { inputs: { x: [4] }, targets: { t: [3] } }));
    expect(e.message).toContain("this is an IDX labels file");
  });
});

// ---- loadDataset on files -----------------------------------------------------------------------

describe("loadDataset", () => {
  it("reads .csv and .csv.gz", () => {
    const text = "x_0,x_1,t\n1,2,3\n";
    writeFileSync(join(tmp, "a.csv"), text);
    writeFileSync(join(tmp, "a.csv.gz"), gzipSync(text));
    for (const f of ["a.csv", "a.csv.gz"]) expect(arr(loadDataset(join(tmp, f), xor).inputs.x)).toEqual([1, 2]);
    const e = dataError(() => loadDataset(join(tmp, "nope.csv"), xor));
    expect(e.message).toContain("cannot read the file: ENOENT");
  });

  it("loads the shipped digits-train.csv with one-hot targets", () => {
    const ds = loadDataset(join(examples, "digits-train.csv"), { inputs: { x: [64] }, targets: { t: [10] } });
    expect(ds.count).toBe(1438);
    expect(ds.inputs.x!.length).toBe(1438 * 64);
    const t = ds.targets.t!;
    const perClass = new Array(10).fill(0);
    for (let r = 0; r < ds.count; r++) {
      let sum = 0;
      for (let c = 0; c < 10; c++) {
        sum += t[r * 10 + c]!;
        perClass[c] += t[r * 10 + c]!;
      }
      expect(sum).toBe(1);
    }
    expect(perClass).toEqual([142, 146, 142, 146, 145, 146, 145, 143, 139, 144]);
    expect(Math.max(...ds.inputs.x!)).toBe(16);
    const test = loadDataset(join(examples, "digits-test.csv"), { inputs: { x: [64] }, targets: { t: [10] } });
    expect(test.count).toBe(359);
  });

  it("loads the shipped iris.csv and breast_cancer.csv", () => {
    const iris = loadDataset(join(examples, "iris.csv"), { inputs: { x: [4] }, targets: { t: [3] } });
    expect(iris.count).toBe(150);
    expect(arr(iris.inputs.x).slice(0, 4)).toEqual([5.1, 3.5, 1.4, 0.2]);
    const bc = loadDataset(join(examples, "breast_cancer.csv"), { inputs: { x: [30] }, targets: { t: [] } });
    expect(bc.count).toBe(569);
    expect(arr(bc.targets.t).filter((v) => v === 1).length).toBe(357);
  });

  it("loads the real MNIST test pair", () => {
    const ds = loadDataset(join(examples, "mnist/t10k-images-idx3-ubyte.gz"), { inputs: { x: [784] }, targets: { t: [10] } });
    expect(ds.count).toBe(10000);
    const x = ds.inputs.x!;
    expect(x.length).toBe(10000 * 784);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect([lo, hi]).toEqual([0, 1]);
    const t = ds.targets.t!;
    const first: number[] = [];
    for (let r = 0; r < ds.count; r++) {
      let sum = 0;
      for (let c = 0; c < 10; c++) sum += t[r * 10 + c]!;
      expect(sum).toBe(1);
      if (r < 10) first.push(t.subarray(r * 10, r * 10 + 10).indexOf(1));
    }
    expect(first).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });
});

// ---- streaming CSV files -------------------------------------------------------------------------

describe("loadDataset: CSV files are streamed in chunks", () => {
  /** 300 rows (so the arrays grow), with a BOM, CRLF, blank and whitespace-only lines, multi-byte
   * header names and a last line without a newline. */
  const text =
    "\uFEFF\r\n é_größe , ✓ ,\u{1F600}\r\n" +
    Array.from({ length: 300 }, (_, r) => `${r % 7 === 0 ? " \t\r\n\n" : ""}${r * 0.25}, ${-r}e-3 ,${r % 3}\r\n`).join("") +
    "1.5,2.5,2";
  const bytes = Buffer.from(text, "utf8");
  const file = join(tmp, "chunks.csv");
  writeFileSync(file, bytes);
  /** the chunk boundaries of this size (byte offsets) where `split(byte before, byte after)` holds */
  const boundaries = (size: number, split: (before: number, after: number) => boolean) =>
    Array.from({ length: Math.floor((bytes.length - 1) / size) }, (_, k) => (k + 1) * size).filter((at) => split(bytes[at - 1]!, bytes[at]!));
  const continuation = (b: number) => (b & 0xc0) === 0x80;

  it("gives parseCsv's data set whatever the chunk boundaries split", () => {
    for (const shape of [xor, cls]) {
      const whole = parseCsv(text, "chunks.csv", shape);
      expect(whole.count).toBe(301);
      for (const size of [1, 2, 3, 5, 7, 64, 1000]) expect(loadByContent(file, shape, size), `chunks of ${size} bytes`).toEqual(whole);
      expect(loadDataset(file, shape)).toEqual(whole);
    }
    // the boundaries of 3- and 7-byte chunks fall inside lines, between CR and LF, and inside
    // multi-byte characters
    for (const size of [3, 7]) {
      expect(boundaries(size, (a, b) => a !== 0x0a && b !== 0x0a).length).toBeGreaterThan(100);
      expect(boundaries(size, (a, b) => a === 0x0d && b === 0x0a).length).toBeGreaterThan(10);
      expect(boundaries(size, (_, b) => continuation(b)).length).toBeGreaterThan(0);
    }
    expect(bytes.length).toBeGreaterThan(1000);
  });

  it("streams a gzipped file's decompressed bytes the same way", () => {
    const gz = join(tmp, "chunks.csv.gz");
    writeFileSync(gz, gzipSync(bytes));
    const whole = parseCsv(text, "chunks.csv.gz", cls);
    for (const size of [1, 7, CSV_CHUNK_BYTES]) expect(loadByContent(gz, cls, size)).toEqual(whole);
  });

  it("reports an error on a late line with its line number and column, as parseCsv does", () => {
    const rows = Array.from({ length: 5000 }, (_, r) => (r === 4319 ? "1,café,0" : `${r},${r + 1},1`));
    const late = `a,b,c\n${rows.join("\n")}\n`;
    const f = join(tmp, "late.csv");
    writeFileSync(f, late);
    const expected = dataError(() => parseCsv(late, f, xor));
    expect([expected.row, expected.column]).toEqual([4321, 2]);
    expect(expected.message).toBe(`${f}:4321:2: 'café' is not a number`);
    for (const size of [1, 4, 7, CSV_CHUNK_BYTES]) {
      const e = dataError(() => loadByContent(f, xor, size));
      expect([e.message, e.row, e.column]).toEqual([expected.message, 4321, 2]);
    }
  });

  it("reports a directory, a missing file and one without rows", () => {
    expect(dataError(() => loadDataset(tmp, xor)).message).toBe(`${tmp}: is a directory; give a data file (.csv, .csv.gz, or an IDX images file)`);
    expect(dataError(() => loadDataset(join(tmp, "none.csv"), xor)).message).toBe(`${join(tmp, "none.csv")}: cannot read the file: ENOENT`);
    const empty = join(tmp, "empty.csv");
    writeFileSync(empty, "\uFEFF \r\n\r\n");
    expect(dataError(() => loadByContent(empty, xor, 1)).message).toBe(`${empty}: the file is empty; expected a header line and data rows`);
  });
});

// ---- normalization, split, subset ---------------------------------------------------------------

function synthetic(count: number): Dataset {
  const x = new Float64Array(count * 3);
  const t = new Float64Array(count);
  for (let r = 0; r < count; r++) {
    x[r * 3] = r * 1.5 - 7;
    x[r * 3 + 1] = Math.sin(r) * 100 + 1e6;
    x[r * 3 + 2] = 0.1; // constant
    t[r] = r;
  }
  return { count, inputs: { x }, targets: { t } };
}

describe("normalization", () => {
  it("standardizes every input element to mean 0 and std 1; a constant element stays finite", () => {
    const ds = synthetic(101);
    const norm = computeNormalization(ds);
    expect(norm.std.x![2]).toBe(1);
    expect(norm.mean.x![2]).toBe(0.1);
    const out = applyNormalization(ds, norm);
    expect(out.inputs.x).not.toBe(ds.inputs.x);
    expect(out.targets.t).toBe(ds.targets.t);
    expect(ds.inputs.x![0]).toBe(-7); // the input is left alone
    const x = out.inputs.x!;
    for (let k = 0; k < 3; k++) {
      let m = 0;
      let s = 0;
      for (let r = 0; r < out.count; r++) m += x[r * 3 + k]!;
      m /= out.count;
      for (let r = 0; r < out.count; r++) s += (x[r * 3 + k]! - m) ** 2;
      s = Math.sqrt(s / out.count);
      expect(Math.abs(m)).toBeLessThan(1e-9);
      if (k < 2) expect(s).toBeCloseTo(1, 9);
      else expect(s).toBe(0);
    }
    for (const v of x) expect(Number.isFinite(v)).toBe(true);
  });

  it("normalizes the digits (many all-zero pixels) without NaN", () => {
    const ds = loadDataset(join(examples, "digits-train.csv"), { inputs: { x: [64] }, targets: { t: [10] } });
    const out = applyNormalization(ds, computeNormalization(ds));
    expect(out.inputs.x!.every((v) => Number.isFinite(v))).toBe(true);
  });
});

describe("split and subset", () => {
  it("splits round(fraction · count) samples off, deterministically per seed, without overlap", () => {
    const ds = synthetic(101);
    const a = splitDataset(ds, 0.2, 42);
    expect(a.validation.count).toBe(20);
    expect(a.train.count).toBe(81);
    const ids = (d: Dataset) => arr(d.targets.t);
    const all = [...ids(a.train), ...ids(a.validation)].sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 101 }, (_, i) => i));
    const b = splitDataset(ds, 0.2, 42);
    expect(ids(b.validation)).toEqual(ids(a.validation));
    expect(arr(b.train.inputs.x)).toEqual(arr(a.train.inputs.x));
    expect(ids(splitDataset(ds, 0.2, 43).validation)).not.toEqual(ids(a.validation));
    expect(splitDataset(ds, 0.15, 1).validation.count).toBe(15);
    expect(splitDataset(ds, 0, 1).train.count).toBe(101);
    expect(() => splitDataset(ds, 1.5, 1)).toThrow(RangeError);
  });

  it("subset copies rows in the given order", () => {
    const ds = synthetic(5);
    const s = subset(ds, [4, 0, 4]);
    expect(s.count).toBe(3);
    expect(arr(s.targets.t)).toEqual([4, 0, 4]);
    expect(arr(s.inputs.x).slice(0, 3)).toEqual(arr(ds.inputs.x).slice(12, 15));
    expect(() => subset(ds, [5])).toThrow(RangeError);
  });
});
