/**
 * The part of a `--target wasm` module that sets up WebAssembly: the kernel library's bytes,
 * embedded as base64 (the module imports nothing and needs no extra file), the memory laid out by
 * memory.ts, the views of it that the printed functions use, createParams' arena, and the staging
 * rule for arrays that live elsewhere.
 *
 * How the module becomes ready: by top-level await of WebAssembly.instantiate. Browsers refuse
 * synchronous compilation of modules over 4 KB on the main thread; an ES module that awaits at
 * its top level is evaluated only once the promise settles, so `import { gradientBatch } from
 * "./mnist.js"` resolves to ready functions in Node and in browsers alike, with no init call.
 */
import { BYTES, type MemoryLayout } from "./memory.js";
import { spelling, type Lang } from "../lang.js";

export const ARRAY_TYPE = { f64: "Float64Array", f32: "Float32Array" } as const;

/** the convolution kernels' scratch region (conv.ts), a view of the memory like the scratch buffers */
export const CONV_SCRATCH = "conv_scratch";

/** The module-level names the prelude declares. */
export const WASM_NAMES = ["WebAssembly", "WebAssemblyMemory", "ThreadPlace", "decodeBase64", "Kernels", "thread", "wasmMemory", "base", "kernelBytes", "kernels", "arenaNext", "arenaEnd", "arenaArray", "inMemory", "leaveMemory", "threadScratchBytes", CONV_SCRATCH];

/** The key under which a thread of train({ threads }) leaves the module its place (runtime/threads/worker.ts). */
export const THREAD_PLACE_KEY = "nnc.thread";

/** The WebAssembly API the module uses, declared in the module's own scope: the emitted code
 * type-checks under `lib: es2022` alone, and the declaration shadows no global of the user's. */
const WEBASSEMBLY_TYPES = `type WebAssemblyMemory = { readonly buffer: ArrayBuffer };
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => WebAssemblyMemory;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: object } }>;
};`;

const base64Decoder = (sig: (list: string) => string, type: (t: string) => string) => `/** base64 → bytes, without atob (not in every runtime's type library). */
function decodeBase64(${sig("text: string")})${type("Uint8Array")} {
  const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const value = new Uint8Array(128);
  for (let i = 0; i < 64; i++) value[digits.charCodeAt(i)] = i;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  for (let i = 0, o = 0; i < text.length; i += 4) {
    const n = (value[text.charCodeAt(i)] << 18) | (value[text.charCodeAt(i + 1)] << 12) | (value[text.charCodeAt(i + 2)] << 6) | value[text.charCodeAt(i + 3)];
    if (o < out.length) out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}`;

export interface PreludeInput {
  readonly layout: MemoryLayout;
  readonly bytes: Uint8Array;
  /** `name(args): result;` lines of the kernel library's exports, for its TypeScript interface */
  readonly kernelSignatures: readonly string[];
  /** a one-line description of the kernel library for the header comment */
  readonly description: string;
  /** the import object's module and field names of the memory */
  readonly memoryImport: { readonly module: string; readonly field: string };
  /** ts (default) or js (lang.ts) */
  readonly lang?: Lang;
}

export function wasmPrelude(input: PreludeInput): string {
  const { layout, bytes } = input;
  const { params: sig, type, as, only } = spelling(input.lang);
  const T = ARRAY_TYPE[layout.precision];
  const size = BYTES[layout.precision];
  const views = layout.regions.map((r) => `const ${r.name} = new ${T}(wasmMemory.buffer, base + ${r.offset}, ${r.length});`);
  const base64 = Buffer.from(bytes).toString("base64");
  return [
    [
      `// ── WebAssembly: ${input.description}, ${bytes.length} bytes, embedded below.`,
      `// One memory of ${layout.pages} pages (${((layout.pages * 65536) / 1048576).toFixed(1)} MiB), never grown: scratch buffers at fixed offsets, then an`,
      `// arena for the arrays createParams makes (the kernels use them in place). The module is ready when`,
      `// its import resolves: it awaits the asynchronous instantiation at its top level.`,
      ...only(WEBASSEMBLY_TYPES),
    ].join("\n"),
    base64Decoder(sig, type),
    ...only(`interface Kernels {\n${input.kernelSignatures.map((s) => `  ${s}`).join("\n")}\n}`),
    ...only(`interface ThreadPlace {
  readonly memory: WebAssemblyMemory;
  readonly base: number;
  shareMemory(bytes: Uint8Array): Uint8Array;
  kernels?: Kernels;
}`),
    `/**
 * In a thread of train({ threads }) (runtime/threads/worker.ts, docs/scale-out.md), the thread leaves
 * this module its place before importing it: one memory that all the threads share, where the
 * parameters and gradients live once, and this copy's scratch buffers from \`base\`; the kernels are
 * then instantiated on that memory (their bytes with the memory import declared shared), and handed
 * back to the thread for its part of the update. Imported any other way, the module makes its own memory.
 */
const thread = (globalThis${as("unknown")}${as("Record<symbol, ThreadPlace | undefined>")})[Symbol.for(${JSON.stringify(THREAD_PLACE_KEY)})];
const wasmMemory = thread?.memory ?? new WebAssembly.Memory({ initial: ${layout.pages}, maximum: ${layout.pages} });
const base = thread?.base ?? 0;
const kernelBytes = decodeBase64(${JSON.stringify(base64)});
const kernels = (await WebAssembly.instantiate(thread?.shareMemory(kernelBytes) ?? kernelBytes, { ${input.memoryImport.module}: { ${input.memoryImport.field}: wasmMemory } })).instance.exports${as("Kernels")};
if (thread !== undefined) thread.kernels = kernels;`,
    `/** The bytes a copy of this module needs in a thread of train({ threads }): its scratch buffers, from its base. */
export const threadScratchBytes = ${layout.arenaStart};`,
    [`// the scratch buffers: views of the kernels' memory`, ...views].join("\n"),
    `/** createParams' arena: [${layout.arenaStart}, ${layout.arenaEnd}) bytes, none in a thread; zero-filled, never reused. */
let arenaNext = base + ${layout.arenaStart};
const arenaEnd = thread === undefined ? ${layout.arenaEnd} : arenaNext;
function arenaArray(${sig("length: number")})${type(T)} {
  const bytes = Math.ceil((length * ${size}) / 16) * 16;
  if (arenaNext + bytes > arenaEnd) return new ${T}(length);
  const a = new ${T}(wasmMemory.buffer, arenaNext, length);
  arenaNext += bytes;
  return a;
}`,
    `/** The byte offset at which the kernels find \`a\`: its own when it lives in the module's memory,
 * else that of its copy in \`stage\` (copied here; a gradient is copied back by \`leaveMemory\`). */
function inMemory(${sig(`a: ${T}, stage: ${T}`)})${type("number")} {
  if (a.buffer === wasmMemory.buffer) return a.byteOffset;
  stage.set(a);
  return stage.byteOffset;
}

/** After the kernels wrote \`a\`'s staged copy: back into \`a\` when \`a\` lives elsewhere. */
function leaveMemory(${sig(`a: ${T}, stage: ${T}`)})${type("void")} {
  if (a.buffer !== wasmMemory.buffer) a.set(stage);
}`,
  ].join("\n\n");
}
