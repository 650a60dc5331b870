/**
 * The emitted module runs unchanged in a browser (headless Chromium, docs/browser.md): the same
 * JavaScript text, imported as an ES module in a page and in Node, gives the same initial
 * parameters, loss and gradient of a batch. And a module that becomes ready by a top-level `await`
 * of a WebAssembly instantiation — a `--target wasm` module, whose kernels then run in the page — loads and
 * runs there.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import type { Target } from "../../compiler/target.js";
import { openBrowser, useBrowser } from "../helpers/browser.js";
import { rng } from "../helpers/random.js";

const browser = useBrowser();

/** Imports ES module source text in Node, the way runtime/load-module.ts does. */
async function importInNode(js: string): Promise<any> {
  return import(`data:text/javascript;base64,${Buffer.from(js).toString("base64")}`);
}

/** The module's JavaScript as a browser would receive it: the compiler's JavaScript module. */
async function moduleJs(example: string, target: Target = "ts"): Promise<string> {
  const path = `examples/${example}.nn`;
  const r = await compile(readFileSync(path, "utf8"), { file: path, target });
  expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
  return r.js!;
}

interface BatchArg {
  readonly seed: number;
  /** the parameters to differentiate at: Node's initParams(·, seed), so that both sides use the same */
  readonly params: Record<string, number[]>;
  readonly count: number;
  readonly inputs: Record<string, number[]>;
  readonly targets: Record<string, number[]>;
}

interface BatchResult {
  /** initParams(createParams(), seed) */
  readonly initial: Record<string, number[]>;
  readonly loss: number;
  readonly grad: Record<string, number[]>;
}

/** Runs in the page and in Node alike (sent to the page as source text: self-contained). */
const gradientOfBatch = (mod: any, arg: BatchArg): BatchResult => {
  const f64 = (o: Record<string, number[]>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Float64Array.from(v)]));
  const plain = (o: Record<string, Float64Array>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.from(v)]));
  const initial = mod.createParams();
  mod.initParams(initial, arg.seed);
  const grad = mod.createParams();
  const loss = mod.gradientBatch(f64(arg.params), f64(arg.inputs), f64(arg.targets), arg.count, grad);
  return { initial: plain(initial), loss, grad: plain(grad) };
};

/** A fixed batch: inputs uniform in [0, 1), vector targets one-hot, scalar targets 0 or 1. */
function makeBatch(mod: any, count: number, seed: number): BatchArg {
  const meta = mod.meta as { inputs: Record<string, number[]>; targets: Record<string, number[]> };
  const random = rng(seed);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const inputs = Object.fromEntries(Object.entries(meta.inputs).map(([k, s]) => [k, Array.from({ length: count * size(s) }, () => random())]));
  const targets = Object.fromEntries(
    Object.entries(meta.targets).map(([k, s]) => {
      const m = size(s);
      const t = new Array<number>(count * m).fill(0);
      for (let n = 0; n < count; n++) t[n * m + Math.floor(random() * m)] = s.length === 0 ? Math.round(random()) : 1;
      return [k, t];
    }),
  );
  const params = mod.createParams();
  mod.initParams(params, 1);
  return { seed: 1, params: Object.fromEntries(Object.entries(params as Record<string, Float64Array>).map(([k, v]) => [k, Array.from(v)])), count, inputs, targets };
}

/**
 * Per gradient element, the mean over the batch of |the sample's gradient|: rounding differences in
 * the terms of the batch mean are relative to the terms, so where they cancel, this is the scale of
 * the difference (as in test/module/batch.test.ts).
 */
function termScales(mod: any, arg: BatchArg): Record<string, number[]> {
  const params = Object.fromEntries(Object.entries(arg.params).map(([k, v]) => [k, Float64Array.from(v)]));
  const grad = mod.createParams();
  const scales: Record<string, number[]> = Object.fromEntries(Object.entries(params as Record<string, Float64Array>).map(([k, v]) => [k, new Array<number>(v.length).fill(0)]));
  const sample = (shapes: Record<string, number[]>, batch: Record<string, number[]>, n: number) =>
    Object.fromEntries(
      Object.entries(shapes).map(([k, s]) => {
        const m = s.reduce((a, b) => a * b, 1);
        return [k, s.length === 0 ? batch[k]![n]! : Float64Array.from(batch[k]!.slice(n * m, (n + 1) * m))];
      }),
    );
  for (let n = 0; n < arg.count; n++) {
    mod.gradient(params, sample(mod.meta.inputs, arg.inputs, n), sample(mod.meta.targets, arg.targets, n), grad);
    for (const [k, g] of Object.entries(grad as Record<string, Float64Array>)) for (let i = 0; i < g.length; i++) scales[k]![i]! += Math.abs(g[i]!) / arg.count;
  }
  return scales;
}

