#!/usr/bin/env node
/**
 * The `nnc` command line: compile, check, explain. Every failure the user can cause ends in a
 * diagnostic and exit status 1; nothing writes a partial file; no stack trace reaches the user
 * (set NNC_DEBUG=1 to see one for an internal error).
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { renderDiagnostics } from "./diagnostics/render.js";
import { Diagnostics, format } from "./diagnostics/diagnostic.js";
import { checkOutputs, OutputError, writeFileAtomic } from "./io.js";
import { printableLines } from "./diagnostics/printable.js";
import type { CompileOptions, Emit } from "./pipeline.js";
import { DEFAULT_UNROLL, MAX_SOURCE_LENGTH, MAX_UNROLL, VERSION } from "./settings.js";
import type { PredictFlags, TrainFlags } from "../runtime/cli-train.js";
import { isPrecision, PRECISIONS, TARGETS, type Precision, type Target } from "./target.js";
import { chooseTarget } from "./choose-target.js";
import { describeRule, fitsRule, MC_SEED, NUMBER_RULES, parseFlagNumber, type NumberSetting } from "../runtime/usage.js";
import type { Model } from "./semantics/model.js";
import { FULL_BATCH_OPTIMIZERS } from "./semantics/train-block.js";
// the gradient checks import nothing heavy (no typescript): loaded with the CLI
import { CHECK_TOLERANCE as TOLERANCE, gradCheck, precisionCheck } from "../runtime/gradcheck.js";
import { batchHessianOf, hessianCheck } from "../runtime/hessian-check.js";
import type { CompiledModule } from "../runtime/load-module.js";

// only commands that run a module load the loader
const loadModule = async (code: string) => (await import("../runtime/load-module.js")).loadModule(code);

/** The compiler is loaded by the commands that compile (cli-compiler.ts): not by --version or --help. */
const compiler = () => import("./cli-compiler.js");

/** The training runtime is loaded only by `train` and `predict`. */
const runtime = () => import("../runtime/cli-train.js");

class UserError extends Error {}

/** A source of more bytes than this has more than MAX_SOURCE_LENGTH characters (UTF-16 code
 * units): UTF-8 takes at most 3 bytes per code unit (4 for a surrogate pair), and an invalid
 * sequence of at most 3 bytes decodes to one U+FFFD. */
const MAX_SOURCE_BYTES = 3 * MAX_SOURCE_LENGTH;

function readFailure(file: string, e: unknown): UserError {
  return new UserError(`nnc: error NN9001: ${format("NN9001", [file, (e as NodeJS.ErrnoException).code ?? String(e)])}`);
}

/** The source; a file surely over the size limit is reported (NN5003, as the pipeline renders
 * it) without being read: a string of gigabytes cannot even be built. */
function readSource(file: string): string {
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch (e) {
    throw readFailure(file, e);
  }
  if (bytes > MAX_SOURCE_BYTES) {
    const diagnostics = new Diagnostics();
    diagnostics.error("NN5003", null, `${bytes} bytes`, MAX_SOURCE_LENGTH);
    throw new UserError(renderDiagnostics(file, "", diagnostics.sorted()).trimEnd());
  }
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw readFailure(file, e);
  }
}

function collectSet(value: string, previous: Record<string, number>): Record<string, number> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(value);
  const v = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(v)) throw new InvalidArgumentError(format("NN9003", [value]));
  return { ...previous, [m[1]!]: v };
}

/**
 * The parser of a numeric flag: decimal text (parseFlagNumber) within the setting's range, one
 * table for the CLI and the library (NUMBER_RULES, runtime/usage.ts; docs/limits.md).
 */
function ruled(setting: NumberSetting): (value: string) => number {
  const rule = NUMBER_RULES[setting];
  return (value) => {
    const v = parseFlagNumber(value);
    if (!fitsRule(v, rule)) throw new InvalidArgumentError(`expected ${describeRule(rule)}`);
    return v;
  };
}

function unrollThreshold(value: string): number {
  const v = parseFlagNumber(value);
  if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError("expected a non-negative integer");
  if (v > MAX_UNROLL)
    throw new InvalidArgumentError(`expected at most ${MAX_UNROLL}: unrolling a layer of that much work already takes half a minute and a gigabyte, and yields megabytes of code (docs/limits.md)`);
  return v;
}

