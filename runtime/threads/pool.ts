/**
 * Data-parallel training over worker threads (`train({ threads })`, docs/scale-out.md, "Every core
 * of one machine"). On the ts target the main thread runs shard 0 and threads − 1 workers run the
 * others; on the wasm target threads workers run every shard in one shared WebAssembly memory and
 * the main thread starts the runs and waits
 * (worker.ts), each with the same generated module. The parameters, the optimizer's state, the
 * data, the batch order, the shards' gradients and the outputs of an evaluation live in
 * SharedArrayBuffers; a step is started and awaited through Atomics on a control buffer, so no
 * message is posted per step and the synchronous `train` stays synchronous.
 *
 * Per step: each shard's batch gradient (its mean plus the parameter-only terms R), a barrier,
 * then each shard reduces and updates its slice of every tensor — Σₖ (nₖ / n) gₖ in shard order,
 * whose weights add up to 1 so that R comes out once, then the optimizer's rule of
 * compiler/codegen/update-rules.ts (the same arithmetic as the runtime's optimizers and the
 * module's fused step). The result differs from one thread's by rounding only, whatever the
 * number of threads (test/runtime/threads.test.ts holds N = 1, 2, 3 to 1e-12). Evaluations (the
 * loss and accuracy after each epoch) are sharded the same way.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { UPDATE_RULES, type UpdateRule } from "../../compiler/codegen/update-rules.js";
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import { OPTIMIZERS } from "../../compiler/semantics/train-block.js";
import type { CompiledModule } from "../load-module.js";
import { provideThreads } from "./provider.js";
import type { SupervisorMessage, SupervisorSetup } from "./supervisor.js";
import { scoreOutputs, type Evaluation, type Scoring } from "../metrics.js";
import { createOptimizer } from "../optimizers/index.js";
import { arrayOf, modulePrecision } from "../precision.js";
import { skipSeed } from "../random.js";
import type { Dataset, FloatArray, Optimizer, OptimizerState, ParamSet } from "../types.js";
import {
  ARRIVED,
  CONTROL_CELLS,
  DONE,
  ENDED,
  FAILED,
  GEN,
  MESSAGE_BYTES,
  OP_EVALUATE,
  OP_EXIT,
  OP_OBJECTIVE,
  OP_TRAIN,
  Shard,
  shardStart,
  SLOT_CELLS,
  SLOT_LOSS,
  SLOT_SEED,
  SLOT_SUM,
  STEP_CELLS,
  STEP_COUNT,
  STEP_LR,
  STEP_OP,
  STEP_SCALARS,
  STEP_SET,
  STEP_START,
  STEP_STEPS,
  STEPS_PER_RUN,
  stepFinite,
  stepLoss,
  MAX_SCALARS,
  viewOf,
  waitAtLeast,
  type ShardModule,
  type ShardSetup,
  type SharedArray,
  type SharedSet,
  type ThreadMemory,
} from "./worker.js";
import { NncResourceError, NncUsageError } from "../usage.js";

const rowSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// train() finds the pool here (threads/provider.ts): the runtime's core imports no worker_threads
provideThreads({ start: (...args) => new ShardPool(...args), fileUrl: (path) => pathToFileURL(path).href });

/** A thread's script: the compiled worker.js (supervisor.js) beside this file, or worker.ts
 * (supervisor.ts) transpiled when running from the TypeScript sources (the tests: typescript is a
 * devDependency, required only on this path, so the built package never loads it). */
function workerScript(name: "worker" | "supervisor"): URL {
  const built = new URL(`./${name}.js`, import.meta.url);
  if (built.protocol !== "file:" || existsSync(fileURLToPath(built))) return built;
  const ts = createRequire(import.meta.url)("typescript") as typeof import("typescript");
  const source = readFileSync(new URL(`./${name}.ts`, import.meta.url), "utf8");
  const js = (transpiled[name] ??= ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText);
  return new URL(`data:text/javascript;base64,${Buffer.from(js).toString("base64")}`);
}
const transpiled: Partial<Record<string, string>> = {};

/** The update rule as a function of one slice: (p, g, ...state, from, to, lr, ...hyper, ...scalars). */
function updateSource(rule: UpdateRule): string {
  const args = ["p", "g", ...rule.state, "from", "to", "lr", ...rule.hyper, ...rule.perStep.map(([name]) => name)];
  return `function ${rule.name}Slice(${args.join(", ")}) {\n  for (let i = from; i < to; i++) {\n    ${rule.perElement.join("\n    ")}\n  }\n}`;
}

