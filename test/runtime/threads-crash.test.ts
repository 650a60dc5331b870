/**
 * train({ threads }) when a worker thread ends without running JavaScript (runtime/threads/
 * supervisor.ts, docs/scale-out.md): `process.exit` in a module's code, a thread terminated from
 * outside (during a step or between two), out of memory, an uncaught asynchronous throw while the
 * module loads, an import that never settles or never ends. Each is an error naming the thread,
 * never a hang; every thread of the pool ends; the same process then trains with threads again, to
 * one thread's result.
 *
 * Each case runs in a child process on the built package (dist/, as the CLI tests): a hang blocks
 * the training thread synchronously, where no timer of vitest's can fire, so the bound that turns
 * a regression into a failed test rather than a hung run is the child's (spawnSync's timeout).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { OPTIMIZERS } from "../../compiler/semantics/train-block.js";
import type { TrainOptions } from "../../runtime/train.js";
import { ROOT } from "../helpers/corpus.js";

const TARGETS = ["ts", "wasm"] as const;
const DIST = join(ROOT, "dist");

/** the example's model; its train block is not used (the child trains with `options`) */
const xorSource = readFileSync(join(ROOT, "examples", "xor.nn"), "utf8");

/** one step an epoch, on xor's four samples twice (the child's data set) */
const options: TrainOptions = { epochs: 4, batch: 8, optimizer: { name: "sgd", args: { ...OPTIMIZERS.sgd, lr: 0.5 } }, seed: 1, threads: 2 };

/**
 * The child: loads the module at `spec.module`, trains it with `spec.options` (the pool it starts
 * recorded, `globalThis.endThread()` ending its thread `spec.terminate`), waits until the process
 * has no more threads than before, then trains the unsabotaged `spec.plain` with 2 threads and 1.
 * Prints the failure's message, the largest difference between those two runs' parameters, and
 * the threads left; it must then end by itself (the pools' threads never keep it alive).
 */
const CHILD = `
import { promises, readdirSync } from "node:fs";
const [dist, spec] = [process.argv[2], JSON.parse(process.argv[3])];
const { loadModule } = await import(dist + "/runtime/load-module.js");
const { train } = await import(dist + "/runtime/train.js");
const { ShardPool } = await import(dist + "/runtime/threads/pool.js");
const { provideThreads, threadsProvider } = await import(dist + "/runtime/threads/provider.js");
const x = Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1]);
const data = { count: 8, inputs: { x }, targets: { t: Float64Array.from([0, 1, 1, 0, 0, 1, 1, 0]) } };
const threadCount = () => readdirSync("/proc/self/task").length;
const settled = async (before) => {
  while (threadCount() > before) await new Promise((resolve) => setTimeout(resolve, 10));
};
// (reading asynchronously starts libuv's thread pool before the count)
const [mod, plain] = await Promise.all([spec.module, spec.plain].map(async (f) => loadModule(await promises.readFile(f, "utf8"))));
const before = threadCount();
const original = threadsProvider();
let pool;
provideThreads({ ...original, start: (...args) => (pool = original.start(...args)) });
globalThis.endThread = () => pool.terminateThread(spec.terminate);
if (spec.startupMs) ShardPool.startupMs = spec.startupMs;
// between the 1st and 2nd step: the thread is ended, and the supervisor given time to see it
// before the main thread starts the next step
const between = { onStep: (s) => s.step === 1 && (globalThis.endThread(), spin(300)) };
// after the 1st step, without waiting: the supervisor ends the thread while the 2nd runs (on the
// wasm target the main thread computes no shard, so it cannot end one from inside a step)
const during = { onStep: (s) => s.step === 1 && globalThis.endThread() };
const spin = (ms) => { for (const until = performance.now() + ms; performance.now() < until; ); };
let message = null, kind = null;
try {
  train(mod, data, { ...spec.options, ...(spec.between ? between : spec.during ? during : {}) });
} catch (e) {
  message = e.message;
  kind = e.name;
}
provideThreads(original);
ShardPool.startupMs = 60000;
await settled(before);
const two = train(plain, data, { ...spec.options, threads: 2 });
const one = train(plain, data, { ...spec.options, threads: 1 });
let again = 0;
for (const k in one.params) one.params[k].forEach((v, i) => (again = Math.max(again, Math.abs(v - two.params[k][i]))));
await settled(before);
console.log(JSON.stringify({ message, kind, again, threadsLeft: threadCount() - before }));
`;

const scratch = mkdtempSync(join(tmpdir(), "nnc-threads-crash-"));
const childFile = join(scratch, "child.mjs");
writeFileSync(childFile, CHILD);

/** xor's module for `target`, as a file; with `code`, sabotaged as `sabotage` says */
async function moduleFile(target: "ts" | "wasm", name: string, code: Sabotage = {}): Promise<string> {
  const r = await compile(xorSource, { file: "xor.nn", target });
  if (r.js === null) throw new Error("the test model does not compile");
  const file = join(scratch, `${name}-${target}.mjs`);
  writeFileSync(file, sabotage(r.js, code));
  return file;
}

interface Sabotage {
  /** run when the module loads */
  readonly top?: string;
  /** run before gradientBatchTrain's 2nd call on a worker thread */
  readonly inWorker?: string;
  /** run before gradientBatchTrain's 2nd call on the main thread (shard 0's) */
  readonly inMain?: string;
}

