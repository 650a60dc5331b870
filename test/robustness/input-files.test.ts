/**
 * Property tests over the files `nnc train` and `nnc predict` read (issue #14), as fuzz.test.ts is
 * over sources: data files (CSV), weights files and checkpoints, each a valid file mutated
 * (mutate-files.ts). Whatever the input:
 *
 * - the command ends with status 0 or 1; a rejection is a user error (CliError: "nnc: error: …",
 *   exit 1) that names the file, and, where it gives a position, one inside the file; never an
 *   internal error (any other exception: exit 2), never a stack trace;
 * - an accepted file is a valid one: a data set of finite numbers (and classes in range), a
 *   weights file whose every parameter has the model's shape and finite values (not a string
 *   turned into NaN), a checkpoint with a whole number of epochs;
 * - a resumed run trains no more epochs than asked.
 *
 * The bulk runs in process, through runTrain / runPredict (the CLI's logic, behind only the
 * argument parsing and the catch that turns CliError into exit 1 and anything else into exit 2);
 * a handful goes through the built CLI with a small heap (--max-old-space-size) and its peak
 * resident memory measured, so that unbounded growth is a failure the test sees: among them a
 * gzip bomb, a deeply nested and a huge weights file.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { constants as zlibConstants, gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import type { Model } from "../../compiler/semantics/model.js";
import { runPredict, runTrain, type TrainFlags } from "../../runtime/cli-train.js";
import { loadDataset } from "../../runtime/data/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { CLI, hasStackTrace, requireBuiltCli } from "../helpers/cli.js";
import { ROOT } from "../helpers/corpus.js";
import { csvBytes, csvInputArb, idxBytes, idxInputArb, jsonInputArb, jsonText, mutateJson, type CsvInput, type IdxInput, type JsonInput } from "./mutate-files.js";

/** NNC_FUZZ_SEED / NNC_FUZZ_RUNS explore further; the suite runs the fixed default */
const SEED = Number(process.env.NNC_FUZZ_SEED ?? 20261130);
const RUNS = Number(process.env.NNC_FUZZ_RUNS ?? 400);
/** a resumed run is given this many epochs more than its checkpoint's */
const MORE_EPOCHS = 1;
/** the CLI runs' heap (MB), and the peak resident memory they may reach (MB): a normal run of iris peaks near 170 MB */
const HEAP_MB = 256;
const RSS_MB = 768;
/** and their address space (kB), so that a runaway allocation ends the child, not the machine's memory */
const ADDRESS_SPACE_KB = 3_000_000;

let dir = "";
let model: Model;
let mod: CompiledModule;
let modelFile = "";
/** the valid files the mutants start from */
let csv = "";
let header = "";
let weights: unknown;
let checkpoint: { resume: { epoch: number } };
let checkpointEpochs = 0;

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "nnc-input-files-"));
  modelFile = join(dir, "iris.nn");
  cpSync(join(ROOT, "examples", "iris.nn"), modelFile);
  const source = readFileSync(modelFile, "utf8");
  const r = await compile(source, { file: modelFile });
  model = r.model!;
  mod = await loadModule(r.js!);
  // iris cut to 30 rows, 10 of each class, so that a mutation often hits the header or a row that
  // matters and the seeded 0.2 split still has every class
  const lines = readFileSync(join(ROOT, "examples", "data", "iris.csv"), "utf8").trimEnd().split("\n");
  header = lines[0]!;
  csv = [header, ...[0, 50, 100].flatMap((s) => lines.slice(1 + s, 11 + s))].join("\n") + "\n";
  writeFileSync(join(dir, "base.csv"), csv);
  const code = await runTrain(modelFile, model, mod, { data: join(dir, "base.csv"), epochs: 3, output: join(dir, "base.weights.json"), checkpoint: join(dir, "base.checkpoint.json"), checkpointSeconds: 0 }, () => {});
  expect(code).toBe(0);
  weights = JSON.parse(readFileSync(join(dir, "base.weights.json"), "utf8"));
  checkpoint = JSON.parse(readFileSync(join(dir, "base.checkpoint.json"), "utf8"));
  checkpointEpochs = checkpoint.resume.epoch;
  expect(checkpointEpochs).toBe(3);
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** Thrown by `out` when a resumed run prints more epoch lines than it was given epochs. */
class TooManyEpochs extends Error {}

