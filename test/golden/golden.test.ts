/**
 * Golden files: the emitted module of every example and case, and the rendered diagnostics of
 * every bad source, compared byte for byte with test/baselines. `npm run test:accept` rewrites
 * them after a deliberate change (review the git diff). A baseline without a case fails.
 * Golden modules are also executed: loaded, gradient-checked, and type-checked under strict.
 * Every model compiled with --precision f32 is checked against its f64 module's text (only the
 * array type differs) and type-checked; one of them is a golden file of its own.
 */
import { describe, expect, it } from "vitest";
import { typeCheck } from "../helpers/type-check.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { compile } from "../../compiler/pipeline.js";
import { gradCheck, precisionCheck } from "../../runtime/gradcheck.js";
import { loadModule } from "../../runtime/load-module.js";
import { baselineFiles, compareBaseline, PYTORCH, SCHEDULES } from "../helpers/baselines.js";
import { invalidModels, setOf, validModels } from "../helpers/corpus.js";

const valid = validModels();
const invalid = invalidModels();

describe("golden modules", () => {
  for (const e of valid)
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path, set: setOf(e.source) });
      expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
      compareBaseline(`${e.key}.ts`, r.ts!);
      // the same input gives the same bytes
      const again = await compile(e.source, { file: e.path, set: setOf(e.source) });
      expect(again.ts).toBe(r.ts);
      // it loads, and its gradient is right
      const mod = await loadModule(r.js!);
      const check = gradCheck(mod, { seed: 3, elements: 40 });
      expect(check.worst, JSON.stringify(check.params)).toBeLessThan(1e-6);
      expect(typeCheck(r.ts!).errors).toEqual([]);
    });
});

/** the models whose wasm module is a golden file too (every model's is executed and checked) */
const WASM_GOLDEN = new Set(["examples/digits", "examples/mnist"]);

describe("golden modules, --target wasm", () => {
  for (const e of valid)
    it(e.path, async () => {
      const options = { file: e.path, set: setOf(e.source), target: "wasm" } as const;
      const r = await compile(e.source, options);
      expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
      if (WASM_GOLDEN.has(e.key)) compareBaseline(`wasm/${e.key}.ts`, r.ts!);
      expect((await compile(e.source, options)).ts).toBe(r.ts);
      const mod = await loadModule(r.js!);
      const check = gradCheck(mod, { seed: 3, elements: 40 });
      expect(check.worst, JSON.stringify(check.params)).toBeLessThan(1e-6);
      expect(typeCheck(r.ts!).errors).toEqual([]);
    });
});

/** The f32 modules kept as golden files (under examples-f32/); the others are checked against their f64 module. */
const F32_GOLDEN = new Set(["examples/digits"]);
const f32Key = (key: string) => key.replace(/^examples\//, "examples-f32/");

/**
 * What --precision f32 may change in a module: the array type (Float32Array has as many letters as
 * Float64Array, so prettier lays the text out the same), meta.precision, and two header lines.
 * lossTotal, the loss summed over a batch, stays a Float64Array.
 */
function asF32(f64: string): string {
  const once = (text: string, from: string, to: string) => {
    expect(text.split(from).length, `the f64 module has one ${JSON.stringify(from)}`).toBe(2);
    return text.replace(from, to);
  };
  const header = "// Parameter tensors are row-major Float32Arrays; W[out, in], so z = W @ x.\n";
  let text = f64.replace(/Float64Array/g, "Float32Array");
  text = once(text, "const lossTotal = new Float32Array(1);", "const lossTotal = new Float64Array(1);");
  text = once(text, '  precision: "f64",\n', '  precision: "f32",\n');
  return once(
    text,
    header,
    header +
      "// Single precision: parameters, data, outputs and scratch are Float32Arrays, so every store into them rounds to float32;\n" +
      "// arithmetic between stores is double, and so is the loss summed over a batch (lossTotal).\n",
  );
}

describe("golden modules in f32 (--precision f32)", () => {
  for (const e of valid)
    it(e.path, async () => {
      const options = { file: e.path, set: setOf(e.source) };
      const r = await compile(e.source, { ...options, precision: "f32" });
      expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
      const f64 = await compile(e.source, options);
      expect(r.ts).toBe(asF32(f64.ts!));
      if (F32_GOLDEN.has(e.key)) compareBaseline(`${f32Key(e.key)}.ts`, r.ts!);
      const mod = await loadModule(r.js!);
      expect(mod.meta.precision).toBe("f32");
      for (const v of Object.values(mod.createParams())) expect(v).toBeInstanceOf(Float32Array);
      // its gradient is the f64 module's to float32 accuracy (test/module/f32.test.ts measures it closely)
      expect(precisionCheck(mod, await loadModule(f64.js!), { seed: 3 }).worst).toBeLessThan(1e-3);
      expect(typeCheck(r.ts!).errors).toEqual([]);
    });
});

describe("golden diagnostics", () => {
  for (const e of invalid)
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path, set: { ...setOf(e.source), ...(e.key === "errors/no-loss" ? { nope: 1 } : {}) } });
      expect(r.ts).toBeNull();
      expect(r.diagnostics.hasErrors).toBe(true);
      compareBaseline(`${e.key}.diagnostics.txt`, renderDiagnostics(e.path, e.source, r.diagnostics.sorted()));
    });
});

describe("baselines", () => {
  it("every baseline has a case", () => {
    const expected = new Set([
      ...valid.map((e) => `${e.key}.ts`),
      ...[...WASM_GOLDEN].map((k) => `wasm/${k}.ts`),
      ...[...F32_GOLDEN].map((k) => `${f32Key(k)}.ts`),
      ...invalid.map((e) => `${e.key}.diagnostics.txt`),
    ]);
    // the golden schedules are schedule.test.ts's, the PyTorch exports pytorch.test.ts's
    const orphans = baselineFiles().filter((f) => !f.startsWith(`${SCHEDULES}/`) && !f.startsWith(`${PYTORCH}/`) && !expected.has(f));
    expect(orphans, "baselines without a case: delete them or restore the case").toEqual([]);
  });
});
