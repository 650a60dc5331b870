/**
 * Golden schedules: the printed schedule (compiler/schedule/print.ts) of every function the
 * compiler makes for a few models — loops, lanes, blocked and update sweeps, softmax from its
 * log-sum-exp, update order and its fallback to grad, dropout masks —, compared byte for byte with
 * test/baselines/schedules/; `npm run test:accept` rewrites them. The schedules are the compiler's
 * own: scheduleModule returns those emitModule prints from (what `nnc explain --schedule` shows).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_UNROLL, emitModule, scheduleModule } from "../../compiler/codegen/emit-module.js";
import { printFunction } from "../../compiler/codegen/ts/function.js";
import { baseName, check, plan, VERSION } from "../../compiler/pipeline.js";
import { printSchedule } from "../../compiler/schedule/print.js";
import { kernelLibrary } from "../../compiler/codegen/wasm/library.js";
import { baselineFiles, compareBaseline, SCHEDULES } from "../helpers/baselines.js";
import { validModels } from "../helpers/corpus.js";

const MODELS = ["examples/xor", "examples/digits", "examples/mnist", "graph/update-order", "ops/softmax", "ops/dropout"];
/** and on the wasm target (dense kernels, staged inputs, placed parameters), under schedules/wasm/ */
const WASM_MODELS = ["examples/digits", "examples/mnist"];
const models = validModels().filter((e) => MODELS.includes(e.key));

describe("golden schedules", () => {
  it("cover the models they name", () => expect(models.map((e) => e.key).sort()).toEqual([...MODELS].sort()));
  for (const e of models)
    it(e.path, () => {
      const { model } = check(e.source, { file: e.path });
      expect(model).not.toBeNull();
      const planned = plan(model!);
      const options = { file: baseName(e.path), unroll: DEFAULT_UNROLL, version: VERSION };
      const schedules = scheduleModule(model!, planned, options);
      expect(schedules.map((s) => s.spec.name)).toEqual(planned.functions.map((f) => f.name));
      compareBaseline(`${SCHEDULES}/${e.key}.txt`, schedules.map(printSchedule).join("\n"));
      // they are the schedules the module is printed from, and printing decides nothing: the same
      // schedule prints the same function twice
      const module = emitModule(model!, planned, options);
      for (const s of schedules) {
        expect(module).toContain(printFunction(s).code);
        expect(printFunction(s).code).toBe(printFunction(s).code);
      }
    });
  for (const e of models.filter((m) => WASM_MODELS.includes(m.key)))
    it(`${e.path} --target wasm`, async () => {
      const { model } = check(e.source, { file: e.path });
      const planned = plan(model!);
      const options = { file: baseName(e.path), unroll: DEFAULT_UNROLL, version: VERSION, target: "wasm", kernels: await kernelLibrary("f64") } as const;
      const schedules = scheduleModule(model!, planned, options);
      expect(schedules.some((s) => s.steps.some((step) => step.kind === "dense")), "some dense kernel step").toBe(true);
      compareBaseline(`${SCHEDULES}/wasm/${e.key}.txt`, schedules.map(printSchedule).join("\n"));
      const module = emitModule(model!, planned, options);
      for (const s of schedules) expect(module).toContain(printFunction(s).code);
    });
  it("every golden schedule has a case", () => {
    const expected = new Set([...models.map((e) => `${SCHEDULES}/${e.key}.txt`), ...WASM_MODELS.map((k) => `${SCHEDULES}/wasm/${k}.txt`)]);
    const orphans = baselineFiles().filter((f) => f.startsWith(`${SCHEDULES}/`) && !expected.has(f));
    expect(orphans, "golden schedules without a case: delete them or restore the case").toEqual([]);
  });
});