interface Outcome {
  /** 0 or 1 from the command, or the user error's message */
  readonly status: number;
  readonly message: string | null;
}

/** Runs a command in process, its lines to `out`; the problems with how it ended, for the property to report. */
async function judge(file: string | string[], command: (out: (line: string) => void) => Promise<number>): Promise<{ outcome: Outcome | null; problems: string[] }> {
  const lines: string[] = [];
  try {
    const status = await command((line) => lines.push(line));
    const problems = status === 0 || status === 1 ? [] : [`status ${status}`];
    // a loss or accuracy of NaN from a run that succeeded (an empty validation split, say) is a wrong result, not a result
    const nan = status === 0 ? lines.find((l) => /\bNaN\b/.test(l)) : undefined;
    if (nan !== undefined) problems.push(`exit 0, but printed NaN: ${nan.slice(0, 200)}`);
    return { outcome: { status, message: null }, problems };
  } catch (e) {
    const err = e as Error;
    // compiler/cli.ts: a CliError is exit 1 with its message; anything else is an internal error (exit 2)
    if (err?.name !== "CliError") return { outcome: null, problems: [`internal error (exit 2): ${err?.stack ?? String(e)}`] };
    const problems: string[] = [];
    const files = typeof file === "string" ? [file] : file;
    if (!files.some((f) => err.message.includes(f))) problems.push(`the message does not name ${files.join(" or ")}: ${err.message.slice(0, 300)}`);
    if (hasStackTrace(err.message)) problems.push(`a stack trace in the message: ${err.message.slice(0, 300)}`);
    if (/internal error/.test(err.message)) problems.push(`"internal error" in the message: ${err.message.slice(0, 300)}`);
    return { outcome: { status: 1, message: err.message }, problems };
  }
}

/** A position in a data file's message ("file:row:col:") inside the file. */
function placedInside(file: string, message: string, bytes: Buffer): string[] {
  const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+)(?::(\\d+))?:`).exec(message);
  if (m === null) return [];
  const lines = (bytes.toString("latin1").match(/\r\n|\r|\n/g)?.length ?? 0) + 1;
  const row = Number(m[1]), col = m[2] === undefined ? 1 : Number(m[2]);
  return row >= 1 && row <= lines && col >= 1 ? [] : [`position ${row}:${col} outside a file of ${lines} lines: ${message.slice(0, 300)}`];
}

const show = (bytes: Buffer) => JSON.stringify(bytes.length > 600 ? bytes.toString("utf8", 0, 600) + `… (${bytes.length} bytes)` : bytes.toString("utf8"));

// ---------------------------------------------------------------------------------------------
// validity of what was accepted

const isFiniteArray = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** Why a weights file should have been rejected, or null when it is valid for the model. */
function invalidWeights(text: string): string | null {
  let w: any;
  try {
    w = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (w === null || typeof w !== "object" || w.format !== "nnc-weights/1") return "no format nnc-weights/1";
  if (w.params === null || typeof w.params !== "object") return "no params";
  for (const [name, shape] of Object.entries(mod.meta.params)) {
    const p = Object.hasOwn(w.params, name) ? w.params[name] : undefined;
    if (p === null || typeof p !== "object") return `no parameter ${name}`;
    if (!Array.isArray(p.shape) || p.shape.length !== shape.length || p.shape.some((d: unknown, i: number) => d !== shape[i])) return `${name}: shape ${JSON.stringify(p.shape)?.slice(0, 80)}`;
    if (!isFiniteArray(p.values, shape.reduce((a, b) => a * b, 1))) return `${name}: values not ${shape.reduce((a, b) => a * b, 1)} finite numbers`;
  }
  const n = w.normalization;
  if (n !== null && n !== undefined) {
    for (const [input, shape] of Object.entries(mod.meta.inputs)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (!isFiniteArray(n?.mean?.[input], size)) return `normalization mean of ${input}`;
      if (!isFiniteArray(n?.std?.[input], size) || n.std[input].some((s: number) => !(s > 0))) return `normalization std of ${input} not positive finite`;
    }
  }
  return null;
}

function invalidCheckpoint(text: string): string | null {
  const bad = invalidWeights(text);
  if (bad !== null) return bad;
  const r = JSON.parse(text).resume;
  if (r === null || typeof r !== "object") return "no resume state";
  if (!Number.isInteger(r.epoch) || r.epoch < 0) return `resume.epoch ${JSON.stringify(r.epoch)}`;
  return null;
}

/** Why an accepted data file should have been rejected: a value not finite, or (with the valid header) a class out of range. */
function invalidData(file: string, bytes: Buffer): string | null {
  const data = loadDataset(file, { inputs: mod.meta.inputs, targets: mod.meta.targets });
  for (const set of [data.inputs, data.targets]) for (const [k, v] of Object.entries(set)) if (!v.every(Number.isFinite)) return `${k} has a value that is not finite`;
  // the class column 'species' of the valid header becomes a one-hot t[3]: a class out of 0..2 or
  // not whole would leave a row without its 1
  if (bytes.toString("utf8").split(/\r\n|\r|\n/, 1)[0] === header) {
    const t = data.targets.t!;
    for (let r = 0; r < data.count; r++) {
      const row = Array.from(t.subarray(3 * r, 3 * r + 3));
      if (row.filter((x) => x === 1).length !== 1 || row.filter((x) => x === 0).length !== 2) return `row ${r + 1}'s target is [${row}], not one-hot`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// the commands, in process

