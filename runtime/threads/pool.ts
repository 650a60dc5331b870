/**
 * Data-parallel gradients over worker threads (`train({ threads })`, docs/scale-out.md, "Every
 * core of one machine"). The main thread keeps the parameters and the optimizer; a batch is cut
 * into `threads` contiguous shards, the main thread computing the first and worker k the k-th
 * (worker.ts), all with the same generated module. The parameters, the data, the batch order and
 * each worker's gradient live in SharedArrayBuffers; a step is started and awaited through Atomics
 * on a control buffer, so a step posts no message and the synchronous `train` stays synchronous.
 *
 * Each shard's batch gradient is its mean plus the parameter-only terms R; the batch's is their
 * weighted sum Σₖ (nₖ / n) gₖ, whose weights add up to 1, so R comes out once. The sum is taken in
 * shard order, element by element, in double: the result differs from one thread's by rounding
 * only, whatever the number of threads (test/runtime/threads.test.ts holds N = 1, 2, 3 to 1e-12).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { transpile, type CompiledModule } from "../load-module.js";
import { arrayOf, modulePrecision } from "../precision.js";
import { skipSeed } from "../random.js";
import type { Dataset, FloatArray, ParamSet } from "../types.js";
import { CMD_STRIDE, CONTROL_CELLS, DONE, FAILED, GEN, MESSAGE_BYTES, OP_EXIT, OP_IDLE, OP_OBJECTIVE, OP_TRAIN, type WorkerSetup } from "./worker.js";

const rowSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The worker's script: the compiled worker.js beside this file, or worker.ts transpiled when
 * running from the TypeScript sources (the tests). */
function workerScript(): URL {
  const built = new URL("./worker.js", import.meta.url);
  if (built.protocol !== "file:" || existsSync(fileURLToPath(built))) return built;
  transpiled ??= transpile(readFileSync(new URL("./worker.ts", import.meta.url), "utf8"));
  return new URL(`data:text/javascript;base64,${Buffer.from(transpiled).toString("base64")}`);
}
let transpiled: string | undefined;

/** Contiguous shards of `count` rows, shard k [bounds[k], bounds[k + 1]): sizes differ by at most
 * one, the larger first, so that the main thread's shard is never empty. */
function shardBounds(count: number, shards: number, bounds: Float64Array): void {
  for (let k = 0; k <= shards; k++) bounds[k] = count - Math.floor(((shards - k) * count) / shards);
}

export class ShardPool {
  /** the training data, copied once into shared memory: the training loop evaluates on it too */
  readonly data: Dataset;
  /** the batch order, written by the training loop and read by the workers */
  readonly order: Uint32Array;
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private readonly commands: Float64Array;
  private readonly message: SharedArrayBuffer;
  private readonly sharedParams: ParamSet;
  /** worker k's gradient (k ≥ 1; the main thread's shard writes the caller's) */
  private readonly grads: ParamSet[] = [];
  /** the reduction's sums, in double whatever the module's precision */
  private readonly sums: Float64Array;
  private readonly bounds: Float64Array;
  private readonly weights: Float64Array;
  /** the main thread's shard of a training batch, gathered here */
  private readonly batchInputs: Record<string, FloatArray>;
  private readonly batchTargets: Record<string, FloatArray>;
  private readonly gather: [FloatArray, FloatArray, number][] = [];
  /** the main thread's shard of the whole data set, for a full-batch objective */
  private readonly firstRows: { inputs: Record<string, FloatArray>; targets: Record<string, FloatArray> };
  /** random numbers one sample's training-mode gradient draws (dropout masks) */
  private readonly drawsPerSample: number;
  private closed = false;