export class ShardPool {
  /** the training data and the validation data, copied once into shared memory */
  readonly data: Dataset;
  readonly validation: Dataset | null;
  /** the batch order, written by the training loop and read by the shards */
  readonly order: Uint32Array;
  /** the parameters the shards read and update */
  readonly params: ParamSet;
  /** the parameters before the last training step: the shards copy their slices before updating them */
  readonly before: ParamSet;
  /** the last step's gradient (or objective's) */
  readonly grad: ParamSet;
  /** the first-order optimizer whose rule the shards apply, its state in shared memory; null for L-BFGS */
  readonly optimizer: Optimizer | null;
  /** the thread that starts and watches the workers (supervisor.ts), whose children they are */
  private supervisor: Worker | null = null;
  private readonly control: Int32Array;
  private readonly step: Float64Array;
  private readonly slots: Float64Array;
  private readonly message: SharedArrayBuffer;
  private readonly outputs: Record<string, FloatArray>[] = [];
  /** the shard the main thread runs (0), or null when the workers run every shard (the shared wasm memory) */
  private readonly shard: Shard | null;
  private readonly placed: boolean;
  /** the shard the first worker runs: 1 when the main thread runs shard 0, else 0 */
  private readonly firstWorker: number;
  /** random numbers one sample's training-mode gradient draws (dropout masks) */
  private readonly drawsPerSample: number;
  private readonly rule: { readonly scalars: readonly ((s: Record<string, number>) => number)[]; readonly s: Record<string, number> } | null;
  /** the most steps of a training run (trainSteps) */
  readonly stepsPerRun = STEPS_PER_RUN;
  private closed = false;