let serial = 0;
const fresh = (name: string) => join(dir, `${serial++}-${name}`);

function trainFlags(extra: TrainFlags): TrainFlags {
  const out = fresh("out");
  return { epochs: 1, output: `${out}.weights.json`, checkpoint: `${out}.checkpoint.json`, checkpointSeconds: 3600, ...extra };
}

/** A resumed run: its `out` counts epoch lines, and stops a run that trains more epochs than asked. */
function resumeFrom(file: string, print: (line: string) => void): Promise<number> {
  const epochs = checkpointEpochs + MORE_EPOCHS;
  let lines = 0;
  const out = (line: string) => {
    print(line);
    if (/^epoch /.test(line) && ++lines > epochs) throw new TooManyEpochs(`a run resumed from ${file} and given ${epochs} epochs trained more: ${line}`);
  };
  return runTrain(modelFile, model, mod, trainFlags({ data: join(dir, "base.csv"), resume: file, epochs, checkpointSeconds: 0 }), out);
}

function predictWith(weightsFile: string, dataFile: string, out: (line: string) => void): Promise<number> {
  return runPredict(model, mod, { weights: [weightsFile], data: dataFile, output: `${fresh("predictions")}.csv` }, out, out);
}

// ---------------------------------------------------------------------------------------------

/** One input's verdict: problems (none when the contract holds), whether it was rejected, and the input as the report shows it. */
interface Verdict {
  readonly problems: string[];
  readonly rejected: boolean;
  readonly input: string;
}

function partialGunzip(bytes: Buffer): Buffer {
  try {
    return gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0); // cut inside the gzip header: no text at all
  }
}

async function checkData(input: CsvInput, viaPredict: boolean): Promise<Verdict> {
  const bytes = csvBytes(csv, input);
  const file = `${fresh("data")}.csv${input.kind === "gzip" ? ".gz" : ""}`;
  writeFileSync(file, bytes);
  // the text the loader sees: positions and the header are the decompressed text's (as much of it as a cut file gives)
  const plain = input.kind === "gzip" ? partialGunzip(bytes) : bytes;
  const { outcome, problems } = await judge(file, (out) => (viaPredict ? predictWith(join(dir, "base.weights.json"), file, out) : runTrain(modelFile, model, mod, trainFlags({ data: file }), out)));
  if (outcome?.message) problems.push(...placedInside(file, outcome.message, plain));
  else if (outcome && !viaPredict) {
    const bad = invalidData(file, plain);
    if (bad !== null) problems.push(`accepted invalid data: ${bad}`);
  }
  return { problems, rejected: outcome?.message != null, input: `${viaPredict ? "predict" : "train"} with data ${input.kind === "gzip" ? `gzip of ${show(Buffer.from(plain))}, ${bytes.length} bytes` : show(bytes)}` };
}

