/**
 * The library API as a user's TypeScript sees it: a generated module imported with its own precise
 * types is accepted by train() and evaluate() under `strict`, and the documented example runs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { evaluate, loadModule, train } from "../../runtime/index.js";
import { ROOT } from "../helpers/corpus.js";

const OUT = join(ROOT, "test", ".out", "api");

const USER_CODE = `
import * as xor from "./xor.js";
import { evaluate, train, type Dataset } from "../../../runtime/index.js";

const data: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };
const result = train(xor, data, { epochs: 500, batch: 4, optimizer: { name: "sgd", args: { lr: 0.5 } }, seed: 1 });
const params: xor.Params = result.params as xor.Params;
const y: number = xor.predict(params, { x: Float64Array.of(1, 0) }).y;
export const accuracy: number | null = evaluate(xor, result.params, data).accuracy;
export { y };
`;

/** The same with the module compiled for f32: its Params are Float32Arrays, the data set stays float64. */
const USER_CODE_F32 = `
import * as xor from "./xor32.js";
import { evaluate, forModule, train, type Dataset } from "../../../runtime/index.js";

const data: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };
const result = train(xor, data, { epochs: 500, batch: 4, optimizer: { name: "sgd", args: { lr: 0.5 } }, seed: 1 });
const params: xor.Params = result.params as xor.Params;
const w: Float32Array = params["h.W"];
const batch = forModule(data, xor);
const y: number = xor.lossBatch(params, batch.inputs as xor.BatchInputs, batch.targets as xor.BatchTargets, 4);
const precision: "f32" | "f64" = xor.meta.precision;
export const accuracy: number | null = evaluate(xor, result.params, data).accuracy;
export { y, w, precision };
`;

describe("library API", () => {
  it("type-checks a user's program that trains an emitted module, f64 and f32 (strict)", async () => {
    mkdirSync(OUT, { recursive: true });
    const source = readFileSync(join(ROOT, "examples/xor.nn"), "utf8");
    const r = await compile(source, { file: "xor.nn" });
    writeFileSync(join(OUT, "xor.ts"), r.ts!);
    writeFileSync(join(OUT, "user.ts"), USER_CODE);
    const r32 = await compile(source, { file: "xor.nn", precision: "f32" });
    writeFileSync(join(OUT, "xor32.ts"), r32.ts!);
    writeFileSync(join(OUT, "user32.ts"), USER_CODE_F32);
    const program = ts.createProgram([join(OUT, "user.ts"), join(OUT, "user32.ts")], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ["node"],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(errors).toEqual([]);
  });

  it("trains and evaluates through the library entry point", async () => {
    const r = await compile(readFileSync(join(ROOT, "examples/xor.nn"), "utf8"), { file: "xor.nn" });
    const mod = await loadModule(r.js!);
    const data = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };
    const result = train(mod, data, { epochs: 1000, batch: 4, optimizer: { name: "sgd", args: { lr: 0.5 } }, seed: 1, normalize: false });
    const e = evaluate(mod, result.params, data);
    expect(e.accuracy).toBe(1);
    expect(e.loss).toBeLessThan(0.05);
  });
});