  /**
   * Starts the workers (threads − 1, or threads on the wasm target) and waits until each has loaded the module. `moduleUrl` is where
   * the workers import it from (a data: or file: URL); `maxBatch` the largest training batch;
   * `optimizer` the first-order optimizer to apply (null: gradients only, for L-BFGS).
   */
  constructor(
    private readonly mod: CompiledModule,
    data: Dataset,
    validation: Dataset | null,
    readonly threads: number,
    maxBatch: number,
    moduleUrl: string,
    optimizer: OptimizerConfig | null,
  ) {
    const precision = modulePrecision(mod);
    const bytes = precision === "f32" ? 4 : 8;
    const sizesOf = (shapes: Record<string, number[]>) => Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, rowSize(s)]));
    const paramSizes = sizesOf(mod.meta.params);
    const sizes = { ...sizesOf(mod.meta.inputs), ...sizesOf(mod.meta.targets), ...sizesOf(mod.meta.outputs) };
    const buffer = (n: number, size: number) => new SharedArrayBuffer(size * Math.max(1, n));
    // A --target wasm module that can take a place in a shared memory (it exports
    // threadScratchBytes: codegen/wasm/prelude.ts) computes there, in every thread: the parameters,
    // the gradients and the optimizer's state are laid out in one WebAssembly memory, then each
    // thread's scratch buffers. The main thread's module has a memory of its own, so it runs no
    // shard: it starts the steps and waits.
    const placed = mod.threadScratchBytes !== undefined;
    let at = 16; // byte 0 means "absent" to the kernels
    const place = (n: number, size: number): SharedArray => {
      const a = { byteOffset: at, length: n };
      at += Math.ceil((Math.max(1, n) * size) / 16) * 16;
      return a;
    };
    const array = (n: number, size: number): SharedArray => (placed ? place(n, size) : { buffer: buffer(n, size), byteOffset: 0, length: n });
    const paramArrays = (f64 = false) => Object.fromEntries(Object.entries(paramSizes).map(([k, n]) => [k, array(n, f64 ? 8 : bytes)]));
    const rule = optimizer === null ? null : (UPDATE_RULES.find((r) => r.name === optimizer.name) ?? null);
    if (rule !== null && rule.perStep.length > MAX_SCALARS) throw new Error(`internal: ${rule.name} has more per-step scalars than a step record holds`);
    if (optimizer !== null && rule === null) throw new Error(`threads: optimizer ${optimizer.name} has no element-wise update rule to share (compiler/codegen/update-rules.ts)`);
    const hyperOf = (key: string) => optimizer!.args[key] ?? OPTIMIZERS[optimizer!.name][key]!;
    const params = paramArrays();
    const before = paramArrays();
    const grads = Array.from({ length: threads }, () => paramArrays());
    const state = (rule?.state ?? []).map(() => paramArrays(true));
    let memory: ThreadMemory | null = null;
    if (placed) {
      const scratchStart = at;
      const scratchBytes = Math.ceil(mod.threadScratchBytes! / 16) * 16;
      const pages = Math.ceil((scratchStart + threads * scratchBytes) / 65536);
      if (pages > 65536) throw new NncUsageError("options.threads", `${threads} threads of this model need ${((pages * 65536) / 2 ** 30).toFixed(1)} GiB of WebAssembly memory, more than its 4 GiB: use fewer threads or --target ts`);
      let shared: WebAssembly.Memory;
      try {
        shared = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      } catch (e) {
        throw new NncResourceError(`could not allocate the ${((pages * 65536) / 2 ** 20).toFixed(0)} MiB of WebAssembly memory ${threads} threads of this model share (${(e as Error).message}): use fewer threads or --target ts`);
      }
      memory = { memory: shared, scratchStart, scratchBytes };
    }
    const resolve = { memory, precision };
    const views = (m: Record<string, SharedArray>, f64 = false) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, viewOf(resolve, a, f64)])) as ParamSet;

    const sets: SharedSet[] = [];
    const share = (d: Dataset): Dataset => {
      const own = (n: number): SharedArray => ({ buffer: buffer(n, bytes), byteOffset: 0, length: n });
      const copy = (m: Record<string, FloatArray>) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, own(a.length)]));
      const set: SharedSet = { count: d.count, inputs: copy(d.inputs), targets: copy(d.targets), outputs: Object.fromEntries(Object.keys(mod.meta.outputs).map((k) => [k, own(d.count * sizes[k]!)])) };
      const inputs = views(set.inputs), targets = views(set.targets);
      for (const k in inputs) inputs[k]!.set(d.inputs[k]!);
      for (const k in targets) targets[k]!.set(d.targets[k]!);
      sets.push(set);
      this.outputs.push(views(set.outputs));
      return { count: d.count, inputs, targets };
    };
    this.data = share(data);
    this.validation = validation && share(validation);

    const setup: ShardSetup = {
      role: "nnc-shard",
      index: 0,
      threads,
      moduleUrl,
      precision,
      control: buffer(CONTROL_CELLS, 4),
      step: buffer(STEP_CELLS * STEPS_PER_RUN, 8),
      slots: buffer(SLOT_CELLS * threads * STEPS_PER_RUN, 8),
      message: buffer(MESSAGE_BYTES, 1),
      order: buffer(data.count, 4),
      memory,
      params,
      before,
      grads,
      state,
      sets,
      sizes,
      maxRows: Math.ceil(Math.min(maxBatch, data.count) / threads),
      update: rule && updateSource(rule),
      kernel: placed ? (rule?.kernel ?? null) : null,
      hyper: rule?.hyper.map(hyperOf) ?? [],
      scalars: rule?.perStep.length ?? 0,
    };
    this.control = new Int32Array(setup.control);
    this.step = new Float64Array(setup.step);
    this.slots = new Float64Array(setup.slots);
    this.message = setup.message;
    this.order = new Uint32Array(setup.order);
    this.params = views(setup.params);
    this.before = views(setup.before);
    this.grad = views(setup.grads[0]!);
    this.placed = placed;
    this.firstWorker = placed ? 0 : 1;
    this.rule = rule && {
      scalars: rule.perStep.map(([, expr]) => new Function("s", `return ${expr};`) as (s: Record<string, number>) => number),
      s: Object.fromEntries([...rule.hyper.map((h) => [h, hyperOf(h)] as const), ["t", 0] as const]),
    };
    this.optimizer = rule && new PooledOptimizer(optimizer!, this.params, rule.state.map((_, j) => views(setup.state[j]!, true)), this.rule!.s);

    this.shard = placed ? null : new Shard(mod as unknown as ShardModule, setup);
    let draws = 0;
    if (mod.meta.hasDropout) {
      // counted on one sample (the masks do not depend on the values): each shard's stream is cut
      // from the one-thread stream at the shard's first sample
      const plain = () => Object.fromEntries(Object.entries(paramSizes).map(([k, n]) => [k, arrayOf(precision, n)])) as ParamSet;
      const one = (names: string[]) => Object.fromEntries(names.map((k) => [k, arrayOf(precision, sizes[k]!)]));
      mod.gradientBatchTrain(plain(), one(Object.keys(mod.meta.inputs)), one(Object.keys(mod.meta.targets)), 1, plain(), () => (draws++, 0.5));
    }
    this.drawsPerSample = draws;

    try {
      // the workers are the supervisor's children: it sees them end, which this thread, waiting
      // synchronously, cannot (supervisor.ts)
      const supervisor = new Worker(workerScript("supervisor"), { workerData: { role: "nnc-supervisor", script: workerScript("worker").href, setup, first: this.firstWorker } satisfies SupervisorSetup });
      // never what keeps the process alive: close() ends it and its children, and so does the process's exit
      supervisor.unref();
      this.supervisor = supervisor;
      // the startup alone is bounded (a step is not: it takes what it takes): a supervisor that
      // cannot start, or a module whose import never ends, would leave DONE short for ever
      const deadline = performance.now() + ShardPool.startupMs;
      for (let done = Atomics.load(this.control, DONE); done < threads - this.firstWorker; done = Atomics.load(this.control, DONE)) {
        const left = deadline - performance.now();
        if (left <= 0) throw new NncResourceError(`the training threads did not start within ${ShardPool.startupMs / 1000} s`);
        Atomics.wait(this.control, DONE, done, left);
      }
      this.await();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * Training steps back to back (at most STEPS_PER_RUN): step j on the batch order[start … start +
   * count) at learning rate lr, each on the parameters the one before left. The threads take them
   * without waking the main thread between steps. Returns the steps taken: all of them, or up to and
   * including the first whose loss or parameters are not finite (`stepFinite`). Afterwards
   * `stepLoss(j)` is step j's mean loss at the parameters before it (training mode), `grad` the
   * last step's gradient and `before` the parameters before it. Dropout masks are those one thread
   * draws from `createRandom(seed)` after `start` samples of the epoch.
   */
  trainSteps(steps: readonly { readonly start: number; readonly count: number; readonly lr: number }[], seed: number): number {
    const rule = this.rule!;
    const optimizer = this.optimizer as PooledOptimizer;
    if (steps.length < 1 || steps.length > STEPS_PER_RUN) throw new Error(`internal: a run of ${steps.length} steps`);
    steps.forEach(({ start, count, lr }, j) => {
      const r = j * STEP_CELLS;
      this.step[r + STEP_START] = start;
      this.step[r + STEP_COUNT] = count;
      this.step[r + STEP_LR] = lr;
      rule.s.t = optimizer.t + j + 1;
      for (let c = 0; c < rule.scalars.length; c++) this.step[r + STEP_SCALARS + c] = rule.scalars[c]!(rule.s);
      for (let k = 0; k < this.threads; k++) this.slots[(j * this.threads + k) * SLOT_CELLS + SLOT_SEED] = skipSeed(seed, (start + shardStart(count, this.threads, k)) * this.drawsPerSample);
    });
    this.step[STEP_OP] = OP_TRAIN;
    this.step[STEP_STEPS] = steps.length;
    this.run();
    let taken = 1;
    while (taken < steps.length && this.stepFinite(taken - 1)) taken++;
    optimizer.t += taken;
    rule.s.t = optimizer.t;
    return taken;
  }

  /** The mean loss of step j of the last run, at the parameters before it. */
  stepLoss(j: number): number {
    return stepLoss(this.step, this.slots, j, this.threads);
  }

  /** Whether step j of the last run left a finite loss and every parameter finite. */
  stepFinite(j: number): boolean {
    return stepFinite(this.step, this.slots, j, this.threads);
  }

  /** The full-batch objective (mean loss over the data set, inference mode); its gradient into `grad`. */
  objective(params: ParamSet, grad: ParamSet): number {
    this.load(params);
    this.step[STEP_OP] = OP_OBJECTIVE;
    this.step[STEP_COUNT] = this.data.count;
    this.run();
    for (const k in grad) grad[k]!.set(this.grad[k]!);
    return this.stepLoss(0);
  }

  /** Loss and scores of `params` on the training data (set 0) or the validation data (set 1). */
  evaluate(params: ParamSet, set: 0 | 1, scoring: Scoring): Evaluation {
    const data = set === 0 ? this.data : this.validation!;
    this.load(params);
    this.step[STEP_OP] = OP_EVALUATE;
    this.step[STEP_COUNT] = data.count;
    this.step[STEP_SET] = set;
    this.run();
    return scoreOutputs(this.mod, data, this.stepLoss(0), this.outputs[set]!, scoring);
  }

  /** Ends the workers (and their supervisor); the pool cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.step[STEP_OP] = OP_EXIT;
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    // a worker left at the barrier by a sibling's end passes it and sees OP_EXIT
    Atomics.add(this.control, ARRIVED, this.threads);
    Atomics.notify(this.control, ARRIVED);
    // its children end with it, however they are blocked
    void this.supervisor?.terminate();
  }

  /** For tests: ends worker k's thread from outside (as an out-of-memory kill would), through the supervisor. */
  terminateThread(k: number): void {
    this.supervisor?.postMessage({ terminate: k } satisfies SupervisorMessage);
  }

  /** how long the constructor waits for the threads to start, in ms (tests shorten it) */
  static startupMs = 60_000;

  private load(params: ParamSet): void {
    if (params !== this.params) for (const k in params) this.params[k]!.set(params[k]!);
  }

  /** Runs a step on every shard: the workers', and shard 0 here. */
  private run(): void {
    if (this.closed) throw new Error("the thread pool is closed");
    Atomics.store(this.control, ARRIVED, 0);
    Atomics.store(this.control, DONE, 0);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    this.shard?.run();
    this.await();
  }

  /** Waits until every worker has finished (or started, after the constructor); throws a shard's failure. */
  private await(): void {
    // with no shard of its own the main thread sleeps at once: a spin would take a core from the workers
    waitAtLeast(this.control, DONE, this.threads - this.firstWorker, this.placed ? 0 : undefined);
    const failed = Atomics.load(this.control, FAILED);
    if (failed !== 0) {
      const length = new DataView(this.message).getUint32(MESSAGE_BYTES - 4);
      const text = new TextDecoder().decode(new Uint8Array(this.message).slice(0, length));
      // a thread the system ended (out of memory, killed) is the machine's limit; an exception in one is a bug
      const ended = Atomics.load(this.control, ENDED) === 1;
      throw new (ended ? NncResourceError : Error)(`training thread ${failed - 1} failed: ${text}`);
    }
  }
}

