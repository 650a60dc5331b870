/**
 * The playground page: the editor (CodeMirror 6, .nn highlighting, the compiler's diagnostics as
 * lint), the emitted module and `nnc explain` beside it, training in a worker with a live loss
 * chart, a pad to draw a digit for a trained digits model, and downloads. The compiler runs in
 * compiler-worker.ts, training in train-worker.ts; this thread only draws.
 */
import { javascript } from "@codemirror/lang-javascript";
import { EditorState, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { linter, lintGutter, type Diagnostic as LintDiagnostic } from "@codemirror/lint";
import { basicSetup } from "codemirror";
import type { CompiledModule } from "../../runtime/load-module.js";
import type { Normalization } from "../../runtime/types.js";
import { toWeightsFile } from "../../runtime/weights.js";
import { applyNormalization } from "../../runtime/data/normalize.js";
import { LossChart } from "./chart.js";
import { DigitPad, drawPixels, GRID } from "./digit-pad.js";
import { nnLanguage } from "./nn-language.js";
import type { Compiled, CompileRequest, CompileResponse, PageDiagnostic, TrainMessage, TrainRequest } from "./protocol.js";

interface Examples {
  readonly models: readonly { readonly file: string; readonly source: string }[];
  readonly data: Readonly<Record<string, string>>;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (text: string) => ($("status").textContent = text);
const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)} %`);
/** accuracy for a classifier, rmse for a regression (runtime/metrics.ts scores one or the other) */
const score = (e: { accuracy: number | null; rmse: number | null } | null | undefined, named = false) =>
  e?.accuracy != null ? `${named ? "accuracy " : ""}${pct(e.accuracy)}` : e?.rmse != null ? `rmse ${fmt(e.rmse)}` : "–";
const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));

// ── the compiler worker answers in order; a caller drops an answer for text that has changed since
const compiler = new Worker(new URL("./compiler.js", import.meta.url), { type: "module" });
let requestId = 0;
const waiting = new Map<number, (r: CompileResponse) => void>();
// a worker that dies (out of memory) answers nothing more: say so rather than wait in silence
compiler.onerror = (e) => status(`the compiler's worker stopped: ${e.message}; reload the page`);
compiler.onmessage = (e: MessageEvent<CompileResponse>) => {
  waiting.get(e.data.id)?.(e.data);
  waiting.delete(e.data.id);
};
function ask(kind: CompileRequest["kind"], source: string): Promise<CompileResponse> {
  const id = ++requestId;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    compiler.postMessage({ id, kind, source, file: fileName } satisfies CompileRequest);
  });
}

let fileName = "xor.nn";
let examples: Examples = { models: [], data: {} };
let compiled: Compiled | null = null;
let compiledSource: string | null = null;

// ── the views
const readOnly = (parent: HTMLElement, extra: Extension[]) =>
  new EditorView({ parent, state: EditorState.create({ doc: "", extensions: [basicSetup, EditorState.readOnly.of(true), EditorView.editable.of(false), ...extra] }) });
const moduleView = readOnly($("module"), [javascript({ typescript: true })]);
const explainView = readOnly($("explain"), [EditorView.lineWrapping]);
const setText = (view: EditorView, text: string) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });

function showDiagnostics(list: readonly PageDiagnostic[]): void {
  const ul = $("diagnostics");
  ul.replaceChildren(
    ...list.map((d) => {
      const li = document.createElement("li");
      li.className = d.severity;
      li.dataset.line = String(d.line);
      li.textContent = `${fileName}${d.placed ? `:${d.line}:${d.col}` : ""}: ${d.severity} ${d.code}: ${d.message}`;
      return li;
    }),
  );
}

/** The editor's lint: the front end's diagnostics (milliseconds), then a full compile of the same text. */
const nnLint = linter(
  async (view) => {
    const source = view.state.doc.toString();
    const r = await ask("check", source);
    if (view.state.doc.toString() !== source) return [];
    if (r.failure) {
      status(r.failure);
      console.warn(r.failure);
      return [];
    }
    showDiagnostics(r.diagnostics);
    scheduleCompile(source, r.diagnostics.some((d) => d.severity === "error"));
    return r.diagnostics.map((d): LintDiagnostic => ({ from: Math.min(d.from, source.length), to: Math.min(d.to, source.length), severity: d.severity, message: `${d.code}: ${d.message}`, source: "nnc" }));
  },
  { delay: 250 },
);

const editor = new EditorView({
  parent: $("editor"),
  state: EditorState.create({ doc: "", extensions: [basicSetup, nnLanguage, nnLint, lintGutter()] }),
});

