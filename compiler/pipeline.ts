/**
 * The compiler, one line per stage:
 *   source ─parse→ AST ─elaborate→ model (IR graph + interface) ─stability warnings→
 *   ─plan→ the module's functions: specialized, differentiated graphs and their sinks
 *   ─emit→ TypeScript ─format→ module
 * Every stage reports into one Diagnostics collector; nothing the user can cause is thrown. No
 * stage changes its input. The IR verifier runs after every stage that makes a graph (elaboration
 * here; each specialization and differentiation inside plan): a broken graph is a bug in nnc,
 * thrown as an internal error.
 */
import { basename } from "node:path";
import { Diagnostics } from "./diagnostics/diagnostic.js";
import { DEFAULT_UNROLL, emitModule } from "./codegen/emit-module.js";
import { formatTs } from "./codegen/format.js";
import { assertValid } from "./ir/verify.js";
import { plan, type Plan } from "./plan/plan.js";
import type { Model } from "./semantics/model.js";
import { elaborate } from "./semantics/elaborate.js";
import { warnUnstable } from "./semantics/stability.js";
import { parse } from "./syntax/parser.js";
import type { Target } from "./target.js";
import { kernelLibrary } from "./codegen/wasm/library.js";
import type { Precision } from "./target.js";

export { plan, type Plan };

export const VERSION = "0.1.0";

export interface CompileOptions {
  /** the file name shown in diagnostics and comments */
  readonly file: string;
  /** the model name when the source has no `model` line */
  readonly defaultName?: string;
  readonly set?: Readonly<Record<string, number>>;
  readonly unroll?: number;
  readonly emit?: "ts" | "js";
  /** ts (default) or wasm: dense layers as WebAssembly SIMD kernels (docs/wasm.md) */
  readonly target?: Target;
  /** the module's numbers: f64 (default) or f32 (every array a Float32Array) */
  readonly precision?: Precision;
}

export interface CompileResult {
  readonly diagnostics: Diagnostics;
  readonly model: Model | null;
  /** the formatted TypeScript module; null when there were errors */
  readonly ts: string | null;
  /** with emit: "js" */
  readonly js?: { readonly js: string; readonly dts: string };
}

/** The longest source accepted, in UTF-16 code units (NN5003): every stage is linear or close to
 * it in the source, but a file of megabytes is a mistake, not a model. */
export const MAX_SOURCE_LENGTH = 1 << 20;

/** The largest unroll threshold `nnc --unroll` accepts: one value of this much work already
 * compiles for ~25 s in ~1 GB; four times as much takes 80 s and 3.4 GB, near V8's default heap
 * limit (docs/limits.md). Unrolling pays only far below it (docs/performance.md). */
export const MAX_UNROLL = 1 << 14;

/** Front end only: parse and check; the model is null when there were errors. */
export function check(source: string, options: CompileOptions): { diagnostics: Diagnostics; model: Model | null } {
  const diagnostics = new Diagnostics();
  if (source.length > MAX_SOURCE_LENGTH) {
    diagnostics.error("NN5003", null, `${source.length} characters`, MAX_SOURCE_LENGTH);
    return { diagnostics, model: null };
  }
  const program = parse(source, diagnostics);
  const model = elaborate(program, source, diagnostics, { defaultName: options.defaultName ?? stem(options.file), set: options.set ?? {} });
  if (model !== null) assertValid(model.graph, "elaboration");
  if (model !== null && !diagnostics.hasErrors) warnUnstable(model, source, diagnostics);
  return { diagnostics, model: diagnostics.hasErrors ? null : model };
}

export async function compile(source: string, options: CompileOptions): Promise<CompileResult> {
  const { diagnostics, model } = check(source, options);
  if (model === null) return { diagnostics, model, ts: null };
  const planned = plan(model);
  const target = options.target ?? "ts";
  const precision = options.precision ?? "f64";
  const kernels = target === "wasm" ? await kernelLibrary(precision, planned) : undefined;
  const raw = emitModule(model, planned, { file: baseName(options.file), unroll: options.unroll ?? DEFAULT_UNROLL, version: VERSION, target, kernels, precision });
  const ts = await formatTs(raw);
  if (options.emit === "js") {
    // ts-morph (with its own TypeScript) is loaded only for --emit js
    const { emitJs } = await import("./codegen/emit-js.js");
    return { diagnostics, model, ts, js: emitJs(ts, stem(options.file)) };
  }
  return { diagnostics, model, ts };
}

/** The file's name without its directory, by the rules of this platform: on POSIX only `/`
 * separates directories, so `a\b.nn` is a file named `a\b.nn` whose model is `a\b`. */
export function baseName(file: string): string {
  return basename(file);
}

export function stem(file: string): string {
  return baseName(file).replace(/\.nn$/, "");
}