/** `nnc tune --budget`: seconds of wall time, more than 0 and at most a week. */
function budgetSeconds(value: string): number {
  const v = parseFlagNumber(value);
  if (!(v > 0 && v <= 7 * 24 * 3600)) throw new InvalidArgumentError("expected seconds of wall time: a number greater than 0 and at most 604800 (a week)");
  return v;
}

function targetName(value: string): Target {
  if (!(TARGETS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${TARGETS.join(" or ")}`);
  return value as Target;
}

function precisionOf(value: string): Precision {
  if (!isPrecision(value)) throw new InvalidArgumentError(`expected ${PRECISIONS.join(" or ")}`);
  return value;
}

interface CommonOpts {
  set?: Record<string, number>;
  unroll?: number;
  target?: Target;
  precision?: Precision;
}

function compileOptions(file: string, o: CommonOpts, emit: Emit = "ts"): CompileOptions {
  return { file, set: o.set ?? {}, unroll: o.unroll ?? DEFAULT_UNROLL, emit, target: o.target ?? "ts", precision: o.precision ?? "f64" };
}

/** Prints diagnostics (errors and warnings) to stderr; true when there were errors. */
function report(file: string, source: string, diags: { sorted(): readonly import("./diagnostics/diagnostic.js").Diagnostic[]; hasErrors: boolean }): boolean {
  const text = renderDiagnostics(file, source, diags.sorted());
  if (text) process.stderr.write(printableLines(text));
  return diags.hasErrors;
}

async function runCompile(file: string, o: CommonOpts & { output?: string; emit: "ts" | "js" }): Promise<number> {
  const { compile, stem } = await compiler();
  const source = readSource(file);
  const base = o.output && o.output !== "-" ? o.output.replace(/\.(ts|js)$/, "") : join(dirname(file), stem(file));
  // '-' prints the module (the .js alone with --emit js); the files are checked before compiling
  const paths = o.output === "-" ? [] : o.emit === "js" ? [`${base}.js`, `${base}.d.ts`] : [o.output ?? `${base}.ts`];
  checkOutputs(paths.map((path) => ({ what: "the output", path })), [{ what: "the model", path: file }]);
  const result = await compile(source, compileOptions(file, o, o.emit));
  const text = o.emit === "js" ? result.js : result.ts;
  if (report(file, source, result.diagnostics) || text === null) return 1;
  if (o.output === "-") process.stdout.write(text);
  else if (o.emit === "js") {
    writeFileAtomic(paths[0]!, text);
    writeFileAtomic(paths[1]!, result.dts!);
  } else writeFileAtomic(paths[0]!, text);
  return 0;
}

async function runCheck(file: string, flags: CommonOpts & { seed: number; tolerance?: number; samples: number; hessian?: boolean }): Promise<number> {
  if (flags.hessian && flags.precision === "f32")
    throw new UserError("nnc: error: --hessian compares with central differences, which need float64: drop --precision f32 (the f32 module's gradient is checked by nnc check --precision f32)");
  if (flags.precision === "f32") return runCheckF32(file, { ...flags, tolerance: flags.tolerance ?? TOLERANCE.f32 });
  const o = { ...flags, tolerance: flags.tolerance ?? TOLERANCE.f64 };
  const { compile } = await compiler();
  const source = readSource(file);
  const result = await compile(source, compileOptions(file, o, "memory"));
  if (report(file, source, result.diagnostics) || result.js === null) return 1;
  const mod = await loadModule(result.js);
  const r = gradCheck(mod, { seed: o.seed, samples: o.samples });
  const width = Math.max(9, ...r.params.map((p) => p.name.length));
  const lines = [`gradient check of ${result.model!.name}: central differences in float64, ${o.samples} samples, seed ${o.seed}`];
  lines.push(`${"parameter".padEnd(width)}  ${"size".padStart(7)}  ${"checked".padStart(7)}  worst relative error`);
  for (const p of r.params) {
    const flag = p.worst > o.tolerance ? `  ✗ above ${o.tolerance} (element ${p.at}: analytic ${p.analytic}, numeric ${p.numeric})` : "";
    lines.push(`${p.name.padEnd(width)}  ${String(p.size).padStart(7)}  ${String(p.checked).padStart(7)}  ${p.worst.toExponential(2)}${flag}`);
  }
  let ok = r.worst <= o.tolerance;
  lines.push(ok ? `ok: worst ${r.worst.toExponential(2)} ≤ tolerance ${o.tolerance}` : `FAILED: worst ${r.worst.toExponential(2)} > tolerance ${o.tolerance}`);
  if (o.hessian) ok = hessianLines(mod, result.model!.name, o, lines) && ok;
  (ok ? process.stdout : process.stderr).write(lines.join("\n") + "\n");
  return ok ? 0 : 1;
}

/** `nnc check --hessian`: H·v against central differences of the gradient, and its symmetry; true when within tolerance. */
function hessianLines(mod: CompiledModule, name: string, o: { seed: number; samples: number; tolerance: number }, lines: string[]): boolean {
  if (batchHessianOf(mod) === null) throw new UserError("nnc: error: this module exports no hessianVectorProductBatch: --hessian needs a module compiled by this version of nnc");
  const h = hessianCheck(mod, { seed: o.seed, samples: o.samples });
  const width = Math.max(9, ...h.params.map((p) => p.name.length));
  lines.push("", `Hessian check of ${name}: H·u and H·v against central differences of the gradient in float64, random directions u, v, the same parameters and samples`);
  lines.push(`${"parameter".padEnd(width)}  ${"size".padStart(7)}  worst relative error`);
  for (const p of h.params) {
    const flag = p.worst > o.tolerance ? `  ✗ above ${o.tolerance} (element ${p.at} of H·${p.direction}: analytic ${p.analytic}, numeric ${p.numeric})` : "";
    lines.push(`${p.name.padEnd(width)}  ${String(p.size).padStart(7)}  ${p.worst.toExponential(2)}${flag}`);
  }
  lines.push(`symmetry: uᵀ(Hv) = ${h.uHv}, vᵀ(Hu) = ${h.vHu}, relative difference ${h.symmetry.toExponential(2)}${h.symmetry > o.tolerance ? `  ✗ above ${o.tolerance}` : ""}`);
  const ok = h.worst <= o.tolerance;
  lines.push(ok ? `ok: worst ${h.worst.toExponential(2)} ≤ tolerance ${o.tolerance}` : `FAILED: worst ${h.worst.toExponential(2)} > tolerance ${o.tolerance}`);
  return ok;
}

/**
 * `nnc check --precision f32`: float32 cannot resolve central differences, so the f32 module's
 * gradient is compared with the f64 module's at the same parameters and samples (relative to
 * each tensor's scale), and the f64 module with central differences as usual.
 */
async function runCheckF32(file: string, o: CommonOpts & { seed: number; tolerance: number; samples: number }): Promise<number> {
  const { compile } = await compiler();
  const source = readSource(file);
  const result = await compile(source, compileOptions(file, o, "memory"));
  if (report(file, source, result.diagnostics) || result.js === null) return 1;
  const reference = await compile(source, { ...compileOptions(file, o, "memory"), precision: "f64" });
  const mod = await loadModule(result.js);
  const ref = await loadModule(reference.js!);
  const fd = gradCheck(ref, { seed: o.seed, samples: o.samples });
  const r = precisionCheck(mod, ref, { seed: o.seed, samples: o.samples });
  const width = Math.max(9, ...r.params.map((p) => p.name.length));
  const lines = [
    `gradient check of ${result.model!.name} in f32: float32 cannot resolve central differences, so the f32 module's gradient is compared with the f64 module's,`,
    `at the same parameters and ${o.samples} samples (seed ${o.seed}, all rounded to float32); error = |f32 − f64| / the tensor's largest |f64 gradient| (at least 1e-3)`,
  ];
  lines.push(`${"parameter".padEnd(width)}  ${"size".padStart(7)}  ${"scale".padStart(9)}  worst error`);
  for (const p of r.params) {
    const flag = p.worst > o.tolerance ? `  ✗ above ${o.tolerance} (element ${p.at}: f32 ${p.value}, f64 ${p.reference})` : "";
    lines.push(`${p.name.padEnd(width)}  ${String(p.size).padStart(7)}  ${p.scale.toExponential(2).padStart(9)}  ${p.worst.toExponential(2)}${flag}`);
  }
  lines.push(`${"(loss)".padEnd(width)}  ${"1".padStart(7)}  ${"".padStart(9)}  ${r.lossError.toExponential(2)}  (f32 ${r.loss}, f64 ${r.referenceLoss})${r.lossError > o.tolerance ? `  ✗ above ${o.tolerance}` : ""}`);
  const refOk = fd.worst <= TOLERANCE.f64;
  lines.push(`the f64 reference against central differences in float64: worst relative error ${fd.worst.toExponential(2)}${refOk ? "" : `  ✗ above ${TOLERANCE.f64} (run nnc check without --precision f32)`}`);
  const ok = r.worst <= o.tolerance && refOk;
  lines.push(ok ? `ok: worst ${r.worst.toExponential(2)} ≤ tolerance ${o.tolerance}` : `FAILED: worst ${r.worst.toExponential(2)}${r.worst > o.tolerance ? ` > tolerance ${o.tolerance}` : ""}${refOk ? "" : "; the f64 reference fails its own check"}`);
  (ok ? process.stdout : process.stderr).write(lines.join("\n") + "\n");
  return ok ? 0 : 1;
}

async function runExplain(file: string, o: CommonOpts & { ir?: boolean; schedule?: boolean; hessian?: boolean }): Promise<number> {
  if (o.ir && o.schedule) throw new UserError("nnc: error: --ir and --schedule print different things: give one of them");
  if (o.hessian && o.schedule) throw new UserError("nnc: error: --hessian and --schedule print different things: give one of them (--schedule shows sampleHessianVector's schedule too)");
  const { baseName, check, explain, explainHessian, explainHessianIr, explainIr, kernelLibrary, plan, printSchedule, scheduleModule } = await compiler();
  const source = readSource(file);
  const { diagnostics, model } = check(source, compileOptions(file, o));
  if (report(file, source, diagnostics) || model === null) return 1;
  const planned = plan(model);
  if (o.schedule) {
    // the schedules compile prints from, with the same options
    const target = o.target ?? "ts";
    const kernels = target === "wasm" ? await kernelLibrary(o.precision ?? "f64", planned) : undefined;
    const schedules = scheduleModule(model, planned, { file: baseName(file), unroll: o.unroll ?? DEFAULT_UNROLL, version: VERSION, target, kernels });
    process.stdout.write(schedules.map(printSchedule).join("\n"));
    return 0;
  }
  if (o.hessian) process.stdout.write(o.ir ? explainHessianIr(model, planned) : explainHessian(model, planned));
  else process.stdout.write(o.ir ? explainIr(model, planned) : explain(model, planned));
  return 0;
}

/**
 * Compiles the model in memory and loads the module; null (diagnostics printed) on errors. Without
 * --target, the target is chosen for the model and `batch` (choose-target.ts) and `say` is told.
 */
async function compileAndLoad(
  file: string,
  o: CommonOpts,
  batch?: (model: Model) => { batch: number; optimizer?: string },
  say?: (line: string) => void,
  /** runs before any work on the checked model: validates the paths the command will write */
  prepare?: (model: Model) => void,
) {
  const { check, compile } = await compiler();
  const source = readSource(file);
  let target = o.target;
  if ((target === undefined && batch !== undefined) || prepare !== undefined) {
    const { model } = check(source, compileOptions(file, o));
    if (model !== null) prepare?.(model);
    if (model !== null && target === undefined && batch !== undefined) {
      const run = batch(model);
      const choice = chooseTarget(model, run.batch, o.unroll ?? DEFAULT_UNROLL, run.optimizer);
      target = choice.target;
      say?.(`target ${choice.target}: ${choice.why} (--target to choose)`);
    }
  }
  let result;
  try {
    result = await compile(source, compileOptions(file, { ...o, target }, "memory"));
  } catch (e) {
    // the wasm target nnc chose needs wabt for this model's kernels (an optional dependency): the ts target does not
    const { isWabtMissing } = await import("./codegen/wasm/assemble.js");
    if (!(o.target === undefined && target === "wasm" && isWabtMissing(e))) throw e;
    say?.("target ts instead: wabt, which assembles this model's WebAssembly kernels, is not installed (npm install wabt@1.0.39 for the wasm target)");
    target = "ts";
    result = await compile(source, compileOptions(file, { ...o, target }, "memory"));
  }
  if (report(file, source, result.diagnostics) || result.js === null) return null;
  return { model: result.model!, mod: await loadModule(result.js), target: target ?? "ts" };
}

const EXPORT_FORMATS = ["pytorch", "onnx"] as const;

interface ExportFlags {
  format: (typeof EXPORT_FORMATS)[number];
  output: string;
  weights?: string;
  set?: Record<string, number>;
}

function exportFormat(value: string): ExportFlags["format"] {
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${EXPORT_FORMATS.join(" or ")}`);
  return value as ExportFlags["format"];
}

/** `nnc export`: the exporter of each format is loaded only when asked for. */
async function runExport(file: string, o: ExportFlags): Promise<number> {
  if (o.format === "pytorch") return runExportPyTorch(file, o);
  const onnx = await import("./export/onnx-cli.js");
  const { OnnxExportError } = await import("./export/onnx.js");
  let paths: import("./export/onnx-cli.js").OnnxExportPaths | undefined;
  const loaded = await compileAndLoad(file, o, undefined, undefined, (model) => (paths = onnx.checkOnnxOutputs(file, model, o)));
  if (loaded === null) return 1;
  try {
    onnx.runExportOnnx(file, loaded.model, loaded.mod, paths!, VERSION, o.output === "-" ? stderr : stdout);
  } catch (e) {
    if (e instanceof OnnxExportError) throw new UserError(`nnc: error: ${e.message}`);
    throw e;
  }
  return 0;
}

/** `--format pytorch -o DIR`: DIR/model.py and DIR/train.py (compiler/export/pytorch*.ts). */
async function runExportPyTorch(file: string, o: ExportFlags): Promise<number> {
  if (o.weights !== undefined) throw new UserError("nnc: error: --weights: the PyTorch export writes code; train.py makes the weights (or load a .safetensors file into Model with its state_dict names)");
  const { check } = await compiler();
  const source = readSource(file);
  const { diagnostics, model } = check(source, compileOptions(file, o));
  if (report(file, source, diagnostics) || model === null) return 1;
  const ex = await import("./export/index.js");
  let files;
  try {
    files = ex.exportPyTorch(file, model, o.output, VERSION);
  } catch (e) {
    if (e instanceof ex.ExportError) throw new UserError(`nnc: error: ${file}: ${e.message}`);
    throw e;
  }
  makeDirectory(o.output);
  checkOutputs(files.map((f) => ({ what: "the export", path: f.path })), [{ what: "the model", path: file }]);
  for (const f of files) writeFileAtomic(f.path, f.text);
  stdout(`wrote ${files.map((f) => f.path).join(" and ")}`);
  const warning = ex.pyTorchWarning(file, model);
  if (warning !== null) stderr(`nnc: warning: ${warning}`);
  return 0;
}

/** The output directory of an export, made if missing; a file there is an error. */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`nnc: error: -o ${dir}: cannot make the directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!statSync(dir).isDirectory()) throw new UserError(`nnc: error: -o ${dir}: not a directory`);
}