  /**
   * Starts threads − 1 workers and waits until each has loaded the module. `moduleUrl` is where
   * the workers import the module from (a data: or file: URL); `maxBatch` the largest batch.
   */
  constructor(
    private readonly mod: CompiledModule,
    data: Dataset,
    readonly threads: number,
    maxBatch: number,
    moduleUrl: string,
  ) {
    const precision = modulePrecision(mod);
    const shared = (n: number) => (precision === "f32" ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float64Array(new SharedArrayBuffer(8 * n)));
    const share = (m: Record<string, FloatArray>) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, shared(a.length)]) as [string, FloatArray][]);
    const inputs = share(data.inputs);
    const targets = share(data.targets);
    for (const k in inputs) inputs[k]!.set(data.inputs[k]!);
    for (const k in targets) targets[k]!.set(data.targets[k]!);
    this.data = { count: data.count, inputs, targets };
    this.order = new Uint32Array(new SharedArrayBuffer(4 * Math.max(1, data.count)));
    this.control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_CELLS));
    this.commands = new Float64Array(new SharedArrayBuffer(8 * CMD_STRIDE * threads));
    this.message = new SharedArrayBuffer(MESSAGE_BYTES);
    const paramSizes = Object.fromEntries(Object.entries(mod.meta.params).map(([k, s]) => [k, rowSize(s)]));
    const paramsLike = () => Object.fromEntries(Object.entries(paramSizes).map(([k, n]) => [k, shared(n)])) as ParamSet;
    this.sharedParams = paramsLike();
    this.sums = new Float64Array(Math.max(0, ...Object.values(paramSizes)));
    this.bounds = new Float64Array(threads + 1);
    this.weights = new Float64Array(threads);

    const sizes: Record<string, number> = Object.fromEntries([...Object.entries(mod.meta.inputs), ...Object.entries(mod.meta.targets)].map(([k, s]) => [k, rowSize(s)]));
    const maxRows = Math.ceil(Math.min(maxBatch, data.count) / threads);
    const batch = (m: Record<string, FloatArray>) =>
      Object.fromEntries(
        Object.entries(m).map(([k, a]) => {
          const buf = precision === "f32" ? new Float32Array(maxRows * sizes[k]!) : new Float64Array(maxRows * sizes[k]!);
          this.gather.push([a, buf, sizes[k]!]);
          return [k, buf];
        }),
      ) as Record<string, FloatArray>;
    this.batchInputs = batch(inputs);
    this.batchTargets = batch(targets);
    shardBounds(data.count, threads, this.bounds);
    const rows = (m: Record<string, FloatArray>) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, a.subarray(0, this.bounds[1]! * sizes[k]!)]));
    this.firstRows = { inputs: rows(inputs), targets: rows(targets) };

    let draws = 0;
    if (mod.meta.hasDropout) {
      // counted on one sample (the masks do not depend on the values): the streams of the shards
      // are then cut from the one-thread stream at each shard's first sample
      // (on arrays of its own: createParams' would take room in a wasm module's arena)
      const plain = () => Object.fromEntries(Object.entries(paramSizes).map(([k, n]) => [k, arrayOf(precision, n)])) as ParamSet;
      mod.gradientBatchTrain(plain(), this.batchInputs, this.batchTargets, 1, plain(), () => (draws++, 0.5));
    }
    this.drawsPerSample = draws;

    const script = workerScript();
    const buffers = (m: Record<string, FloatArray>) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, a.buffer as SharedArrayBuffer]));
    for (let k = 1; k < threads; k++) {
      const grad = paramsLike();
      this.grads.push(grad);
      const setup: WorkerSetup = {
        role: "nnc-shard",
        index: k,
        moduleUrl,
        precision,
        control: this.control.buffer as SharedArrayBuffer,
        commands: this.commands.buffer as SharedArrayBuffer,
        message: this.message,
        order: this.order.buffer as SharedArrayBuffer,
        params: buffers(this.sharedParams),
        grad: buffers(grad),
        inputs: buffers(inputs),
        targets: buffers(targets),
        sizes,
        maxRows,
      };
      const worker = new Worker(script, { workerData: setup });
      // never what keeps the process alive: close() ends them, and so does the process's exit
      worker.unref();
      this.workers.push(worker);
    }
    try {
      this.await();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * The mean loss of the batch order[start … start + count) in training mode, its gradient in
   * `grad` (gradientBatchTrain's), from the parameters `params`. Dropout masks are those one thread
   * draws from `createRandom(seed)` after `position` samples of the epoch.
   */
  trainGradient(params: ParamSet, start: number, count: number, grad: ParamSet, seed: number, position: number): number {
    shardBounds(count, this.threads, this.bounds);
    for (let k = 1; k < this.threads; k++) {
      const at = k * CMD_STRIDE;
      const rows = this.bounds[k + 1]! - this.bounds[k]!;
      this.commands[at] = rows === 0 ? OP_IDLE : OP_TRAIN;
      this.commands[at + 1] = start + this.bounds[k]!;
      this.commands[at + 2] = rows;
      this.commands[at + 3] = skipSeed(seed, (position + this.bounds[k]!) * this.drawsPerSample);
    }
    this.start(params);
    const rows = this.bounds[1]!;
    for (const [src, dst, size] of this.gather)
      for (let r = 0; r < rows; r++) {
        const from = this.order[start + r]! * size;
        for (let j = 0; j < size; j++) dst[r * size + j] = src[from + j]!;
      }
    const random = this.mod.createRandom(skipSeed(seed, position * this.drawsPerSample));
    const loss = this.mod.gradientBatchTrain(params, this.batchInputs, this.batchTargets, rows, grad, random);
    return this.reduce(loss, count, grad);
  }

  /** The full-batch objective (mean loss over the data set, inference mode) and its gradient. */
  objective(params: ParamSet, grad: ParamSet): number {
    const count = this.data.count;
    shardBounds(count, this.threads, this.bounds);
    for (let k = 1; k < this.threads; k++) {
      const at = k * CMD_STRIDE;
      this.commands[at] = OP_OBJECTIVE;
      this.commands[at + 1] = this.bounds[k]!;
      this.commands[at + 2] = this.bounds[k + 1]! - this.bounds[k]!;
    }
    this.start(params);
    const loss = this.mod.gradientBatch(params, this.firstRows.inputs, this.firstRows.targets, this.bounds[1]!, grad);
    return this.reduce(loss, count, grad);
  }

  /** Ends the workers; the pool cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let k = 1; k < this.threads; k++) this.commands[k * CMD_STRIDE] = OP_EXIT;
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    for (const w of this.workers) void w.terminate();
  }

  private start(params: ParamSet): void {
    if (this.closed) throw new Error("the thread pool is closed");
    for (const k in params) this.sharedParams[k]!.set(params[k]!);
    Atomics.store(this.control, DONE, 0);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
  }

  /** Waits until every worker has finished (or started, after the constructor); throws a worker's failure. */
  private await(): void {
    for (;;) {
      const done = Atomics.load(this.control, DONE);
      if (done >= this.workers.length) break;
      Atomics.wait(this.control, DONE, done, 1000);
    }
    const failed = Atomics.load(this.control, FAILED);
    if (failed !== 0) {
      const length = new DataView(this.message).getUint32(MESSAGE_BYTES - 4);
      const text = new TextDecoder().decode(new Uint8Array(this.message).slice(0, length));
      throw new Error(`training thread ${failed - 1} failed: ${text}`);
    }
  }

  /** grad ← Σₖ (nₖ / count) gₖ in shard order, gₖ the k-th shard's gradient (the first is in grad). */
  private reduce(firstLoss: number, count: number, grad: ParamSet): number {
    this.await();
    const w = this.weights;
    for (let k = 0; k < this.threads; k++) w[k] = (this.bounds[k + 1]! - this.bounds[k]!) / count;
    let loss = w[0]! * firstLoss;
    for (let k = 1; k < this.threads; k++) if (w[k] !== 0) loss += w[k]! * this.commands[k * CMD_STRIDE + 4]!;
    // the shards with rows: 0 … last (the larger shards come first); the first is in grad
    let last = 0;
    for (let k = 1; k < this.threads; k++) if (w[k] !== 0) last = k;
    if (last === 0) return loss; // one shard: w[0] = 1, grad is the batch's
    const s = this.sums;
    for (const name in grad) {
      const g = grad[name]!;
      const n = g.length;
      // one pass per shard after the first, each adding in double what the shard contributes:
      // the same operations, in the same order, as one sum per element
      let into: FloatArray | Float64Array = last === 1 ? g : s;
      const g1 = this.grads[0]![name]!;
      const w0 = w[0]!, w1 = w[1]!;
      for (let i = 0; i < n; i++) into[i] = w0 * g[i]! + w1 * g1[i]!;
      for (let k = 2; k <= last; k++) {
        const wk = w[k]!;
        const gk = this.grads[k - 1]![name]!;
        into = k === last ? g : s;
        for (let i = 0; i < n; i++) into[i] = s[i]! + wk * gk[i]!;
      }
    }
    return loss;
  }
}

/**
 * Below this much work per thread and step (parameters × samples), a step is too short for
 * threads to pay: the start and the wait cost tens of microseconds, the reduction and the copies a
 * few passes over the parameters (docs/scale-out.md).
 */
export const MIN_WORK_PER_THREAD = 2 ** 20;
/** the most threads `nnc train` starts unasked */
export const MAX_DEFAULT_THREADS = 8;

export interface ThreadsChoice {
  readonly threads: number;
  /** one line for the user: how many and why */
  readonly why: string;
}

/**
 * The threads `nnc train` uses without --threads: the available cores, at most
 * MAX_DEFAULT_THREADS, and at most one per MIN_WORK_PER_THREAD of a step's work (`rows`: the
 * batch, or the data set for a full-batch optimizer); 1 for a small step.
 */
export function defaultThreads(mod: CompiledModule, rows: number, cores: number): ThreadsChoice {
  const params = Object.values(mod.meta.params).reduce((s, shape) => s + rowSize(shape), 0);
  const work = params * rows;
  const threads = Math.max(1, Math.min(cores, MAX_DEFAULT_THREADS, Math.floor(work / MIN_WORK_PER_THREAD), rows));
  const why =
    threads === 1 && cores > 1
      ? `a step's work (${params} parameters × ${rows} samples) is too small to share`
      : `${cores} core${cores === 1 ? "" : "s"}${cores > MAX_DEFAULT_THREADS ? ` (at most ${MAX_DEFAULT_THREADS} unasked)` : ""}, ${params} parameters × ${rows} samples a step`;
  return { threads, why };
}
