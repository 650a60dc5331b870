/**
 * `nnc train --normalize METHOD --augment SPEC` end to end: augmentation of an IDX file's images
 * (declared x[36], laid out 6 × 6 by the file), refused for CSV vectors; whitening and pca(k)
 * stored in the weights and applied by `nnc predict`; the exports that cannot reproduce them say so.
 */
import { gzipSync } from "node:zlib";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";
import { ROOT } from "../helpers/corpus.js";

/** An IDX pair of 6 × 6 images: a vertical bar on the left (label 0) or the right (label 1). */
function writeIdx(dir: string, count: number): void {
  const images = new Uint8Array(16 + count * 36);
  const labels = new Uint8Array(8 + count);
  const iv = new DataView(images.buffer);
  iv.setUint32(0, 0x803);
  iv.setUint32(4, count);
  iv.setUint32(8, 6);
  iv.setUint32(12, 6);
  const lv = new DataView(labels.buffer);
  lv.setUint32(0, 0x801);
  lv.setUint32(4, count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    for (let y = 1; y < 5; y++) images[16 + i * 36 + y * 6 + (label ? 4 : 1)] = 200 + (i % 50);
    labels[8 + i] = label;
  }
  writeFileSync(join(dir, "bars-images-idx3-ubyte.gz"), gzipSync(images));
  writeFileSync(join(dir, "bars-labels-idx1-ubyte.gz"), gzipSync(labels));
}

const BARS = `input x[36]
target t[2]
layer h = dense(x, 8, relu)
layer y = dense(h, 2, softmax)
loss cross_entropy(y, t)
train {
  data "bars-images-idx3-ubyte.gz"
  normalize none
  augment shift(pixels = 1)
  optimizer adam(lr = 0.01)
  epochs 3
  batch 8
}
`;

describe("nnc train --augment and --normalize", () => {
  let dir: string;
  beforeAll(() => {
    requireBuiltCli();
    dir = scratchWithExamples("nnc-prep-");
    mkdirSync(join(dir, "data"));
    for (const f of ["digits-train.csv", "digits-test.csv"]) copyFileSync(join(ROOT, "examples", "data", f), join(dir, "data", f));
    writeIdx(dir, 64);
    writeFileSync(join(dir, "bars.nn"), BARS);
  });

  it("shifts an IDX file's images (a vector input laid out by the file), and the banner says so", () => {
    const r = runCli(["train", "bars.nn", "-o", "bars.json"], dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("augment shift(pixels = 1)");
    const again = runCli(["train", "bars.nn", "-o", "bars2.json"], dir);
    expect(JSON.parse(readFileSync(join(dir, "bars2.json"), "utf8")).params).toEqual(JSON.parse(readFileSync(join(dir, "bars.json"), "utf8")).params);
    const none = runCli(["train", "bars.nn", "--augment", "none", "-o", "bars3.json"], dir);
    expect(none.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "bars3.json"), "utf8")).params).not.toEqual(JSON.parse(readFileSync(join(dir, "bars.json"), "utf8")).params);
  });

  it("refuses augmentation of a CSV vector, and a bad --augment, with exit 1", () => {
    const r = runCli(["train", "digits.nn", "--augment", "shift(pixels = 2)", "--epochs", "1"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/shift moves images, and no input is one: x\[64\]/);
    const bad = runCli(["train", "digits.nn", "--augment", "rotate"], dir);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--augment rotate: expected shift(pixels = 2) or none");
  });

  it("whiten: stored in the weights (json and safetensors), applied by predict", () => {
    const t = runCli(["train", "digits.nn", "--normalize", "whiten", "--epochs", "3", "-o", "w.json"], dir);
    expect(t.status).toBe(0);
    expect(t.stdout).toContain("normalize whiten");
    const w = JSON.parse(readFileSync(join(dir, "w.json"), "utf8"));
    expect(w.normalization.method).toBe("whiten");
    expect(w.normalization.projection.x.length).toBe(64);
    const p = runCli(["predict", "digits.nn", "--weights", "w.json", "--data", "data/digits-test.csv", "-o", "p.csv"], dir);
    expect(p.status).toBe(0);
    expect(runCli(["convert-weights", "w.json", "w.safetensors"], dir).status).toBe(0);
    const q = runCli(["predict", "digits.nn", "--weights", "w.safetensors", "--data", "data/digits-test.csv", "-o", "q.csv"], dir);
    expect(q.status).toBe(0);
    expect(readFileSync(join(dir, "q.csv"), "utf8")).toBe(readFileSync(join(dir, "p.csv"), "utf8"));
  });

  it("pca(k): the model's input has k elements, the data file its own width", () => {
    writeFileSync(join(dir, "digits16.nn"), readFileSync(join(dir, "digits.nn"), "utf8").replace("input x[64]", "input x[16]").replace("train {", "train {\n  normalize pca(16)"));
    const t = runCli(["train", "digits16.nn", "--epochs", "3", "-o", "p16.json"], dir);
    expect(t.stderr).toBe("");
    expect(t.status).toBe(0);
    const w = JSON.parse(readFileSync(join(dir, "p16.json"), "utf8"));
    expect([w.normalization.projection.x.length, w.normalization.mean.x.length]).toEqual([16, 64]);
    expect(runCli(["predict", "digits16.nn", "--weights", "p16.json", "--data", "data/digits-test.csv", "-o", "p16.csv"], dir).status).toBe(0);
    const wrong = runCli(["train", "digits.nn", "--normalize", "pca(16)", "--epochs", "1"], dir);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("must have one input declared [16]; it has x[64]");
  });

  it("train.py refuses augmentation and pca/whiten/zca clearly; the ONNX export refuses a projection", () => {
    const r = runCli(["export", "bars.nn", "--format", "pytorch", "-o", "bars-torch"], dir);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("augment shift(pixels = 1) has no counterpart in train.py");
    expect(readFileSync(join(dir, "bars-torch", "train.py"), "utf8")).toContain("sys.exit(");
    expect(existsSync(join(dir, "bars-torch", "model.py"))).toBe(true);
    expect(runCli(["train", "digits.nn", "--normalize", "zca", "--epochs", "1", "-o", "z.json"], dir).status).toBe(0);
    const o = runCli(["export", "digits.nn", "--format", "onnx", "--weights", "z.json", "-o", "z.onnx"], dir);
    expect(o.status).toBe(1);
    expect(o.stderr).toContain("normalized with zca");
    expect(existsSync(join(dir, "z.onnx"))).toBe(false);
  });
});
