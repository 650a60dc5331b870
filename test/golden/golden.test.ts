/**
 * Golden files: the emitted module of every example and case, and the rendered diagnostics of
 * every bad source, compared byte for byte with test/baselines. `npm run test:accept` rewrites
 * them after a deliberate change (review the git diff). A baseline without a case fails.
 * Golden modules are also executed: loaded, gradient-checked, and type-checked under strict.
 */
import { describe, expect, it } from "vitest";
import { typeCheck } from "../../compiler/codegen/emit-js.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { compile } from "../../compiler/pipeline.js";
import { gradCheck } from "../../runtime/gradcheck.js";
import { loadModule } from "../../runtime/load-module.js";
import { baselineFiles, compareBaseline, SCHEDULES } from "../helpers/baselines.js";
import { invalidModels, validModels } from "../helpers/corpus.js";

/** --set values some cases are compiled with, read from a `# nnc: --set a=1` header line */
function setOf(source: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of source.matchAll(/^# nnc: --set (\w+)=(\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

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
      const mod = await loadModule(r.ts!);
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
      const mod = await loadModule(r.ts!);
      const check = gradCheck(mod, { seed: 3, elements: 40 });
      expect(check.worst, JSON.stringify(check.params)).toBeLessThan(1e-6);
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
    const expected = new Set([...valid.map((e) => `${e.key}.ts`), ...[...WASM_GOLDEN].map((k) => `wasm/${k}.ts`), ...invalid.map((e) => `${e.key}.diagnostics.txt`)]);
    // the golden schedules are schedule.test.ts's
    const orphans = baselineFiles().filter((f) => !f.startsWith(`${SCHEDULES}/`) && !expected.has(f));
    expect(orphans, "baselines without a case: delete them or restore the case").toEqual([]);
  });
});
