/**
 * train({ threads }) (runtime/threads/, docs/scale-out.md): the batch gradient computed on 1, 2
 * and 3 threads gives the same training to rounding (1e-12 relative after several steps) for every
 * optimizer, on both targets, with a regularizer (parameter-only terms counted once) and with
 * dropout (the masks of one thread); progress, early stopping, divergence, checkpoints and resume
 * behave as with one thread; bad values are refused; the workers end; the CLI's --threads.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { Precision } from "../../compiler/target.js";
import { compile } from "../../compiler/pipeline.js";
import { loadDataset, subset } from "../../runtime/data/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { OPTIMIZERS } from "../../compiler/semantics/train-block.js";
import { defaultThreads, MAX_DEFAULT_THREADS, ShardPool } from "../../runtime/threads/pool.js";
import { train, type Checkpoint, type TrainOptions, type TrainResult } from "../../runtime/train.js";
import type { Dataset, ParamSet } from "../../runtime/types.js";
import { NncUsageError } from "../../runtime/usage.js";
import { toWeightsFile } from "../../runtime/weights.js";
import { CLI, requireBuiltCli, runCli } from "../helpers/cli.js";
import { ROOT } from "../helpers/corpus.js";

const TARGETS = ["ts", "wasm"] as const;

async function moduleOf(source: string, target: "ts" | "wasm", precision: Precision = "f64"): Promise<CompiledModule> {
  const r = await compile(source, { file: "model.nn", target, precision });
  if (r.js === null) throw new Error("the test model does not compile");
  return loadModule(r.js);
}

const digitsSource = readFileSync(join(ROOT, "examples", "digits.nn"), "utf8");
const digitsShape = { inputs: { x: [64] }, targets: { t: [10] } };
const digits = loadDataset(join(ROOT, "examples/data/digits-train.csv"), digitsShape);
/** 203 samples: batches of 50 and a last one of 3, shards of uneven sizes for 3 threads */
const small: Dataset = subset(digits, Array.from({ length: 203 }, (_, i) => i * 5));

/** A looped dense layer, then dropout: the masks must be those one thread draws. */
const dropoutSource = `input x[64]
target t[10]
layer h = dense(x, 40, relu)
d = dropout(h, 0.3)
layer y = dense(d, 10, softmax)
loss cross_entropy(y, t)
`;