/** The module's JavaScript with its exported gradientBatchTrain wrapped, and `code.top` appended. */
function sabotage(js: string, code: Sabotage): string {
  const head = "export function gradientBatchTrain(";
  expect(js.split(head).length).toBe(2);
  return `${js.replace(head, "function gradientBatchTrainInner(")}
import { isMainThread as testIsMain } from "node:worker_threads";
let testCalls = 0;
export function gradientBatchTrain(...args) {
  if (++testCalls === 2) {
    if (testIsMain) { ${code.inMain ?? ""} } else { ${code.inWorker ?? ""} }
  }
  return gradientBatchTrainInner(...args);
}
${code.top ?? ""}
`;
}

interface Outcome {
  readonly message: string | null;
  /** the error's name: NncResourceError for a thread the system ended, Error for an exception in one */
  readonly kind: string | null;
  readonly again: number;
  readonly threadsLeft: number;
}

/** Runs the child on the module `code` makes; it must end within the bound, and print its outcome. */
async function crash(target: "ts" | "wasm", code: Sabotage, spec: { threads?: number; terminate?: number; between?: boolean; during?: boolean; startupMs?: number; node?: string[] } = {}): Promise<Outcome> {
  if (!existsSync(join(DIST, "runtime", "threads", "supervisor.js")))
    throw new Error(`${DIST} has no runtime/threads/supervisor.js: build first with \`npx tsc -p tsconfig.build.json\` (npm test does this before vitest)`);
  const module = await moduleFile(target, "sabotaged", code);
  const plain = await moduleFile(target, "plain");
  const { threads, node, ...rest } = spec;
  const arg = JSON.stringify({ module, plain, options: { ...options, threads: threads ?? 2 }, ...rest });
  const r = spawnSync(process.execPath, [...(node ?? []), childFile, pathToFileURL(DIST).href, arg], { encoding: "utf8", timeout: 45_000 });
  if (r.error) throw new Error(`the child did not end (a hang): ${r.error.message}\n${r.stderr}`);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const outcome = JSON.parse(r.stdout) as Outcome;
  // a thread that ended is the machine's limit (the CLI's exit 1); an exception in one, a bug
  if (outcome.message !== null) expect(outcome.kind).toBe(/ended unexpectedly|ERR_WORKER_OUT_OF_MEMORY|did not start/.test(outcome.message) ? "NncResourceError" : "Error");
  // every thread ended, and the process trained with threads again to one thread's result
  expect(outcome.threadsLeft).toBe(0);
  expect(outcome.again).toBeLessThan(1e-12);
  return outcome;
}

describe("train({ threads }): a thread that ends without a word is an error, never a hang", () => {
  for (const target of TARGETS)
    it(`process.exit(3) in a worker's gradient at the 2nd step (${target} target)`, async () => {
      const { message } = await crash(target, { inWorker: "process.exit(3);" });
      // on the wasm target both shards run in workers, and either may end first
      expect(message).toMatch(target === "ts" ? /^training thread 1 failed: the thread ended unexpectedly \(exit code 3\)$/ : /^training thread [01] failed: the thread ended unexpectedly \(exit code 3\)$/);
    }, 60_000);

  for (const target of TARGETS)
    it(`a worker terminated from outside at the 2nd step (${target} target, 3 threads)`, async () => {
      // ts: shard 0's 2nd gradient, on the main thread, has the supervisor end thread 2: while the
      // main thread computes, or once it waits at the barrier; wasm (every shard in a worker): the
      // main thread asks for it as it starts the 2nd step
      const { message } = await crash(target, target === "ts" ? { inMain: "globalThis.endThread();" } : {}, { threads: 3, terminate: 2, during: target === "wasm" });
      expect(message).toBe("training thread 2 failed: the thread ended unexpectedly (exit code 1)");
    }, 60_000);

  it("a worker terminated between two steps (the supervisor's release outlasts the main thread's reset of the counters)", async () => {
    const { message } = await crash("ts", {}, { terminate: 1, between: true });
    expect(message).toBe("training thread 1 failed: the thread ended unexpectedly (exit code 1)");
  }, 60_000);

  it("a worker that runs out of memory (the child's heaps bounded to 64 MB: a worker's is the process's)", async () => {
    const inWorker = "const heap = []; for (;;) heap.push({ a: [heap.length] });";
    const { message } = await crash("wasm", { inWorker }, { node: ["--max-old-space-size=64"] });
    // Node's message, without Node's stack
    expect(message).toMatch(/^training thread [01] failed: Error \[ERR_WORKER_OUT_OF_MEMORY\]: Worker terminated due to reaching memory limit: JS heap out of memory$/);
  }, 60_000);

  it("an uncaught asynchronous throw in a worker as the module loads", async () => {
    const top = `if (!testIsMain) { setTimeout(() => { throw new Error("thrown later"); }, 0); await new Promise((resolve) => setTimeout(resolve, 200)); }`;
    const { message } = await crash("ts", { top });
    expect(message).toMatch(/^training thread 1 failed: Error: thrown later\n/);
  }, 60_000);

  it("a worker whose import of the module never settles (nothing left to run: its thread ends)", async () => {
    const { message } = await crash("wasm", { top: "if (!testIsMain) await new Promise(() => {});" }, { threads: 3 });
    // wasm: every shard's thread imports the module (shards 0–2)
    expect(message).toMatch(/^training thread [012] failed: the thread ended unexpectedly \(exit code 0\)$/);
  }, 60_000);

  it("a worker whose import never ends: the startup alone is bounded", async () => {
    const { message } = await crash("ts", { top: "if (!testIsMain) await new Promise(() => setInterval(() => {}, 1000));" }, { startupMs: 500 });
    expect(message).toBe("the training threads did not start within 0.5 s");
  }, 60_000);
});