/** Elements where |Node − browser| > 1e-12 × max(|Node|, |browser|, scale), as "name[i]: node vs browser". */
function differences(name: string, node: readonly number[], page: readonly number[], scales?: readonly number[]): string[] {
  const out: string[] = [];
  if (node.length !== page.length) return [`${name}: ${node.length} elements in Node, ${page.length} in the browser`];
  for (let i = 0; i < node.length; i++) {
    const a = node[i]!, b = page[i]!;
    const bound = 1e-12 * Math.max(Math.abs(a), Math.abs(b), scales?.[i] ?? 0);
    if (!(a === b || Math.abs(a - b) <= bound)) out.push(`${name}[${i}]: ${a} vs ${b} (bound ${bound})`);
  }
  return out;
}

describe("the emitted module in Chromium", () => {
  // 11 samples: one block of eight lanes and a tail of three in the looped models (mnist); on the
  // wasm target, a block of 11 of its 32 lanes through the WebAssembly kernels
  it.each([
    ["xor", "ts"],
    ["digits", "ts"],
    ["mnist", "ts"],
    ["digits", "wasm"],
    ["mnist", "wasm"],
  ] as const)("%s, --target %s: initParams(·, 1) and gradientBatch agree with Node to 1e-12", async (example, target) => {
    const js = await moduleJs(example, target);
    const nodeModule = await importInNode(js);
    const batch = makeBatch(nodeModule, 11, 7);
    const inNode = JSON.parse(JSON.stringify(gradientOfBatch(nodeModule, batch))) as BatchResult;
    const inPage = await (await browser()).run(js, gradientOfBatch, batch);

    const scales = termScales(nodeModule, batch);
    expect(Number.isFinite(inNode.loss) && inNode.loss > 0).toBe(true);
    expect(Object.keys(inPage.grad)).toEqual(Object.keys(nodeModule.meta.params));
    const diffs = [...differences("loss", [inNode.loss], [inPage.loss])];
    for (const k of Object.keys(inNode.grad)) {
      expect(inNode.grad[k]!.some((v) => v !== 0), `${k}: some gradient`).toBe(true);
      diffs.push(...differences(`initParams ${k}`, inNode.initial[k]!, inPage.initial[k] ?? []));
      diffs.push(...differences(`grad ${k}`, inNode.grad[k]!, inPage.grad[k] ?? [], scales[k]));
    }
    expect(diffs.slice(0, 10), `${diffs.length} elements differ`).toEqual([]);
  });
});

/** A trivial WebAssembly module, by hand: (func (export "add") (param f64 f64) (result f64) local.get 0 local.get 1 f64.add) */
const ADD_WASM = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7c, 0x7c, 0x01, 0x7c, // type section: one type, (f64, f64) → f64
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, // export section: "add" = function 0
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0xa0, 0x0b, // code: local.get 0, local.get 1, f64.add, end
];

/** The shape of a `--target wasm` module: ready only after a top-level await of the instantiation. */
const WASM_MODULE = `
const bytes = new Uint8Array([${ADD_WASM.join(", ")}]);
const { instance } = await WebAssembly.instantiate(bytes);
await new Promise((resolve) => setTimeout(resolve, 20));
export const ready = await Promise.resolve(42);
export const add = instance.exports.add;
`;

describe("a module with a top-level await", () => {
  const use = (mod: any) => ({ ready: mod.ready, sum: mod.add(0.1, 0.2), kind: typeof mod.add });

  it("loads in Chromium: the WebAssembly instance and the awaited value are there before use", async () => {
    expect(await (await browser()).run(WASM_MODULE, use, null)).toEqual({ ready: 42, sum: 0.1 + 0.2, kind: "function" });
  });

  it("and in Node, unchanged", async () => {
    expect(use(await importInNode(WASM_MODULE))).toEqual({ ready: 42, sum: 0.1 + 0.2, kind: "function" });
  });
});

describe("the browser helper fails loudly", () => {
  it("on a module that throws while loading", async () => {
    await expect((await browser()).run("throw new Error('boom while loading');", () => 0, null)).rejects.toThrow(/boom while loading/);
  });

  it("on an error in the function run against the module", async () => {
    await expect((await browser()).run("export const x = 1;", (m: any) => m.x.y.z, null)).rejects.toThrow(/TypeError/);
  });

  it("on console.error and uncaught errors in the page", async () => {
    await expect((await browser()).run("console.error('bad thing'); export const x = 1;", (m: any) => m.x, null)).rejects.toThrow(/console\.error: bad thing/);
    const late = "export const x = 1;";
    await expect(
      (await browser()).run(late, (m: any) => new Promise((resolve) => { setTimeout(() => { throw new Error("uncaught later"); }); setTimeout(() => resolve(m.x), 50); }), null),
    ).rejects.toThrow(/page error: .*uncaught later/);
  });

  it("with a timeout when the top-level await never settles", async () => {
    const t0 = performance.now();
    await expect((await browser()).run("await new Promise(() => {}); export const x = 1;", (m: any) => m.x, null, { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
    expect(performance.now() - t0).toBeLessThan(5000);
    // the session still works afterwards
    expect(await (await browser()).run("export const x = 1;", (m: any) => m.x + 1, null)).toBe(2);
  });

  it("when Chromium is missing, saying how to install it", async () => {
    await expect(openBrowser({ executablePath: "/nonexistent/chromium" })).rejects.toThrow(/apt-get update && apt-get install -y chromium/);
  });
});
