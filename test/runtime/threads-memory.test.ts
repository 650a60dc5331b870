/**
 * The threads' shared WebAssembly memory (runtime/threads/, docs/scale-out.md): the kernels'
 * memory import declared shared by rewriting its limits (the bytes wabt writes for the same text
 * with a shared memory), and a --target wasm module that takes a thread's place in such a memory:
 * its scratch buffers from the base it is given, its kernels on that memory, the same bits as on
 * a memory of its own, nothing written outside its place.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { kernelsWat } from "../../compiler/codegen/wasm/kernels.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { shareMemoryImport } from "../../runtime/threads/worker.js";
import { ROOT } from "../helpers/corpus.js";
import { rng } from "../helpers/random.js";

async function assemble(wat: string): Promise<Uint8Array> {
  const wabt = await (await import("wabt")).default();
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat("kernels.wat", wat, features);
  try {
    mod.resolveNames();
    (mod.validate as (features?: object) => void)(features);
    return new Uint8Array(mod.toBinary({ log: false, canonicalize_lebs: true, relocatable: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

describe("shareMemoryImport", () => {
  it("gives the bytes wabt writes for the same kernels with a shared memory (0 to 65536 pages)", async () => {
    const libraries = [kernelsWat("f64"), kernelsWat("f32")];
    for (const wat of libraries) {
      const plain = await assemble(wat);
      const shared = await assemble(wat.replace("(memory 0)", "(memory 0 65536 shared)"));
      expect(shared).not.toEqual(plain);
      expect(shareMemoryImport(plain)).toEqual(shared);
      // and it links to a shared memory, which the plain bytes refuse
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
      await expect(WebAssembly.instantiate(plain, { env: { memory } })).rejects.toThrow();
      await expect(WebAssembly.instantiate(shareMemoryImport(plain), { env: { memory } })).resolves.toBeDefined();
    }
  });

  it("refuses bytes that import no memory", async () => {
    const none = await assemble('(module (func (export "f")))');
    expect(() => shareMemoryImport(none)).toThrow(/no memory/);
  });
});

const place = Symbol.for("nnc.thread");
interface Place {
  memory: WebAssembly.Memory;
  base: number;
  shareMemory(bytes: Uint8Array): Uint8Array;
  kernels?: Record<string, unknown>;
}

/** The module imported as a thread imports it: with its place in `memory` at `base`. */
async function placed(js: string, memory: WebAssembly.Memory, base: number): Promise<{ mod: CompiledModule; place: Place }> {
  const p: Place = { memory, base, shareMemory: shareMemoryImport };
  (globalThis as unknown as Record<symbol, Place | undefined>)[place] = p;
  try {
    // a distinct URL: the loader caches modules by URL
    return { mod: await loadModule(`${js}\n// placed at ${base}\n`), place: p };
  } finally {
    delete (globalThis as unknown as Record<symbol, Place | undefined>)[place];
  }
}

describe("a wasm module in a thread's place", () => {
  for (const example of ["mnist.nn", "mnist-cnn.nn"]) {
    it(`${example}: the same bits as on its own memory, its scratch from its base, nothing written outside it`, async () => {
      const r = await compile(readFileSync(join(ROOT, "examples", example), "utf8"), { file: example, target: "wasm" });
      const own = await loadModule(r.js!);
      const bytes = own.threadScratchBytes!;
      expect(bytes).toBeGreaterThan(0);
      const sizes = Object.values(own.meta.params).map((s) => s.reduce((a, b) => a * b, 1));
      const paramBytes = sizes.reduce((s, n) => s + Math.ceil((n * 8) / 16) * 16, 0);
      // [16, …) two parameter sets, then the module's place, then a guard region
      const base = 16 + 2 * paramBytes;
      const pages = Math.ceil((base + bytes + 65536) / 65536);
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      const guard = new Uint8Array(memory.buffer, base + bytes);
      guard.fill(0xa5);
      const { mod, place: p } = await placed(r.js!, memory, base);
      expect(typeof p.kernels?.["scale_add"]).toBe("function");
      // createParams in a thread makes ordinary arrays: the pool lays out the shared ones
      expect(Object.values(mod.createParams()).every((a) => a.buffer !== memory.buffer)).toBe(true);
      let at = 16;
      const shared = () =>
        Object.fromEntries(
          Object.entries(own.meta.params).map(([k, s]) => {
            const n = s.reduce((a, b) => a * b, 1);
            const a = new Float64Array(memory.buffer, at, n);
            at += Math.ceil((n * 8) / 16) * 16;
            return [k, a];
          }),
        );
      const params = shared(), grad = shared();
      const ownParams = own.createParams(), ownGrad = own.createParams();
      own.initParams(ownParams, 3);
      for (const k in params) params[k]!.set(ownParams[k]!);
      const random = rng(5);
      const count = 37;
      const data = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, s]) => [k, Float64Array.from({ length: count * s.reduce((a, b) => a * b, 1) }, () => random())]));
      const inputs = data(own.meta.inputs), targets = data(own.meta.targets);
      const lossPlaced = mod.gradientBatch(params, inputs, targets, count, grad);
      const lossOwn = own.gradientBatch(ownParams, inputs, targets, count, ownGrad);
      expect(lossPlaced).toBe(lossOwn);
      for (const k in grad) expect(grad[k]).toEqual(ownGrad[k]);
      expect(guard.every((b) => b === 0xa5)).toBe(true);
    });
  }
});