async function scheduleCompile(source: string, hasErrors: boolean): Promise<void> {
  // the views and buttons show the last module that compiled: marked stale until the text compiles
  stale(hasErrors || source !== compiledSource);
  if (hasErrors) {
    setBusy("compile", false);
    status(`${fileName}: fix the errors to see the module`);
    return;
  }
  if (source === compiledSource) {
    status(`${fileName}: compiled`);
    return;
  }
  setBusy("compile", true);
  status(`compiling ${fileName}…`);
  const r = await ask("compile", source);
  if (editor.state.doc.toString() !== source) return; // a newer edit compiles next
  setBusy("compile", false);
  if (r.kind !== "compile") return;
  if (r.failure) {
    status(r.failure);
    console.warn(r.failure);
    return;
  }
  if (r.compiled === null) return;
  compiled = r.compiled;
  compiledSource = source;
  stale(false);
  setText(moduleView, compiled.ts);
  setText(explainView, compiled.explain);
  $("module-title").textContent = `${stem()}.ts — the emitted module (${compiled.ts.split("\n").length - 1} lines)`;
  status(compiled.config === null ? `${fileName}: compiled; it has no train block data to train on` : `${fileName}: compiled`);
  document.body.dataset.compiled = String(requestId);
}

function stale(on: boolean): void {
  for (const id of ["module-pane", "explain-pane"]) $(id).classList.toggle("stale", on);
  $<HTMLButtonElement>("download-module").disabled = on || compiled === null;
  $<HTMLButtonElement>("train").disabled = on || trainer !== null || compiled?.config == null;
}

const busy = new Set<string>();
function setBusy(what: string, on: boolean): void {
  if (on) busy.add(what);
  else busy.delete(what);
  document.body.dataset.busy = [...busy].join(" ");
}

const stem = () => fileName.replace(/\.nn$/, "");

function load(file: string): void {
  const model = examples.models.find((m) => m.file === file);
  if (!model) return;
  fileName = file;
  compiledSource = null;
  compiled = null;
  $<HTMLButtonElement>("download-module").disabled = true;
  $<HTMLButtonElement>("train").disabled = true;
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: model.source } });
}

function download(name: string, text: string, type: string): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// ── training
const chart = new LossChart($("chart"));
let trainer: Worker | null = null;
interface Trained {
  readonly compiled: Compiled;
  readonly mod: CompiledModule;
  readonly params: Record<string, Float64Array>;
  readonly normalization: Normalization | null;
  readonly weightsJson: string;
}
let trained: Trained | null = null;

function stopTraining(note: string | null): void {
  trainer?.terminate();
  trainer = null;
  setBusy("train", false);
  $<HTMLButtonElement>("train").disabled = compiled === null || compiled.config === null || $("module-pane").classList.contains("stale");
  $<HTMLButtonElement>("stop").disabled = true;
  if (note !== null) $("train-message").textContent = note;
}

function startTraining(): void {
  if (compiled === null || compiled.config === null) return;
  stopTraining(null);
  const run = compiled;
  chart.reset();
  $("chart").dataset.steps = "0";
  $("train-message").textContent = "";
  $("epoch").textContent = "–";
  $("train-acc").textContent = "–";
  $("valid-acc").textContent = "–";
  $("avg-loss").textContent = "–";
  setBusy("train", true);
  $<HTMLButtonElement>("train").disabled = true;
  $<HTMLButtonElement>("stop").disabled = false;
  const started = performance.now();
  const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  trainer = w;
  w.onerror = (e) => stopTraining(`the training worker failed: ${e.message}`);
  w.onmessage = async (e: MessageEvent<TrainMessage>) => {
    if (w !== trainer) return;
    const m = e.data;
    if (m.kind === "start") {
      $("train-message").textContent = `${m.trainCount} training samples${m.validationCount ? `, ${m.validationCount} for validation` : ""}; ${m.stepsPerEpoch} steps per epoch; initial loss ${fmt(m.initial.loss)}`;
    } else if (m.kind === "steps") {
      chart.addSteps(m.losses);
      $("chart").dataset.steps = String(chart.count);
      $("avg-loss").textContent = fmt(chart.average!);
    } else if (m.kind === "epoch") {
      $("epoch").textContent = `${m.epoch} / ${m.epochs}`;
      $("train-acc").textContent = score(m.train);
      $("valid-acc").textContent = score(m.validation);
      if (m.validation) chart.addValidation(m.validation.loss);
    } else if (m.kind === "error") {
      stopTraining(m.message);
    } else {
      type Scored = { accuracy: number | null; rmse: number | null; loss: number };
      const metrics = m.metrics as { train: Scored; validation: Scored | null };
      $("train-acc").textContent = score(metrics.train);
      $("valid-acc").textContent = score(metrics.validation);
      $("final").textContent = `final: train loss ${fmt(metrics.train.loss)}, ${score(metrics.train, true)}${metrics.validation ? `; validation loss ${fmt(metrics.validation.loss)}, ${score(metrics.validation, true)}` : ""}`;
      await finished(run, m);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      stopTraining(`${m.message ?? `done: ${m.stopped}`} (${seconds} s)`);
    }
  };
  w.postMessage({ js: run.js, config: run.config!, targetDomains: run.targetDomains, files: examples.data } satisfies TrainRequest);
}

