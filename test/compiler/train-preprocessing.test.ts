/**
 * The train block's `normalize zscore | none | pca(k) | whiten | zca` and `augment shift(pixels)`
 * (compiler/semantics/train-block.ts), and their flags `--normalize` / `--augment`.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../compiler/pipeline.js";
import { augmentFlag, normalizeFlag } from "../../compiler/semantics/train-block.js";

const model = (settings: string) => `input x[4]
target t[2]
layer y = dense(x, 2, softmax)
loss cross_entropy(y, t)
train {
${settings}
}
`;

function block(settings: string) {
  const r = check(model(settings), { file: "m.nn" });
  return { train: r.model?.train ?? null, errors: r.diagnostics.list.filter((d) => d.severity === "error").map((d) => `${d.code}: ${d.message}`) };
}

describe("normalize", () => {
  it.each([
    ["zscore", "zscore"],
    ["none", "none"],
    ["whiten", "whiten"],
    ["zca", "zca"],
    ["pca(3)", { name: "pca", components: 3 }],
    ["pca(components = 2)", { name: "pca", components: 2 }],
  ] as const)("normalize %s", (text, want) => {
    expect(block(`normalize ${text}`)).toEqual({ train: { normalize: want }, errors: [] });
    expect(normalizeFlag(text)).toEqual({ value: want });
  });

  it.each(["pca", "pca(0)", "pca(2.5)", "pca(k = 2)", "pca(1, 2)", "minmax", "whiten(1)"])("refuses normalize %s, saying what is expected", (text) => {
    const r = block(`normalize ${text}`);
    expect(r.train).toBeNull();
    expect(r.errors.join("\n")).toMatch(/NN4004|NN2009/);
    expect(normalizeFlag(text)).toHaveProperty("error");
  });

  it("names every method in the message", () => {
    expect(block("normalize minmax").errors.join("\n")).toContain("zscore, none, pca(k), whiten or zca");
    expect(normalizeFlag("pca(0)")).toEqual({ error: expect.stringContaining("a positive whole number") });
  });
});

describe("augment", () => {
  it.each([
    ["shift", 2],
    ["shift(pixels = 3)", 3],
    ["shift(1)", 1],
    ["shift(0)", 0],
  ] as const)("augment %s", (text, pixels) => {
    expect(block(`augment ${text}`)).toEqual({ train: { augment: { name: "shift", args: { pixels } } }, errors: [] });
    expect(augmentFlag(text)).toEqual({ value: { name: "shift", args: { pixels } } });
  });

  it.each(["rotate", "shift(-1)", "shift(1.5)", "shift(pixels = 65)", "shift(dx = 1)", '"shift"'])("refuses augment %s", (text) => {
    const r = block(`augment ${text}`);
    expect(r.train).toBeNull();
    expect(r.errors.length).toBeGreaterThan(0);
  });

  it("--augment none turns it off; a bad flag says what is expected", () => {
    expect(augmentFlag("none")).toEqual({ value: null });
    expect(augmentFlag("flip")).toEqual({ error: "--augment flip: expected shift(pixels = 2) or none" });
  });
});