/**
 * The optimizer of a pool: its step count and state arrays, in the checkpoint form of the
 * runtime's optimizers (a run resumes the same with any number of threads). The shards apply it.
 */
class PooledOptimizer implements Optimizer {
  readonly name: string;
  t = 0;
  private readonly check: Optimizer;
  private readonly kinds: readonly string[];
  constructor(
    config: OptimizerConfig,
    private readonly params: ParamSet,
    /** by kind, in the rule's order */
    private readonly buffers: readonly ParamSet[],
    private readonly s: Record<string, number>,
  ) {
    this.name = config.name;
    // the runtime's optimizer checks a state to resume from
    this.check = createOptimizer(config, params);
    this.kinds = Object.keys(this.check.state().buffers);
  }

  step(): void {
    throw new Error("a pool's optimizer is applied by its shards (ShardPool.trainSteps)");
  }

  state(): OptimizerState {
    const buffers: Record<string, Record<string, number[]>> = {};
    this.kinds.forEach((kind, j) => (buffers[kind] = Object.fromEntries(Object.keys(this.params).map((name) => [name, Array.from(this.buffers[j]![name]!)]))));
    return { name: this.name, t: this.t, buffers };
  }

  restore(state: OptimizerState): void {
    this.check.restore(state);
    this.kinds.forEach((kind, j) => {
      for (const name of Object.keys(this.params)) this.buffers[j]![name]!.set(state.buffers[kind]![name]!);
    });
    this.t = state.t;
    this.s.t = state.t;
  }
}

