/**
 * The compiler, one line per stage:
 *   source ─parse→ AST ─elaborate→ model (IR graph + interface) ─stability warnings→
 *   ─plan→ the module's functions: specialized, differentiated graphs and their sinks
 *   ─emit→ TypeScript (or JavaScript) ─format→ module
 * Every stage reports into one Diagnostics collector; nothing the user can cause is thrown. No
 * stage changes its input. The IR verifier runs after every stage that makes a graph (elaboration
 * here; each specialization and differentiation inside plan): a broken graph is a bug in nnc,
 * thrown as an internal error.
 */
import { basename } from "node:path";
import { Diagnostics } from "./diagnostics/diagnostic.js";
import { MAX_SOURCE_LENGTH, VERSION } from "./settings.js";
import { DEFAULT_UNROLL, emitModule } from "./codegen/emit-module.js";
import { formatDts, formatJs, formatTs } from "./codegen/format.js";
import { declarationsOf } from "./codegen/declarations.js";
import type { Lang } from "./codegen/lang.js";
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

export { VERSION, MAX_SOURCE_LENGTH, MAX_UNROLL } from "./settings.js";

export interface CompileOptions {
  /** the file name shown in diagnostics and comments */
  readonly file: string;
  /** the model name when the source has no `model` line */
  readonly defaultName?: string;
  readonly set?: Readonly<Record<string, number>>;
  readonly unroll?: number;
  /**
   * ts (default): the formatted TypeScript module, and the JavaScript one as printed; js: the
   * formatted JavaScript module and its declarations (`--emit js`); memory: the JavaScript module
   * as printed, nothing formatted (what `nnc train/predict/check` load: no prettier).
   */
  readonly emit?: Emit;
  /** ts (default) or wasm: dense layers as WebAssembly SIMD kernels (docs/wasm.md) */
  readonly target?: Target;
  /** the module's numbers: f64 (default) or f32 (every array a Float32Array) */
  readonly precision?: Precision;
}

export type Emit = "ts" | "js" | "memory";

export interface CompileResult {
  readonly diagnostics: Diagnostics;
  readonly model: Model | null;
  /** the formatted TypeScript module (emit "ts"); null when there were errors or with another emit */
  readonly ts: string | null;
  /** the JavaScript module, what loadModule takes: formatted with emit "js"; null when there were errors */
  readonly js: string | null;
  /** with emit "js": the declarations of the JavaScript module, formatted */
  readonly dts?: string;
}

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
  if (model === null) return { diagnostics, model, ts: null, js: null };
  const planned = plan(model);
  const target = options.target ?? "ts";
  const precision = options.precision ?? "f64";
  const kernels = target === "wasm" ? await kernelLibrary(precision, planned) : undefined;
  const emit = (lang: Lang) => emitModule(model, planned, { file: baseName(options.file), unroll: options.unroll ?? DEFAULT_UNROLL, version: VERSION, target, kernels, precision, lang });
  switch (options.emit ?? "ts") {
    case "memory":
      return { diagnostics, model, ts: null, js: emit("js") };
    case "js":
      return { diagnostics, model, ts: null, js: await formatJs(emit("js")), dts: await formatDts(declarationsOf(emit("ts"))) };
    case "ts": {
      // the JavaScript module printed when asked for (the tests load it; nnc compile does not)
      let js: string | undefined;
      return {
        diagnostics,
        model,
        ts: await formatTs(emit("ts")),
        get js() {
          return (js ??= emit("js"));
        },
      };
    }
  }
}

/** The file's name without its directory, by the rules of this platform: on POSIX only `/`
 * separates directories, so `a\b.nn` is a file named `a\b.nn` whose model is `a\b`. */
export function baseName(file: string): string {
  return basename(file);
}

export function stem(file: string): string {
  return baseName(file).replace(/\.nn$/, "");
}
