/**
 * The JavaScript module the compiler prints itself (codegen/lang.ts) is the TypeScript module with
 * its types erased: over the whole corpus, on both targets and both precisions, its syntax tree
 * equals that of TypeScript's own transpilation of the TypeScript module, and on the examples both
 * compute the same numbers, bit for bit. Its declarations (`--emit js`, codegen/declarations.ts)
 * type-check against a consumer that uses every export, and describe the module that exists.
 */
import * as acorn from "acorn";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { setOf, validModels } from "../helpers/corpus.js";
import { transpile, typeCheck } from "../helpers/type-check.js";

/** The tree without positions and raw spellings: prettier respells numbers and quotes, and
 * unquotes property names (`"eps": 1` and `eps: 1` are one property). */
function shape(code: string): unknown {
  const tree = acorn.parse(code, { ecmaVersion: "latest", sourceType: "module" });
  return JSON.parse(
    JSON.stringify(tree, (k, v) => {
      if (k === "start" || k === "end" || k === "raw") return undefined;
      if (k === "key" && v.type === "Literal" && typeof v.value === "string") return { type: "Identifier", name: v.value };
      return v;
    }),
  );
}

// both targets and both precisions (the four pairs would double the time and test nothing more:
// the spelling does not depend on the pair)
const CASES = [
  ["ts", "f64"],
  ["wasm", "f32"],
] as const;

describe.each(CASES)("--target %s --precision %s: the JavaScript module is the TypeScript one without types", (target, precision) => {
  for (const e of validModels())
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path, target, precision, set: setOf(e.source) });
      expect(shape(r.js!)).toEqual(shape(transpile(r.ts!)));
    });
});

/** Seeded numbers in [-1, 1) (mulberry32, as the modules' createRandom). */
function filler(seed: number): (a: Float64Array | Float32Array) => void {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (a) => {
    for (let i = 0; i < a.length; i++) a[i] = 2 * next() - 1;
  };
}

/** Everything a batch step produces: predictions, loss, gradient, and parameters after two Adam steps. */
function run(mod: CompiledModule, count: number): number[] {
  const Arr = mod.meta.precision === "f32" ? Float32Array : Float64Array;
  const fill = filler(11);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const batch = (xs: Record<string, number[]>) => Object.fromEntries(Object.entries(xs).map(([k, shape]) => [k, new Arr(count * size(shape))]));
  const inputs = batch(mod.meta.inputs);
  const targets = batch(mod.meta.targets);
  const outputs = batch(mod.meta.outputs);
  for (const a of [...Object.values(inputs), ...Object.values(targets)]) fill(a);
  // a class target holds class indices: 0 and 1 are valid for every classifier of the examples
  for (const a of Object.values(targets)) for (let i = 0; i < a.length; i++) if (a[i]! < 0) a[i] = 0;
  const params = mod.createParams();
  mod.initParams(params, 3);
  const grad = mod.createParams();
  const out: number[] = [];
  mod.predictBatch(params, inputs, count, outputs);
  for (const a of Object.values(outputs)) out.push(...a);
  out.push(mod.lossBatch(params, inputs, targets, count));
  out.push(mod.gradientBatch(params, inputs, targets, count, grad));
  for (const g of Object.values(grad)) out.push(...g);
  const state = mod.createOptimizerState({ name: "adam", lr: 0.01 });
  const random = mod.createRandom(5);
  for (let k = 0; k < 2; k++) out.push(mod.optimizerStep(params, state, inputs, targets, count, grad, random));
  for (const p of Object.values(params)) out.push(...p);
  return out;
}

describe("the JavaScript and the transpiled TypeScript module compute the same numbers", () => {
  for (const e of validModels().filter((m) => m.path.startsWith("examples/") && !m.path.includes("mnist")))
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path });
      const a = run(await loadModule(r.js!), 5);
      const b = run(await loadModule(transpile(r.ts!)), 5);
      expect(a.length).toBeGreaterThan(10);
      // bit for bit: Object.is tells NaN from NaN and 0 from -0 as toEqual would not
      expect(a.map((x, i) => Object.is(x, b[i]))).not.toContain(false);
    });
});

/** A consumer of every export of a module, typed as a user would write it. */
const CONSUMER = `import * as m from "./xor.js";
const params: m.Params = m.createParams();
m.initParams(params, 1);
const random: () => number = m.createRandom(2);
const inputs: m.Inputs = { x: new Float64Array(2) };
const targets: m.Targets = { t: 1 };
const out: m.Outputs = m.predict(params, inputs);
const y: number = out.y;
const bi: m.BatchInputs = { x: new Float64Array(8) };
const bt: m.BatchTargets = { t: new Float64Array(4) };
const bo: m.BatchOutputs = { y: new Float64Array(4) };
m.predictBatch(params, bi, 4, bo);
const grad = m.createParams();
const losses: number[] = [
  m.loss(params, inputs, targets), m.gradient(params, inputs, targets, grad), m.lossBatch(params, bi, bt, 4),
  m.gradientBatch(params, bi, bt, 4, grad), m.evaluateBatch(params, bi, bt, 4, bo), m.sgdStep(params, bi, bt, 4, 0.1, grad),
  m.lossTrain(params, inputs, targets, random), m.gradientTrain(params, inputs, targets, grad, random),
  m.lossBatchTrain(params, bi, bt, 4, random), m.gradientBatchTrain(params, bi, bt, 4, grad, random),
  m.hessianVectorProduct(params, inputs, targets, grad, m.createParams()), m.hessianVectorProductBatch(params, bi, bt, 4, grad, m.createParams()),
];
const spec: m.OptimizerSpec = { name: "adam", lr: 0.01, beta1: 0.9 };
const state: m.OptimizerState = m.createOptimizerState(spec);
losses.push(m.optimizerStep(params, state, bi, bt, 4, grad), state.t, state.buffers.m!["h.W"][0]);
const name: string = m.meta.name;
const shape: number[] = m.meta.params["h.W"];
const key: m.ParamName = "o.b";
export { y, losses, name, shape, key };
`;

describe("--emit js: the declarations", () => {
  it("type-check a consumer of every export of xor's module, and reject a misuse", async () => {
    const r = await compile(await import("node:fs").then((fs) => fs.readFileSync("examples/xor.nn", "utf8")), { file: "xor.nn", emit: "js" });
    expect(r.dts).toBeDefined();
    expect(typeCheck(CONSUMER, "consumer.ts", { "xor.d.ts": r.dts! }).errors).toEqual([]);
    // the declarations are not `any`: a wrong argument and an unknown parameter name are errors
    const wrong = typeCheck(`import * as m from "./xor.js";\nm.initParams(m.createParams(), "1");\nconst k: m.ParamName = "h.V";\nexport { k };\n`, "wrong.ts", { "xor.d.ts": r.dts! });
    expect(wrong.errors).toHaveLength(2);
  });

  it("declare exactly what the JavaScript module exports, with a doc comment for each function", async () => {
    for (const target of ["ts", "wasm"] as const) {
      const r = await compile(await import("node:fs").then((fs) => fs.readFileSync("examples/digits.nn", "utf8")), { file: "digits.nn", emit: "js", target });
      const mod = (await loadModule(r.js!)) as unknown as Record<string, unknown>;
      const declared = [...r.dts!.matchAll(/^export declare (?:function|const) (\w+)/gm)].map((m) => m[1]!);
      expect(declared.sort()).toEqual(Object.keys(mod).sort());
      expect(r.dts!.match(/\*\/\nexport declare (function|const)/g)?.length).toBe(declared.length);
    }
  });
});