/** The largest difference relative to the scale (largest magnitude) of its tensor. */
function relativeDiff(a: ParamSet, b: ParamSet): number {
  let worst = 0;
  for (const k of Object.keys(b)) {
    let scale = 0, diff = 0;
    for (let i = 0; i < b[k]!.length; i++) {
      scale = Math.max(scale, Math.abs(b[k]![i]!));
      diff = Math.max(diff, Math.abs(a[k]![i]! - b[k]![i]!));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

const optimizer = (name: OptimizerConfig["name"], lr: number): OptimizerConfig => ({ name, args: { ...OPTIMIZERS[name], lr } });

const LRS: Record<string, number> = { sgd: 0.1, momentum: 0.05, nesterov: 0.05, adagrad: 0.05, rmsprop: 0.003, adam: 0.003, adadelta: 1, lbfgs: 1 };

function agreeAcrossThreads(mod: CompiledModule, data: Dataset, options: Omit<TrainOptions, "threads">, tolerance: number): TrainResult[] {
  const runs = [1, 2, 3].map((threads) => train(mod, data, { ...options, threads }));
  const [one, ...others] = runs;
  for (const r of others) {
    expect(r.stopped).toBe(one!.stopped);
    expect(r.history.length).toBe(one!.history.length);
    expect(relativeDiff(r.params, one!.params)).toBeLessThan(tolerance);
    for (let e = 0; e < r.history.length; e++) expect(Math.abs(r.history[e]!.train.loss - one!.history[e]!.train.loss)).toBeLessThan(tolerance * one!.history[e]!.train.loss);
  }
  // the steps moved the parameters: the agreement is not that of untrained weights
  const start = mod.createParams();
  mod.initParams(start, options.seed);
  expect(relativeDiff(one!.params, start)).toBeGreaterThan(1e-3);
  return runs;
}

describe("train({ threads }): 1, 2 and 3 threads agree to 1e-12", () => {
  for (const target of TARGETS)
    for (const name of Object.keys(LRS) as OptimizerConfig["name"][])
      it(`${name}, ${target} target (digits with weight decay: 8 steps, or 3 full-batch iterations)`, async () => {
        const mod = await moduleOf(digitsSource, target);
        const lbfgs = name === "lbfgs";
        agreeAcrossThreads(mod, small, { epochs: lbfgs ? 3 : 2, batch: 50, optimizer: optimizer(name, LRS[name]!), seed: 7 }, 1e-12);
      });

  for (const target of TARGETS)
    it(`dropout: the shards draw one thread's masks (adam, ${target} target, batch 50)`, async () => {
      const mod = await moduleOf(dropoutSource, target);
      expect(mod.meta.hasDropout).toBe(true);
      const options = { epochs: 2, batch: 50, optimizer: optimizer("adam", 0.003), seed: 3 };
      // (a shard drawing from a stream of its own would train to other weights by far more)
      agreeAcrossThreads(mod, small, options, 1e-12);
    });

  it("f32 modules agree to float32 rounding (the reduction sums in double)", async () => {
    const mod = await moduleOf(digitsSource, "wasm", "f32");
    agreeAcrossThreads(mod, small, { epochs: 2, batch: 50, optimizer: optimizer("adam", 0.003), seed: 7 }, 1e-5);
  });
});

/** Small enough for newton's n × n Hessian (650 parameters), with weight decay. */
const softmaxSource = `input x[64]
target t[10]
layer y = dense(x, 10, softmax)
loss cross_entropy(y, t) + 0.001 * 0.5 * sumsq(y.W)
`;

describe("train({ threads }): the second-order optimizers' sharded objective", () => {
  for (const target of TARGETS)
    for (const name of ["newton", "newton_cg"] as const)
      it(`${name}, ${target} target (3 iterations; the Hessian-vector products on the main thread)`, async () => {
        const mod = await moduleOf(softmaxSource, target);
        agreeAcrossThreads(mod, small, { epochs: 3, batch: 50, optimizer: { name, args: { ...OPTIMIZERS[name] } }, seed: 7 }, 1e-12);
      });
});

describe("train({ threads }) behaves as with one thread", () => {
  it("reports the same progress, and stops early at the same epoch, restoring the same weights", async () => {
    const mod = await moduleOf(digitsSource, "wasm");
    const validation = subset(digits, Array.from({ length: 100 }, (_, i) => i * 5 + 1));
    const runs = [1, 2].map((threads) => {
      const progress: string[] = [];
      const r = train(mod, small, {
        epochs: 40,
        batch: 50,
        optimizer: optimizer("adam", 0.05),
        seed: 7,
        validation,
        earlyStopping: { patience: 2, minDelta: 0 },
        threads,
        onProgress: (e, done, total) => progress.push(`${e}:${done}/${total}`),
      });
      return { r, progress };
    });
    expect(runs[0]!.r.stopped).toBe("early-stopping");
    expect(runs[1]!.r.stopped).toBe("early-stopping");
    expect(runs[1]!.r.bestEpoch).toBe(runs[0]!.r.bestEpoch);
    expect(runs[1]!.progress).toEqual(runs[0]!.progress);
    expect(relativeDiff(runs[1]!.r.params, runs[0]!.r.params)).toBeLessThan(1e-12);
  });

  it("stops at the same step when training diverges", async () => {
    const mod = await moduleOf(digitsSource, "ts");
    const runs = [1, 2].map((threads) => train(mod, small, { epochs: 5, batch: 50, optimizer: optimizer("sgd", 1e200), seed: 7, threads }));
    expect(runs[0]!.stopped).toBe("diverged");
    expect(runs[1]!.stopped).toBe("diverged");
    const where = (m: string | null) => /at epoch \d+, step \d+/.exec(m ?? "")?.[0];
    expect(where(runs[1]!.message)).toBe(where(runs[0]!.message));
  });

  for (const [name, before, after] of [
    ["adam", 2, 2],
    ["adam", 2, 3],
    ["adam", 1, 2],
    ["adam", 2, 1],
    ["lbfgs", 2, 2],
  ] as const)
    it(`a run resumed from a checkpoint of ${before} thread(s) with ${after} (${name}) ends where the uninterrupted run does`, async () => {
      const mod = await moduleOf(digitsSource, "wasm");
      const options = { epochs: 4, batch: 50, optimizer: optimizer(name, LRS[name]!), seed: 7 };
      let after2: Checkpoint | null = null;
      const whole = train(mod, small, { ...options, threads: before, onCheckpoint: (c) => void (c.resume.epoch === 2 && (after2 = structuredClone(c))) });
      const cp = after2 as unknown as Checkpoint;
      // the caller's own arrays, not views of the threads' shared memory
      for (const a of [...Object.values(cp.params), ...Object.values(whole.params)]) expect(a.buffer).toBeInstanceOf(ArrayBuffer);
      const file = JSON.parse(JSON.stringify(toWeightsFile(mod, cp.params, { normalization: cp.normalization, training: {}, metrics: {}, resume: cp.resume })));
      const resumed = train(mod, small, { ...options, resume: file, threads: after });
      expect(resumed.history.length).toBe(4);
      if (before === after) for (const k of Object.keys(whole.params)) expect(Array.from(resumed.params[k]!)).toEqual(Array.from(whole.params[k]!));
      else expect(relativeDiff(resumed.params, whole.params)).toBeLessThan(1e-12);
    });
});

describe("train({ threads }): the module, bad values, failures, the end of the workers", () => {
  it("refuses a thread count out of range, naming options.threads", async () => {
    const mod = await moduleOf(digitsSource, "ts");
    for (const threads of [0, 1.5, 65, NaN, "2"])
      expect(() => train(mod, small, { epochs: 1, batch: 50, optimizer: optimizer("sgd", 0.1), seed: 1, threads: threads as number })).toThrow(/^options\.threads: expected an integer from 1 to 64/);
  });

  it("needs the module's URL for a module loadModule did not make, and imports it from options.moduleUrl", async () => {
    const r = await compile(digitsSource, { file: "digits.nn", target: "wasm" });
    const dir = mkdtempSync(join(tmpdir(), "nnc-threads-"));
    const file = join(dir, "digits.mjs");
    writeFileSync(file, r.js!);
    const mod = (await import(pathToFileURL(file).href)) as CompiledModule;
    const options = { epochs: 1, batch: 50, optimizer: optimizer("adam", 0.003), seed: 7 };
    let error: unknown;
    try {
      train(mod, small, { ...options, threads: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NncUsageError);
    expect((error as NncUsageError).field).toBe("options.threads");
    expect(() => train(mod, small, { ...options, threads: 2, moduleUrl: 5 as unknown as string })).toThrow(/^options\.moduleUrl: /);
    const one = train(mod, small, options);
    for (const moduleUrl of [file, pathToFileURL(file), pathToFileURL(file).href]) {
      const two = train(mod, small, { ...options, threads: 2, moduleUrl });
      expect(relativeDiff(two.params, one.params)).toBeLessThan(1e-12);
    }
  });

  it("reports a worker that cannot load the module as an error, without hanging", async () => {
    const mod = await moduleOf(digitsSource, "ts");
    const broken = `data:text/javascript,${encodeURIComponent("throw new Error('no module here')")}`;
    expect(() => train(mod, small, { epochs: 1, batch: 50, optimizer: optimizer("sgd", 0.1), seed: 1, threads: 2, moduleUrl: broken })).toThrow(/training thread 1 failed: .*no module here/);
  });

  it("ends its workers when closed", async () => {
    const mod = await moduleOf(digitsSource, "wasm");
    const threadsNow = () => readdirSync("/proc/self/task").length;
    const before = threadsNow();
    const pool = new ShardPool(mod, small, null, 3, 50, (await import("../../runtime/load-module.js")).loadedFrom(mod)!, optimizer("adam", 0.01));
    // on the wasm target every shard runs in a worker, in the threads' shared memory, and one more thread supervises them
    expect(threadsNow()).toBeGreaterThanOrEqual(before + 4);
    const supervisor = (pool as unknown as { supervisor: import("node:worker_threads").Worker }).supervisor;
    const exit = new Promise<number>((resolve) => supervisor.once("exit", resolve));
    pool.close();
    await exit;
    for (let waited = 0; threadsNow() > before && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(threadsNow()).toBe(before);
    const params = mod.createParams();
    expect(() => pool.objective(params, mod.createParams())).toThrow(/closed/);
  });
});

describe("the default number of threads (nnc train without --threads)", () => {
  it("is 1 for a small step, the cores for a large one, at most MAX_DEFAULT_THREADS and one per 16 samples", async () => {
    const digitsMod = await moduleOf(digitsSource, "ts");
    expect(defaultThreads(digitsMod, 16, 8).threads).toBe(1);
    expect(defaultThreads(digitsMod, 16, 8).why).toMatch(/too small to share/);
    // digits' 2410 parameters: 436 samples a step hold MIN_WORK_PER_THREAD (2²⁰) once
    expect(defaultThreads(digitsMod, 1000, 8).threads).toBe(2);
    const mnist = await moduleOf(readFileSync(join(ROOT, "examples", "mnist.nn"), "utf8"), "ts");
    expect(defaultThreads(mnist, 16, 2).threads).toBe(1);
    expect(defaultThreads(mnist, 32, 2).threads).toBe(2);
    expect(defaultThreads(mnist, 128, 2).threads).toBe(2);
    expect(defaultThreads(mnist, 128, 1).threads).toBe(1);
    expect(defaultThreads(mnist, 48, 64).threads).toBe(3);
    expect(defaultThreads(mnist, 128, 64).threads).toBe(MAX_DEFAULT_THREADS);
    expect(defaultThreads(mnist, 60000, 64).threads).toBe(MAX_DEFAULT_THREADS);
    expect(defaultThreads(mnist, 60000, 64).why).toMatch(/at most 8 unasked/);
  });
});

describe("nnc train --threads", () => {
  it("trains xor to the same accuracy and loss as one thread", () => {
    requireBuiltCli();
    const dir = mkdtempSync(join(tmpdir(), "nnc-threads-cli-"));
    writeFileSync(join(dir, "xor.nn"), readFileSync(join(ROOT, "examples", "xor.nn"), "utf8").replace("data/xor.csv", join(ROOT, "examples", "data", "xor.csv")));
    const runs = [1, 2].map((threads) => {
      const r = runCli(["train", "xor.nn", "--threads", String(threads), "-o", `w${threads}.json`], dir);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      return { out: r.stdout, metrics: JSON.parse(readFileSync(join(dir, `w${threads}.json`), "utf8")).metrics };
    });
    expect(runs[1]!.out).toMatch(/^threads 2$/m);
    expect(runs[0]!.out).not.toMatch(/^threads/m);
    expect(runs[1]!.metrics.train.accuracy).toBe(1);
    expect(runs[1]!.metrics.train.accuracy).toBe(runs[0]!.metrics.train.accuracy);
    expect(Math.abs(runs[1]!.metrics.train.loss - runs[0]!.metrics.train.loss)).toBeLessThan(1e-9 * runs[0]!.metrics.train.loss);
  });

  it("ends with its threads on SIGINT, mid-run", async () => {
    requireBuiltCli();
    const dir = mkdtempSync(join(tmpdir(), "nnc-threads-sigint-"));
    const child = spawn(process.execPath, [CLI, "train", join(ROOT, "examples", "digits.nn"), "--threads", "2", "--epochs", "100000", "--patience", "100000", "-o", join(dir, "w.json")], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<[number | null, string | null]>((resolve) => child.on("exit", (code, signal) => resolve([code, signal])));
    // the first epoch line: the threads are running
    let out = "";
    await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => /^epoch +1\//m.test((out += d.toString())) && resolve()));
    child.kill("SIGINT");
    expect(await exited).toEqual([null, "SIGINT"]);
  });

  it("refuses --threads out of range (exit 1, the rule named)", () => {
    requireBuiltCli();
    for (const bad of ["0", "65", "1.5", "two"]) {
      const r = runCli(["train", join(ROOT, "examples", "xor.nn"), "--threads", bad, "-o", "/dev/null"], tmpdir());
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/--threads <n>.*expected an integer from 1 to 64/);
    }
  });
});