/**
 * What a thread must get of a step before `nnc train` starts it unasked (docs/scale-out.md): at
 * least MIN_ROWS_PER_THREAD samples — below that the work a thread repeats whatever its share
 * (zeroing and scaling its gradient, its slice of the reduction and the update) outweighs the part
 * of the gradient saved — and at least MIN_WORK_PER_THREAD parameters × samples, so that a small
 * model's short steps (tens of microseconds) are not spent synchronizing threads.
 */
export const MIN_ROWS_PER_THREAD = 16;
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
 * MAX_DEFAULT_THREADS, and no more than a step's `rows` (the batch, or the data set for a
 * full-batch optimizer) give each thread its least share; 1 when a step is too small to share.
 */
export function defaultThreads(mod: CompiledModule, rows: number, cores: number): ThreadsChoice {
  const params = Object.values(mod.meta.params).reduce((s, shape) => s + rowSize(shape), 0);
  const threads = Math.max(1, Math.min(cores, MAX_DEFAULT_THREADS, Math.floor(rows / MIN_ROWS_PER_THREAD), Math.floor((params * rows) / MIN_WORK_PER_THREAD)));
  const step = `${params} parameters × ${rows} samples a step`;
  const why = threads === 1 ? `${step}: too small to share` : `${cores} cores${cores > MAX_DEFAULT_THREADS ? ` (at most ${MAX_DEFAULT_THREADS} unasked)` : ""}, ${step}`;
  return { threads, why };
}
