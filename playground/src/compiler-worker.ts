/**
 * The compiler in a Web Worker: compiler/pipeline.ts, unchanged, bundled. Formatting a module with
 * prettier takes 0.3–1.5 s, which would freeze the editor on the page's thread; here the page only
 * waits for an answer. `check` (the front end, milliseconds) answers the editor's lint as you type;
 * `compile` gives the module, `nnc explain`, and what training needs.
 */
import { LineMap } from "../../compiler/diagnostics/span.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { explain } from "../../compiler/explain.js";
import { check, compile, plan } from "../../compiler/pipeline.js";
import type { Model } from "../../compiler/semantics/model.js";
import { TRAIN_DEFAULTS } from "../../compiler/semantics/train-block.js";
import { modelIdentity } from "../../runtime/identity.js";
import type { CompileRequest, CompileResponse, PageDiagnostic, RunConfig } from "./protocol.js";

function pageDiagnostics(source: string, list: readonly Diagnostic[]): PageDiagnostic[] {
  const lines = new LineMap(source);
  return list.map((d) => {
    const from = d.span?.start ?? 0;
    const to = Math.max(from, d.span?.end ?? 0);
    const { line, col } = lines.lineCol(from);
    return { severity: d.severity, code: d.code, message: d.message, from, to, line, col, placed: d.span !== null };
  });
}

/** The train block with `nnc train`'s defaults, as runtime/cli-train.ts's resolveConfig gives it without flags. */
function runConfig(model: Model): RunConfig | null {
  const block = model.train;
  if (block.data === undefined) return null;
  const optimizer = block.optimizer ?? TRAIN_DEFAULTS.optimizer();
  return {
    data: block.data,
    validation: block.validation ?? null,
    split: block.split ?? null,
    optimizer,
    schedule: block.schedule ?? TRAIN_DEFAULTS.schedule(),
    batch: block.batch ?? TRAIN_DEFAULTS.batch,
    epochs: block.epochs ?? TRAIN_DEFAULTS.epochs(optimizer.name),
    seed: block.seed ?? TRAIN_DEFAULTS.seed,
    earlyStopping: block.earlyStopping ?? null,
    normalize: block.normalize ?? TRAIN_DEFAULTS.normalize,
  };
}

async function answer(req: CompileRequest): Promise<CompileResponse> {
  const options = { file: req.file };
  if (req.kind === "check") return { id: req.id, kind: "check", diagnostics: pageDiagnostics(req.source, check(req.source, options).diagnostics.sorted()) };
  const result = await compile(req.source, options);
  const diagnostics = pageDiagnostics(req.source, result.diagnostics.sorted());
  if (result.ts === null || result.model === null) return { id: req.id, kind: "compile", diagnostics, compiled: null };
  const model = result.model;
  return {
    id: req.id,
    kind: "compile",
    diagnostics,
    compiled: {
      ts: result.ts,
      js: result.js!,
      explain: explain(model, plan(model)),
      name: model.name,
      graph: modelIdentity(model),
      targetDomains: model.targetDomains,
      config: runConfig(model),
    },
  };
}

self.onmessage = async (e: MessageEvent<CompileRequest>) => {
  let response: CompileResponse;
  try {
    response = await answer(e.data);
  } catch (err) {
    // an internal error of nnc: shown in the page as such, never swallowed
    const failure = `nnc: internal error (a bug in nnc, not in the model): ${(err as Error).stack ?? err}`;
    response = e.data.kind === "check" ? { id: e.data.id, kind: "check", diagnostics: [], failure } : { id: e.data.id, kind: "compile", diagnostics: [], compiled: null, failure };
  }
  self.postMessage(response);
};