// messages carry file names and data cells: printed without their control characters
const stdout = (s: string) => void process.stdout.write(printableLines(s) + "\n");
const stderr = (s: string) => void process.stderr.write(printableLines(s) + "\n");

export function program(): Command {
  const cmd = new Command();
  cmd
    .name("nnc")
    .description("Compile a .nn neural-network model into a TypeScript module with its exact gradient.")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeErr: (s) => void process.stderr.write(printableLines(s)) });
  const common = (c: Command) =>
    c
      .option("--set <name=value>", "override a `const` of the model (repeatable)", collectSet, {})
      .option("--unroll <N>", `fully unroll layers with at most N weights (default ${DEFAULT_UNROLL}, at most ${MAX_UNROLL}); larger ones use loops`, unrollThreshold)
      .option("--target <ts|wasm>", "ts: TypeScript throughout (default); wasm: dense layers as WebAssembly SIMD kernels embedded in the module", targetName);
  // on compile, check, train and predict; not on explain, which prints mathematics
  const precision = () => new Option("--precision <p>", "f64 (default) or f32: the module computes with Float64Arrays or Float32Arrays").argParser(precisionOf);
  common(
    cmd
      .command("compile")
      .description("write the generated module (model.ts next to model.nn unless -o is given)")
      .argument("<model.nn>", "the model source")
      .option("-o, --output <file>", "output file; '-' prints to stdout")
      .addOption(precision())
      .option("--emit <kind>", "ts (default) or js (writes .js and .d.ts)", (v) => {
        if (v !== "ts" && v !== "js") throw new InvalidArgumentError("expected ts or js");
        return v;
      }, "ts"),
  ).action(async (file: string, o) => setExit(await runCompile(file, o)));
  common(
    cmd
      .command("check")
      .description("compare the emitted gradient with central finite differences at random parameters")
      .argument("<model.nn>", "the model source")
      .option("--seed <n>", "seed for parameters and samples", ruled("seed"), 1)
      .option("--samples <n>", "samples in the checked batch", ruled("samples"), 3)
      .option("--tolerance <t>", `largest accepted relative error (default ${TOLERANCE.f64}; ${TOLERANCE.f32} with --precision f32)`, ruled("tolerance"))
      .option("--hessian", "also compare the module's Hessian-vector products with central differences of its gradient, and check their symmetry")
      .addOption(precision()),
  ).action(async (file: string, o) => setExit(await runCheck(file, o)));
  common(
    cmd
      .command("explain")
      .description("print the derived backward equations, layer by layer")
      .argument("<model.nn>", "the model source")
      .option("--ir", "print the IR of the loss and its gradient instead")
      .option("--hessian", "print the second derivative instead: the tangent equations of the Hessian-vector product H·v (with --ir, its IR)")
      .option("--schedule", "print the schedule of every function of the module instead (what is stored where, loops or unrolled, in which order)"),
  ).action(async (file: string, o) => setExit(await runExplain(file, o)));
  common(
    cmd
      .command("train")
      .description("train the model on a data file (the model's train { } block, overridden by these flags)")
      .argument("<model.nn>", "the model source")
      .option("--data <file>", "training data: CSV with a header, or an MNIST IDX images file (…-images-idx3-ubyte[.gz])")
      .option("--validation <file>", "validation data")
      .option("--split <fraction>", "hold out this fraction of the data for validation", ruled("split"))
      .option("--epochs <n>", "epochs", ruled("epochs"))
      .option("--batch <n>", "mini-batch size", ruled("batch"))
      .option("--lr <rate>", "learning rate", ruled("lr"))
      .option("--optimizer <name(args)>", "sgd, momentum, nesterov, adagrad, rmsprop, adam, adadelta, lbfgs, newton or newton_cg, with arguments if you like: \"adam(lr = 0.01)\"; arguments not given keep the train block's (docs/training.md)")
      .option("--schedule <name(args)>", "constant, step, cosine, linear, inverse_sqrt, cyclic(min_lr, max_lr, period) or cosine_restarts(period, mult = 1), e.g. \"cosine_restarts(period = 5)\"")
      .option("--snapshots <k>", "snapshot ensemble: save the weights at the end of each of the last k cycles of a cyclic or cosine_restarts schedule (<weights>.snap1.json, …)", ruled("snapshots"))
      .option("--seed <n>", "seed for initialization, shuffling and dropout", ruled("seed"))
      .option("--patience <n>", "early stopping: epochs without improvement of the validation loss", ruled("patience"))
      .option("--normalize <method>", "zscore, none, pca(k), whiten or zca, fitted on the training data (docs/data.md)")
      .option("--no-normalize", "do not normalize the inputs (--normalize none)")
      .option("--augment <spec>", "shift(pixels = 2): random translations of the image inputs, fresh per epoch; none: off")
      .option("--log-scale", "draw the loss plot's loss axis on a logarithmic scale")
      .option("-o, --output <file>", "weights file (default: <model>.weights.json next to the model; a name ending in .safetensors writes safetensors); '-' prints the weights JSON to stdout (messages go to stderr, and no checkpoint or loss curves are written unless --checkpoint is given)")
      .option("--checkpoint <file>", "checkpoint written after an epoch and at the end (default: beside the weights, <weights>.checkpoint.json)")
      .option("--checkpoint-seconds <s>", "least seconds between checkpoints (default 5; 0: after every epoch)", ruled("checkpointSeconds"))
      .option("--resume <checkpoint>", "continue from a checkpoint")
      .option("--threads <n>", "threads computing each batch's gradient (default: the cores, at most 8, when a step is large enough to share; docs/scale-out.md)", ruled("threads"))
      .addOption(precision()),
  ).action(async (file: string, o: CommonOpts & TrainFlags) => {
    // with the weights on stdout, the messages go to stderr
    const say = o.output === "-" ? stderr : stdout;
    const rt = await runtime();
    const loaded = await compileAndLoad(
      file,
      o,
      (model) => {
        // "adam(lr = 0.01)": the name (runtime/cli-train.ts checks the rest)
        const optimizer = o.optimizer?.replace(/\(.*$/s, "").trim() ?? model.train.optimizer?.name ?? "sgd";
        return { batch: (FULL_BATCH_OPTIMIZERS as readonly string[]).includes(optimizer) ? Infinity : (o.batch ?? model.train.batch ?? 32), optimizer };
      },
      say,
      (model) => rt.checkTrainOutputs(file, model, o),
    );
    setExit(loaded === null ? 1 : await rt.runTrain(file, loaded.model, loaded.mod, { ...o, target: loaded.target }, say, stderr));
  });
  common(
    cmd
      .command("predict")
      .description("predict with trained weights; with targets in the data, also loss, accuracy and a confusion matrix")
      .argument("<model.nn>", "the model source")
      .requiredOption("--weights <file>", "weights written by nnc train (.json, or .safetensors); repeat it for an ensemble: the mean of the models' outputs (probabilities for softmax and sigmoid outputs), with each member's metrics", (v: string, previous?: string[]) => [...(previous ?? []), v])
      .requiredOption("--data <file>", "data: CSV (inputs, optionally targets) or MNIST IDX")
      .option("-o, --output <file>", "write the predictions (CSV) here instead of stdout ('-': stdout)")
      .option("--allow-non-finite", "exit 0 even when some predictions are NaN or infinite (they are counted and reported either way; without this flag the exit status is 1)")
      .option("--mc-dropout <N>", `MC dropout: average N passes with dropout active (${describeRule(NUMBER_RULES.mcPasses)}); the CSV gets each output's mean and, in <output>_std columns, its standard deviation`, ruled("mcPasses"))
      .option("--seed <n>", `seed of --mc-dropout's masks (default ${MC_SEED}; member i of an ensemble draws from seed + i)`, ruled("seed"))
      .addOption(precision()),
  ).action(async (file: string, o: CommonOpts & PredictFlags) => {
    if (o.seed !== undefined && o.mcDropout === undefined) throw new UserError(`nnc: error: --seed ${o.seed} without --mc-dropout: predict draws nothing at random; give --mc-dropout N, or drop --seed`);
    const rt = await runtime();
    rt.checkPredictOutputs(file, o);
    const ensemble = o.weights.length > 1 || o.mcDropout !== undefined ? await import("../runtime/cli-ensemble.js") : null;
    // the whole data set is one batch for predictBatch
    const loaded = await compileAndLoad(file, o, () => ({ batch: Infinity }));
    if (loaded === null) return setExit(1);
    setExit(ensemble !== null ? await ensemble.runEnsemblePredict(loaded.model, loaded.mod, o, stdout, stderr) : await rt.runPredict(loaded.model, loaded.mod, o, stdout, stderr));
  });
  common(
    cmd
      .command("tune")
      .description("the notes' practical recipe: initial loss with regularization off, overfit a small sample, a learning-rate range test, a coarse grid of learning rate × regularization weights, the best refined longer; writes <model>.tune.json and <model>.tune.svg and prints the nnc train command of the best trial (docs/training.md, Tuning)")
      .argument("<model.nn>", "the model source")
      .option("--data <file>", "training data (default: the train block's)")
      .option("--validation <file>", "validation data (default: the train block's validation or split; else a split of 0.2 of the training data)")
      .option("--split <fraction>", "hold out this fraction of the training data for validation", ruled("split"))
      .option("--budget <seconds>", "wall time for the whole recipe, in seconds", budgetSeconds, 60)
      .option("--epochs <n>", "the refined trials' length (default: the train block's epochs, or 20)", ruled("epochs"))
      .option("--batch <n>", "mini-batch size (default: the train block's)", ruled("batch"))
      .option("--seed <n>", "seed for initialization, shuffling, the split and dropout", ruled("seed"))
      .option("--log-scale", "draw the report's loss axes on a logarithmic scale")
      .addOption(precision()),
  ).action(async (file: string, o: CommonOpts & import("../runtime/tune/cli.js").TuneFlags) => {
    const tuneCli = await import("../runtime/tune/cli.js");
    const loaded = await compileAndLoad(
      file,
      o,
      (model) => {
        const optimizer = model.train.optimizer?.name ?? "sgd";
        return { batch: (FULL_BATCH_OPTIMIZERS as readonly string[]).includes(optimizer) ? Infinity : (o.batch ?? model.train.batch ?? 32), optimizer };
      },
      stdout,
      (model) => tuneCli.checkTuneOutputs(file, model, o),
    );
    if (loaded === null) return setExit(1);
    const { compile } = await compiler();
    const source = readSource(file);
    // one module per setting of the consts, compiled once (the same target and precision)
    const modules = new Map<string, Promise<CompiledModule>>();
    const compileWith = (set: Record<string, number>) => {
      const key = JSON.stringify(Object.entries(set).sort());
      if (!modules.has(key))
        modules.set(key, (async () => {
          const r = await compile(source, compileOptions(file, { ...o, set, target: loaded.target }, "memory"));
          if (r.js === null) throw new UserError(renderDiagnostics(file, source, r.diagnostics.sorted()).trimEnd());
          return loadModule(r.js);
        })());
      return modules.get(key)!;
    };
    setExit(await tuneCli.runTune(file, source, loaded.model, loaded.mod, loaded.target, compileWith, o, stdout, stderr));
  });
  cmd
    .command("export")
    .description("write the model for another runtime: --format onnx writes the inference graph with the trained weights; --format pytorch writes DIR/model.py and DIR/train.py")
    .argument("<model.nn>", "the model source")
    .requiredOption("--format <format>", "pytorch or onnx", exportFormat)
    .requiredOption("-o, --output <path>", "onnx: the file to write ('-': stdout); pytorch: the directory for model.py and train.py (made if missing)")
    .option("--weights <file>", "onnx: weights written by nnc train (default: <model>.weights.json next to the model, where nnc train writes them)")
    .option("--set <name=value>", "override a `const` of the model (repeatable)", collectSet, {})
    .action(async (file: string, o: ExportFlags) => setExit(await runExport(file, o)));
  cmd
    .command("convert-weights")
    .description("convert weights between nnc's JSON and safetensors, each format chosen by its extension (.json, .safetensors); no model needed")
    .argument("<in>", "the weights to read (.json or .safetensors)")
    .argument("<out>", "the file to write (.json or .safetensors)")
    .option("--model <model.nn>", "also check the weights against this model's parameters and inputs")
    .option("--set <name=value>", "override a `const` of the --model (repeatable)", collectSet, {})
    .action(async (input: string, output: string, o: { model?: string; set?: Record<string, number> }) => {
      const convert = await import("../runtime/cli-convert.js");
      convert.checkConvertPaths(input, output, o.model);
      const loaded = o.model !== undefined ? await compileAndLoad(o.model, { set: o.set }) : null;
      if (o.model !== undefined && loaded === null) return setExit(1);
      setExit(convert.runConvert(input, output, loaded?.mod ?? null, stdout));
    });
  return cmd;
}

function setExit(code: number): void {
  process.exitCode = code;
}

export async function main(argv: string[]): Promise<void> {
  // a reader that stops early (`nnc predict … | head`) is not an error
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof OutputError) {
      process.stderr.write(printableLines(`nnc: error${e.code ? ` ${e.code}` : ""}: ${e.message}`) + "\n");
      process.exitCode = 1;
      return;
    }
    if (e instanceof UserError || (e instanceof Error && e.name === "CliError")) {
      process.stderr.write(printableLines(e.message) + "\n");
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`nnc: internal error: ${printableLines(String((e as Error).message))}\n(this is a bug in nnc; rerun with NNC_DEBUG=1 for details)\n`);
    if (process.env.NNC_DEBUG) process.stderr.write(String((e as Error).stack) + "\n");
    process.exitCode = 2;
  }
}

await main(process.argv);