/** The weights file `nnc train` writes (runtime/weights.ts, toWeightsFile), and the module for the pad. */
async function finished(run: Compiled, m: Extract<TrainMessage, { kind: "done" }>): Promise<void> {
  const url = URL.createObjectURL(new Blob([run.js], { type: "text/javascript" }));
  const mod = (await import(/* @vite-ignore */ url)) as CompiledModule;
  URL.revokeObjectURL(url);
  const params = Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, Float64Array.from(v)]));
  const weights = toWeightsFile(mod, params, { normalization: m.normalization, training: { ...run.config, precision: "f64" }, metrics: m.metrics, graph: run.graph });
  trained = { compiled: run, mod, params, normalization: m.normalization, weightsJson: JSON.stringify(weights) + "\n" };
  $<HTMLButtonElement>("download-weights").disabled = false;
  $("pad-model").textContent = padInput(mod) ? `model ${mod.meta.name}, trained here` : `model ${mod.meta.name} does not take 64 pixels: train digits.nn to use the pad`;
  classify();
}

// ── the digit pad
/** The input and output the pad uses: one input of 64 values, the first vector output. */
function padInput(mod: CompiledModule): { input: string; output: string } | null {
  const inputs = Object.entries(mod.meta.inputs);
  const output = Object.entries(mod.meta.outputs).find(([, s]) => s.length === 1 && s[0]! > 1);
  if (inputs.length !== 1 || inputs[0]![1].reduce((a, b) => a * b, 1) !== GRID * GRID || !output) return null;
  return { input: inputs[0]![0], output: output[0] };
}

const pad = new DigitPad($("pad"), () => classify());
function classify(): void {
  const pixels = pad.pixels();
  drawPixels($("pad-preview"), pixels);
  $("pad-preview").dataset.pixels = Array.from(pixels).join(",");
  const ul = $("probabilities");
  const io = trained && padInput(trained.mod);
  if (!trained || !io || pixels.every((v) => v === 0)) {
    ul.replaceChildren();
    return;
  }
  // one sample, normalized as `nnc predict` normalizes its data
  const sample = { count: 1, inputs: { [io.input]: Float64Array.from(pixels) }, targets: {} };
  const x = (trained.normalization ? applyNormalization(sample, trained.normalization) : sample).inputs[io.input]!;
  const y = trained.mod.predict(trained.params, { [io.input]: x })[io.output] as Float64Array;
  const p = Array.from(y);
  const top = p.indexOf(Math.max(...p));
  ul.replaceChildren(
    ...p.map((v, k) => {
      const li = document.createElement("li");
      li.dataset.class = String(k);
      li.dataset.p = String(v);
      if (k === top) li.className = "top";
      li.innerHTML = `<span class="k">${k}</span><span class="bar" style="width:${(100 * v).toFixed(1)}%"></span><span class="v">${(100 * v).toFixed(1)} %</span>`;
      return li;
    }),
  );
  $("pad-answer").textContent = `${top}`;
}

// ── wiring
$("train").addEventListener("click", startTraining);
$("stop").addEventListener("click", () => stopTraining("stopped"));
$("download-module").addEventListener("click", () => compiled && download(`${stem()}.ts`, compiled.ts, "text/typescript"));
$("download-weights").addEventListener("click", () => trained && download(`${trained.compiled.name}.weights.json`, trained.weightsJson, "application/json"));
$("pad-clear").addEventListener("click", () => {
  pad.clear();
  $("pad-answer").textContent = "";
  classify();
});
$<HTMLSelectElement>("example").addEventListener("change", (e) => load((e.target as HTMLSelectElement).value));

examples = (await (await fetch(new URL("./examples.json", import.meta.url))).json()) as Examples;
$("example").replaceChildren(
  ...examples.models.map((m) => {
    const o = document.createElement("option");
    o.value = o.textContent = m.file;
    return o;
  }),
);
const asked = new URLSearchParams(location.search).get("example");
const first = examples.models.some((m) => m.file === asked) ? asked! : "xor.nn";
$<HTMLSelectElement>("example").value = first;
load(first);
classify();
document.body.dataset.ready = "true";