async function checkIdx(input: IdxInput): Promise<Verdict> {
  // iris's x[4] takes 2 x 2 images, its t[3] classes 0..2
  const { images, labels } = idxBytes(input, 12, 2, 2, 3);
  const base = fresh("digits");
  const files = [`${base}-images-idx3-ubyte`, `${base}-labels-idx1-ubyte`];
  writeFileSync(files[0]!, images);
  writeFileSync(files[1]!, labels);
  const { outcome, problems } = await judge(files, (out) => runTrain(modelFile, model, mod, trainFlags({ data: files[0]! }), out));
  if (outcome && !outcome.message) {
    const bad = invalidData(files[0]!, Buffer.alloc(0));
    if (bad !== null) problems.push(`accepted invalid data: ${bad}`);
  }
  return { problems, rejected: outcome?.message != null, input: `train with IDX images ${images.toString("hex").slice(0, 80)} (${images.length} bytes), labels ${labels.toString("hex").slice(0, 80)} (${labels.length} bytes): ${JSON.stringify(input)}` };
}

async function checkWeights(input: JsonInput): Promise<Verdict> {
  const { text, changes } = mutateJson(weights, input);
  const file = `${fresh("weights")}.json`;
  writeFileSync(file, text);
  const { outcome, problems } = await judge(file, (out) => predictWith(file, join(dir, "base.csv"), out));
  if (outcome && !outcome.message) {
    const bad = invalidWeights(text);
    if (bad !== null) problems.push(`accepted an invalid weights file: ${bad}`);
  }
  return { problems, rejected: outcome?.message != null, input: `predict with a weights file mutated at ${changes.join("; ")}` };
}

async function checkCheckpoint(input: JsonInput): Promise<Verdict> {
  const { text, changes } = mutateJson(checkpoint, input);
  const file = `${fresh("checkpoint")}.json`;
  writeFileSync(file, text);
  const { outcome, problems } = await judge(file, (out) => resumeFrom(file, out));
  if (outcome && !outcome.message) {
    const bad = invalidCheckpoint(text);
    if (bad !== null) problems.push(`accepted an invalid checkpoint: ${bad}`);
  }
  return { problems, rejected: outcome?.message != null, input: `train --resume from a checkpoint mutated at ${changes.join("; ")}` };
}

/**
 * fc.assert over `check` with a fixed seed: the first failing input, shrunk. With NNC_FUZZ_REPORT=1
 * it runs all RUNS inputs instead and fails with every kind of problem found (its first line, file
 * names and numbers blanked), how often, and its shortest example: the list to fix from.
 */
async function property<T>(arb: fc.Arbitrary<T>, seed: number, checkOne: (x: T) => Promise<Verdict>, examples: T[] = []): Promise<void> {
  let rejected = 0;
  // the commands run synchronously: between two inputs the worker answers the test runner
  const check = async (x: T) => {
    await new Promise((resolve) => setImmediate(resolve));
    return checkOne(x);
  };
  if (process.env.NNC_FUZZ_REPORT) {
    const kinds = new Map<string, { count: number; example: Verdict }>();
    for (const x of [...examples, ...fc.sample(arb, { seed, numRuns: RUNS })]) {
      const v = await check(x);
      if (v.rejected) rejected++;
      for (const p of v.problems) {
        const key = p.split("\n")[0]!.replace(/\/[^\s:]*\d+-\w+\.(csv|json)/g, "FILE").replace(/\d+(\.\d+)?/g, "N").slice(0, 160);
        const k = kinds.get(key);
        if (!k) kinds.set(key, { count: 1, example: v });
        else if (v.input.length < k.example.input.length) kinds.set(key, { count: k.count + 1, example: v });
        else k.count++;
      }
    }
    const report = [...kinds].map(([key, k]) => `${k.count}× ${key}\n   e.g. ${k.example.input.slice(0, 400)}\n   ${k.example.problems.join("\n   ").slice(0, 600)}`);
    if (report.length > 0) throw new Error(`${report.length} kinds of problem in ${RUNS} inputs (${rejected} rejected):\n${report.join("\n")}`);
  } else {
    await fc.assert(
      fc.asyncProperty(arb, async (x) => {
        const v = await check(x);
        if (v.rejected) rejected++;
        if (v.problems.length > 0) throw new Error(`${v.input}:\n${v.problems.join("\n")}`);
      }),
      { seed, numRuns: RUNS, examples: examples.map((x) => [x] as [T]) },
    );
  }
  // both paths were taken: some mutants are rejected, some are still valid
  expect(rejected).toBeGreaterThan(RUNS / 10);
  expect(rejected).toBeLessThan(RUNS);
}

describe("property: any data file", () => {
  it(`${RUNS} mutated CSV files through train and predict: exit 0 or 1, the file named, placed inside it, no internal error; accepted data is valid`, async () => {
    // found by NNC_FUZZ_REPORT runs, too rare for the default seed: a header and one row (the 0.2
    // split leaves no validation sample)
    const oneRow: CsvInput = { kind: "mutated", mutations: [{ kind: "truncate", a: csv.indexOf("\n", header.length + 1) + 1, b: 0, text: "" }] };
    await property(fc.tuple(csvInputArb, fc.boolean()), SEED, ([input, viaPredict]) => checkData(input, viaPredict), [[oneRow, false]]);
  }, 120_000);
});

describe("property: any IDX images and labels", () => {
  it(`${RUNS} mutated IDX pairs (header words, bytes, lengths, gzip) through train: exit 0 or 1, a file named, no internal error; accepted data is valid`, async () => {
    await property(idxInputArb, SEED + 6, checkIdx);
  }, 120_000);
});

describe("property: any weights file", () => {
  it(`${RUNS} mutated weights files through predict: exit 0 or 1, the file named, no internal error; accepted weights are valid`, async () => {
    await property(jsonInputArb, SEED + 1, checkWeights);
  }, 120_000);
});

describe("property: any checkpoint", () => {
  it(`${RUNS} mutated checkpoints through train --resume: exit 0 or 1, the file named, no internal error, no more epochs than asked; accepted checkpoints are valid`, async () => {
    await property(jsonInputArb, SEED + 2, checkCheckpoint);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// through the built CLI, with a small heap and the peak memory measured

/** Prints the process's peak resident memory (kB) to the file NNC_RSS_FILE when it exits. */
const PROBE = `import { writeFileSync } from "node:fs";
process.on("exit", () => writeFileSync(process.env.NNC_RSS_FILE, String(process.resourceUsage().maxRSS)));
`;

describe("the built CLI on bad input files, with a small heap", () => {
  let probe = "";
  beforeAll(() => {
    probe = join(dir, "rss-probe.mjs");
    writeFileSync(probe, PROBE);
    cpSync(join(dir, "base.csv"), join(dir, "cli-base.csv"));
  });

  interface CliRun {
    readonly status: number | null;
    readonly signal: string | null;
    readonly stderr: string;
    readonly rssMb: number;
  }

  /** The built CLI with the small heap, the address space capped, and the peak memory measured (asynchronous: the test worker stays responsive). */
  function cli(args: string[]): Promise<CliRun> {
    const rssFile = fresh("rss");
    const node = [process.execPath, `--max-old-space-size=${HEAP_MB}`, "--import", probe, CLI, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-c", `ulimit -v ${ADDRESS_SPACE_KB} && exec "$@"`, "sh", ...node], {
        cwd: dir,
        env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1", NNC_RSS_FILE: rssFile },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      // a guard against a hang, far above any normal run
      const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", reject);
      child.on("close", (status, signal) => {
        clearTimeout(guard);
        let rssMb = NaN;
        try {
          rssMb = Number(readFileSync(rssFile, "utf8")) / 1024;
        } catch {
          // killed or crashed: no exit handler ran, and the status says so
        }
        resolve({ status, signal, stderr, rssMb });
      });
    });
  }

  /** soft expectations: every case runs, and the report lists each one that fails */
  function expectClean(what: string, file: string, r: CliRun): void {
    const why = `${what}\n--- status ${r.status} ${r.signal ?? ""}, peak ${r.rssMb.toFixed(0)} MB; stderr:\n${r.stderr.slice(0, 2000)}`;
    expect.soft([0, 1], why).toContain(r.status);
    expect.soft(hasStackTrace(r.stderr), why).toBe(false);
    expect.soft(r.stderr, why).not.toMatch(/internal error|FATAL ERROR|out of memory/i);
    if (r.status === 1) expect.soft(r.stderr, why).toContain(basename(file));
    expect.soft(r.rssMb, why).toBeLessThan(RSS_MB);
  }

  it("mutated data, weights files and checkpoints: exit 0 or 1, the file named, no stack trace, bounded memory", async () => {
    const cases: { what: string; file: string; args: string[] }[] = [];
    fc.sample(csvInputArb, { seed: SEED + 3, numRuns: 4 }).forEach((input, i) => {
      const file = `cli-data-${i}.csv`;
      writeFileSync(join(dir, file), csvBytes(csv, input));
      cases.push({ what: `data ${show(csvBytes(csv, input))}`, file, args: ["train", "iris.nn", "--data", file, "--epochs", "1", "-o", `cli-data-${i}.weights.json`] });
    });
    fc.sample(jsonInputArb, { seed: SEED + 4, numRuns: 3 }).forEach((input, i) => {
      const file = `cli-weights-${i}.json`;
      writeFileSync(join(dir, file), jsonText(weights, input));
      cases.push({ what: `weights ${file}`, file, args: ["predict", "iris.nn", "--weights", file, "--data", "cli-base.csv", "-o", `cli-predictions-${i}.csv`] });
    });
    fc.sample(jsonInputArb, { seed: SEED + 5, numRuns: 3 }).forEach((input, i) => {
      const file = `cli-checkpoint-${i}.json`;
      writeFileSync(join(dir, file), jsonText(checkpoint, input));
      cases.push({ what: `checkpoint ${file}`, file, args: ["train", "iris.nn", "--data", "cli-base.csv", "--resume", file, "--epochs", String(checkpointEpochs + MORE_EPOCHS), "-o", `cli-resumed-${i}.weights.json`] });
    });
    for (const c of cases) expectClean(c.what, c.file, await cli(c.args));
  }, 240_000);

  it("a gzip bomb (1 MB of gzip, 1 GB of rows), a weights file nested a million deep, one with a 64 MB string: exit 0 or 1, bounded memory", async () => {
    // 64 gzip members of 16 MB of valid rows each: decompressed whole, the file would not fit
    const rows = Buffer.from("5.1,3.5,1.4,0.2,0\n".repeat((16 << 20) / 18));
    const member = gzipSync(rows, { level: 9 });
    writeFileSync(join(dir, "bomb.csv.gz"), Buffer.concat(Array.from({ length: 64 }, () => member)));
    const deep = 1_000_000;
    writeFileSync(join(dir, "deep.weights.json"), JSON.stringify(weights).replace('"params":', `"params":${"[".repeat(deep)}${"]".repeat(deep)},"unused":`));
    writeFileSync(join(dir, "huge.weights.json"), JSON.stringify({ ...(weights as object), model: "x".repeat(64 << 20) }));
    expectClean("gzip bomb", "bomb.csv.gz", await cli(["train", "iris.nn", "--data", "bomb.csv.gz", "--epochs", "1", "-o", "bomb.weights.json"]));
    expectClean("deep nesting", "deep.weights.json", await cli(["predict", "iris.nn", "--weights", "deep.weights.json", "--data", "cli-base.csv"]));
    expectClean("huge string", "huge.weights.json", await cli(["predict", "iris.nn", "--weights", "huge.weights.json", "--data", "cli-base.csv"]));
  }, 240_000);
});
