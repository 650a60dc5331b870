/**
 * One thread's share of `train({ threads })` (pool.ts, docs/scale-out.md): the main thread runs a
 * `Shard` with index 0 on its own module; worker k, started from this file, imports the generated
 * module and runs shard k, woken for each step through Atomics on shared memory.
 *
 * A step has two phases. First each shard computes the module's batch gradient on its contiguous
 * shard of the batch (or of the data set, for a full-batch objective) into its own gradient
 * buffer. Then, after a barrier, each shard takes a slice of every parameter tensor: it sums the
 * shards' gradients there in shard order (the reduced gradient lands in shard 0's buffer),
 * applies the optimizer's update rule to the slice, and sums the slice of the new parameters (a
 * finite sum: no NaN or infinity appeared). Every element is summed in the same order whatever
 * thread does it, and the update is element-wise: the result does not depend on who does what.
 *
 * On the wasm target every thread computes in one WebAssembly memory that they share: the
 * parameters, the shards' gradients and the optimizer's state live there once, and each thread's
 * copy of the module keeps its scratch buffers at its own offset (the module takes its place from
 * `globalThis[Symbol.for("nnc.thread")]` when imported: codegen/wasm/prelude.ts). Nothing is
 * copied between memories per step, and the reduction and the update run as the module's SIMD
 * kernels on the thread's slice.
 *
 * The file imports nothing of nnc's own: run from the TypeScript sources (the tests), pool.ts
 * transpiles it and starts it from a data: URL, where relative imports cannot resolve. The update
 * rule therefore arrives as source text (pool.ts makes it from compiler/codegen/update-rules.ts).
 */
import { isMainThread, workerData } from "node:worker_threads";

/** Int32 cells of the control buffer. */
export const GEN = 0; // the step's number: the main thread increments it to start a step
export const DONE = 1; // workers finished with the current step (or started, before the first)
export const FAILED = 2; // 1 + the index of the first shard that failed, else 0
export const ARRIVED = 3; // shards past the first phase of the step (the barrier)
export const ENDED = 4; // 1 when the failure in FAILED is a thread that ended (supervisor.ts), not an exception
export const CONTROL_CELLS = 5;
/**
 * Float64 cells of each step's record in the step buffer, written by the main thread before a run.
 * A training run is up to STEPS_PER_RUN steps, which the threads take back to back, synchronized
 * among themselves (the main thread is woken once a run, not once a step); other runs are one step.
 */
export const STEP_OP = 0; // the run's operation (record 0)
export const STEP_START = 1; // the batch's first position in the order
export const STEP_COUNT = 2; // rows of the batch (or of the data set)
export const STEP_SET = 3; // the data set to evaluate
export const STEP_LR = 4;
export const STEP_SCALARS = 5; // the update rule's per-step scalars (Adam's bias corrections), in order
export const MAX_SCALARS = 3;
export const STEP_STEPS = 8; // steps in the run (record 0)
export const STEP_CELLS = 9;
export const STEPS_PER_RUN = 16;
/** Float64 cells per step and shard of the slot buffer: its dropout seed (in), its loss and finite sum (out) */
export const SLOT_SEED = 0;
export const SLOT_LOSS = 1;
export const SLOT_SUM = 2;
export const SLOT_CELLS = 3;
export const OP_TRAIN = 1; // gradientBatchTrain on the rows order[start …], then the update
export const OP_OBJECTIVE = 2; // gradientBatch on the data set's rows (inference mode), reduced
export const OP_EVALUATE = 3; // evaluateBatch on the rows of data set STEP_SET
export const OP_EXIT = 4;
/** bytes of the failure message */
export const MESSAGE_BYTES = 4096;
/** how long a thread polls a cell before it sleeps on it: a futex wakeup costs tens of
 * microseconds, and the other threads of a step usually arrive within that */
const SPIN_MS = 0.05;
/** at a barrier between the phases of a run every thread is computing (the main thread sleeps): a
 * longer spin costs no one a core and saves a futex wakeup (tens of microseconds) at most barriers,
 * whose waits are the threads' imbalance; on a machine without a free core it is a quarter of a
 * millisecond lost, not a time slice */
const BARRIER_SPIN_MS = 0.25;

/** Waits until control[cell] ≥ least: polls for `spinMs`, then sleeps in Atomics.wait. */
export function waitAtLeast(control: Int32Array, cell: number, least: number, spinMs = SPIN_MS): void {
  const until = performance.now() + spinMs;
  let value = Atomics.load(control, cell);
  while (value < least && performance.now() < until) value = Atomics.load(control, cell);
  while (value < least) {
    Atomics.wait(control, cell, value, 1000);
    value = Atomics.load(control, cell);
  }
}

/** Waits until control[cell] is no longer `seen` (a counter that may wrap): polls, then sleeps. */
function waitChange(control: Int32Array, cell: number, seen: number): number {
  const until = performance.now() + SPIN_MS;
  let value = Atomics.load(control, cell);
  while (value === seen && performance.now() < until) value = Atomics.load(control, cell);
  while (value === seen) {
    Atomics.wait(control, cell, seen);
    value = Atomics.load(control, cell);
  }
  return value;
}

type FloatArray = Float64Array | Float32Array;
type Arrays = Record<string, FloatArray>;

/** An array in shared memory: a SharedArrayBuffer of its own, or (no buffer) a place in the threads' WebAssembly memory. */
export interface SharedArray {
  readonly buffer?: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly length: number;
}
type Shared = Record<string, SharedArray>;

export interface SharedSet {
  readonly count: number;
  readonly inputs: Shared;
  readonly targets: Shared;
  readonly outputs: Shared;
}

/** The WebAssembly memory the threads share, and where each thread's copy of the module keeps its scratch buffers. */
export interface ThreadMemory {
  readonly memory: WebAssembly.Memory;
  /** shard k's copy from byte scratchStart + k · scratchBytes */
  readonly scratchStart: number;
  readonly scratchBytes: number;
}

/** What a thread leaves the module before importing it (codegen/wasm/prelude.ts's ThreadPlace); the module sets `kernels`. */
interface ThreadPlace {
  readonly memory: WebAssembly.Memory;
  readonly base: number;
  shareMemory(bytes: Uint8Array): Uint8Array;
  kernels?: ShardKernels;
}

/** The module's kernels a thread uses for its slice (codegen/wasm/kernels.ts): byte offsets, element counts. */
export interface ShardKernels {
  scale_add(D: number, A: number, B: number, n: number, a: number, b: number): void;
  sum(P: number, n: number): number;
  [update: string]: (...args: number[]) => number | void;
}

/** Everything a shard works on: shared memory, and what it means. */
export interface ShardSetup {
  readonly role: "nnc-shard";
  readonly index: number;
  readonly threads: number;
  readonly moduleUrl: string;
  readonly precision: "f64" | "f32";
  readonly control: SharedArrayBuffer;
  readonly step: SharedArrayBuffer;
  readonly slots: SharedArrayBuffer;
  readonly message: SharedArrayBuffer;
  readonly order: SharedArrayBuffer;
  /** the wasm target's shared memory (f64 modules that export threadScratchBytes), else null */
  readonly memory: ThreadMemory | null;
  readonly params: Shared;
  /** the parameters before the last training step (each shard copies its slice before updating it) */
  readonly before: Shared;
  /** each shard's gradient; the reduced gradient is written into the first */
  readonly grads: readonly Shared[];
  /** the optimizer's state arrays (Float64), by kind, in the update's argument order */
  readonly state: readonly Shared[];
  /** data sets: the training data first, then the validation data if any */
  readonly sets: readonly SharedSet[];
  /** elements per sample, by input, target and output name */
  readonly sizes: Record<string, number>;
  /** the most rows of a training shard */
  readonly maxRows: number;
  /** `(p, g, ...state, from, to, lr, ...hyper, ...scalars) => void` (pool.ts, updateSource), or null: no update (a full-batch optimizer's objective) */
  readonly update: string | null;
  /** the module's SIMD kernel for the same update (update-rules.ts), used in the shared memory; else null */
  readonly kernel: string | null;
  readonly hyper: readonly number[];
  readonly scalars: number;
}

/** The part of a generated module a shard calls. */
export interface ShardModule {
  meta: { hasDropout: boolean };
  createParams(): Arrays;
  createRandom(seed: number): () => number;
  gradientBatch(params: Arrays, inputs: Arrays, targets: Arrays, count: number, grad: Arrays): number;
  gradientBatchTrain(params: Arrays, inputs: Arrays, targets: Arrays, count: number, grad: Arrays, random: () => number): number;
  evaluateBatch(params: Arrays, inputs: Arrays, targets: Arrays, count: number, outputs: Arrays): number;
}

/** Shard k of `count` rows: [first, end). Sizes differ by at most one, the larger first, so the
 * main thread's shard is empty only when every shard is. */
export function shardStart(count: number, shards: number, k: number): number {
  return count - Math.floor(((shards - k) * count) / shards);
}

export class Shard {
  private readonly control: Int32Array;
  private readonly step: Float64Array;
  private readonly slots: Float64Array;
  private readonly order: Uint32Array;
  private readonly sharedParams: Arrays;
  private readonly before: Arrays;
  private readonly grads: Arrays[];
  /** the shards' gradients of each parameter, in shard order */
  private readonly byName: Record<string, FloatArray[]>;
  private readonly state: Arrays[];
  private readonly sets: { count: number; inputs: Arrays; targets: Arrays; outputs: Arrays }[];
  /** the arrays the module computes with: the shared ones, or its own (on wasm) */
  private readonly params: Arrays;
  private readonly grad: Arrays;
  private readonly inMemory: boolean;
  private readonly batchInputs: Arrays;
  private readonly batchTargets: Arrays;
  private readonly gather: [FloatArray, FloatArray, number][] = [];
  private readonly names: string[];
  private readonly update: ((...args: unknown[]) => void) | null;
  private readonly args: unknown[];
  private readonly weights: Float64Array;
  private readonly noRandom = () => 0;
  /** the update's kernel that also keeps the old values and sums the new (`sgd_update_keep`) */
  private readonly keepKernel: string | null;

  constructor(
    private readonly mod: ShardModule,
    private readonly setup: ShardSetup,
    /** the module's kernels on the shared memory (setup.memory), or null */
    private readonly kernels: ShardKernels | null = null,
  ) {
    const views = (m: Shared, f64 = false) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, viewOf(setup, a, f64)])) as Arrays;
    this.control = new Int32Array(setup.control);
    this.step = new Float64Array(setup.step);
    this.slots = new Float64Array(setup.slots);
    this.order = new Uint32Array(setup.order);
    this.sharedParams = views(setup.params);
    this.before = views(setup.before);
    this.grads = setup.grads.map((g) => views(g));
    this.state = setup.state.map((s) => views(s, true));
    this.sets = setup.sets.map((s) => ({ count: s.count, inputs: views(s.inputs), targets: views(s.targets), outputs: views(s.outputs) }));
    this.names = Object.keys(this.sharedParams);
    this.byName = Object.fromEntries(this.names.map((k) => [k, this.grads.map((g) => g[k]!)]));
    // createParams' arrays are views into a larger buffer on the wasm target: the module's memory,
    // where its kernels work in place (docs/wasm.md). A copy of the module placed in the threads'
    // shared memory computes on the shared arrays as they are; one with a memory of its own (the
    // main thread's) has the parameters copied in and the gradient out once per step. On the ts
    // target the shared arrays are used as they are.
    const local = setup.memory === null ? mod.createParams() : {};
    this.inMemory = Object.values(local).some((a) => a.byteOffset !== 0 || a.buffer.byteLength !== a.byteLength);
    this.params = this.inMemory ? local : this.sharedParams;
    this.grad = this.inMemory ? mod.createParams() : this.grads[setup.index]!;
    const train = this.sets[0]!;
    const batch = (m: Arrays) =>
      Object.fromEntries(
        Object.entries(m).map(([k, a]) => {
          const size = setup.sizes[k]!;
          const buf = setup.precision === "f32" ? new Float32Array(setup.maxRows * size) : new Float64Array(setup.maxRows * size);
          this.gather.push([a, buf, size]);
          return [k, buf];
        }),
      ) as Arrays;
    this.batchInputs = batch(train.inputs);
    this.batchTargets = batch(train.targets);
    this.update = setup.update === null ? null : (new Function(`return ${setup.update}`)() as (...args: unknown[]) => void);
    // the update's arguments: p, g, the state arrays, from, to (the kernel: B, n), lr, the hyperparameters, the scalars
    this.args = new Array(2 + setup.state.length + 3 + setup.hyper.length + setup.scalars);
    this.weights = new Float64Array(setup.threads);
    const keep = setup.kernel === null ? null : `${setup.kernel}_keep`;
    this.keepKernel = keep !== null && typeof kernels?.[keep] === "function" ? keep : null;
  }

  /** The first phase: this shard's gradient (or outputs), into shared memory. */
  compute(j: number): void {
    const s = this.setup;
    const op = this.step[STEP_OP]!;
    const r = j * STEP_CELLS;
    const count = this.step[r + STEP_COUNT]!;
    const first = shardStart(count, s.threads, s.index);
    const rows = shardStart(count, s.threads, s.index + 1) - first;
    const at = (j * s.threads + s.index) * SLOT_CELLS;
    if (rows === 0) {
      this.slots[at + SLOT_LOSS] = 0;
      return;
    }
    if (this.inMemory) for (const k of this.names) this.params[k]!.set(this.sharedParams[k]!);
    let loss: number;
    if (op === OP_TRAIN) {
      const start = this.step[r + STEP_START]!;
      for (const [src, dst, size] of this.gather)
        for (let r = 0; r < rows; r++) {
          const from = this.order[start + first + r]! * size;
          dst.set(src.subarray(from, from + size), r * size);
        }
      const random = this.mod.meta.hasDropout ? this.mod.createRandom(this.slots[at + SLOT_SEED]!) : this.noRandom;
      loss = this.mod.gradientBatchTrain(this.params, this.batchInputs, this.batchTargets, rows, this.grad, random);
    } else {
      const set = this.sets[op === OP_EVALUATE ? this.step[STEP_SET]! : 0]!;
      const part = (m: Arrays) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, a.subarray(first * s.sizes[k]!, (first + rows) * s.sizes[k]!)])) as Arrays;
      loss =
        op === OP_EVALUATE
          ? this.mod.evaluateBatch(this.params, part(set.inputs), part(set.targets), rows, part(set.outputs))
          : this.mod.gradientBatch(this.params, part(set.inputs), part(set.targets), rows, this.grad);
    }
    if (this.inMemory && op !== OP_EVALUATE) for (const k of this.names) this.grads[s.index]![k]!.set(this.grad[k]!);
    this.slots[at + SLOT_LOSS] = loss;
  }

  /** Waits until every shard has reached barrier `b` (1, 2, … within a run): the threads alone keep a run's steps in order. */
  barrier(b: number): void {
    Atomics.add(this.control, ARRIVED, 1);
    Atomics.notify(this.control, ARRIVED);
    waitAtLeast(this.control, ARRIVED, b * this.setup.threads, BARRIER_SPIN_MS);
  }

  /** The second phase on this shard's slice of every tensor: the reduction, then the update. */
  reduceAndUpdate(j: number): void {
    const s = this.setup;
    const op = this.step[STEP_OP]!;
    if (op === OP_EVALUATE) return;
    const r = j * STEP_CELLS;
    const count = this.step[r + STEP_COUNT]!;
    const w = this.weights;
    let last = 0;
    for (let k = 0; k < s.threads; k++) {
      w[k] = (shardStart(count, s.threads, k + 1) - shardStart(count, s.threads, k)) / count;
      if (w[k] !== 0) last = k;
    }
    const train = op === OP_TRAIN;
    // in the shared memory of an f64 module, the module's SIMD kernels: the same arithmetic
    const simd = this.kernels !== null && s.precision === "f64" ? this.kernels : null;
    let sum = 0;
    for (const name of this.names) {
      const g0 = this.grads[0]![name]!;
      const from = shardStart(g0.length, s.threads, s.index);
      const to = shardStart(g0.length, s.threads, s.index + 1);
      // Σₖ (nₖ / n) gₖ in shard order, in double: the shards' weights add up to 1, so the
      // parameter-only terms each shard's mean includes come out once
      const gs = this.byName[name]!;
      const p = this.sharedParams[name]!;
      if (simd !== null) {
        // (w₀g₀ + w₁g₁) + w₂g₂ + …, each pass rounded once: the bits of the loop below
        const skip = from * 8, G = g0.byteOffset + skip, n = to - from;
        if (last >= 1) simd.scale_add(G, G, gs[1]!.byteOffset + skip, n, w[0]!, w[1]!);
        for (let k = 2; k <= last; k++) simd.scale_add(G, G, gs[k]!.byteOffset + skip, n, 1, w[k]!);
        if (!train) continue;
        // the last good weights, the update and the sum in one pass (the module's *_keep kernel)
        if (this.keepKernel !== null) sum += this.updateKernel(simd, r, name, p.byteOffset + skip, G, this.before[name]!.byteOffset + skip, n);
        else {
          this.before[name]!.set(p.subarray(from, to), from);
          this.updateSlice(r, p, g0, name, from, to);
          sum += simd.sum(p.byteOffset + skip, n);
        }
        continue;
      }
      const w0 = w[0]!;
      if (last === 1) {
        const g1 = gs[1]!, w1 = w[1]!;
        for (let i = from; i < to; i++) g0[i] = w0 * g0[i]! + w1 * g1[i]!;
      } else if (last > 1)
        for (let i = from; i < to; i++) {
          let v = w0 * g0[i]!;
          for (let k = 1; k <= last; k++) v += w[k]! * gs[k]![i]!;
          g0[i] = v;
        }
      if (!train || this.update === null) continue;
      this.before[name]!.set(p.subarray(from, to), from);
      this.updateSlice(r, p, g0, name, from, to);
      for (let i = from; i < to; i++) sum += p[i]!;
    }
    this.slots[(j * s.threads + s.index) * SLOT_CELLS + SLOT_SUM] = sum;
  }

  /** The update rule's JavaScript on [from, to) of one tensor, at step record r. */
  private updateSlice(r: number, p: FloatArray, g: FloatArray, name: string, from: number, to: number): void {
    const args = this.args;
    let a = 0;
    args[a++] = p;
    args[a++] = g;
    for (const kind of this.state) args[a++] = kind[name];
    args[a++] = from;
    args[a++] = to;
    this.stepArgs(a, r);
    this.update!.apply(null, args);
  }

  /** The update's last arguments from `a` on: the learning rate, the hyperparameters and the per-step scalars of step record r. */
  private stepArgs(a: number, r: number): void {
    const s = this.setup;
    const args = this.args;
    args[a++] = this.step[r + STEP_LR];
    for (const h of s.hyper) args[a++] = h;
    for (let c = 0; c < s.scalars; c++) args[a++] = this.step[r + STEP_SCALARS + c];
  }

  /**
   * The update rule's SIMD kernel, its `_keep` form, on n elements of one tensor from byte offsets P
   * and G (the state at the same element): P's old values to B; returns Σ of the new P.
   */
  private updateKernel(simd: ShardKernels, r: number, name: string, P: number, G: number, B: number, n: number): number {
    const args = this.args;
    const shift = P - this.sharedParams[name]!.byteOffset;
    let a = 0;
    args[a++] = P;
    args[a++] = G;
    for (const kind of this.state) args[a++] = kind[name]!.byteOffset + shift;
    args[a++] = B;
    args[a++] = n;
    this.stepArgs(a, r);
    return simd[this.keepKernel!]!.apply(null, args as number[]) as number;
  }

  /**
   * A run: its steps, each in both phases, with barriers between them. A failure is recorded for
   * the main thread and the barriers are passed anyway; a step whose loss or parameters are not
   * finite ends a training run (every thread reads the same cells after the barrier, so all stop
   * there).
   */
  run(): void {
    const steps = this.step[STEP_OP] === OP_TRAIN ? this.step[STEP_STEPS]! : 1;
    for (let j = 0; j < steps; j++) {
      try {
        this.compute(j);
      } catch (e) {
        fail(this.setup, this.control, e);
      }
      this.barrier(2 * j + 1);
      if (Atomics.load(this.control, FAILED) !== 0) return;
      try {
        this.reduceAndUpdate(j);
      } catch (e) {
        fail(this.setup, this.control, e);
      }
      if (j === steps - 1) return; // the main thread's wait is the last barrier
      this.barrier(2 * j + 2);
      if (Atomics.load(this.control, FAILED) !== 0 || !stepFinite(this.step, this.slots, j, this.setup.threads)) return;
    }
  }
}

/** Σₖ (nₖ / count) Lₖ over the shards' mean losses of step j, in shard order. */
export function stepLoss(step: Float64Array, slots: Float64Array, j: number, threads: number): number {
  const count = step[j * STEP_CELLS + STEP_COUNT]!;
  let loss = 0;
  for (let k = 0; k < threads; k++) {
    const rows = shardStart(count, threads, k + 1) - shardStart(count, threads, k);
    if (rows > 0) loss += (rows / count) * slots[(j * threads + k) * SLOT_CELLS + SLOT_LOSS]!;
  }
  return loss;
}

/** Whether step j left a finite loss and finite parameters (the shards' sums of their slices). */
export function stepFinite(step: Float64Array, slots: Float64Array, j: number, threads: number): boolean {
  let sum = 0;
  for (let k = 0; k < threads; k++) sum += slots[(j * threads + k) * SLOT_CELLS + SLOT_SUM]!;
  return Number.isFinite(sum) && Number.isFinite(stepLoss(step, slots, j, threads));
}

/** The first failure's message is kept: the others' would overwrite it. */
export function fail(setup: ShardSetup, control: Int32Array, e: unknown): void {
  if (Atomics.compareExchange(control, FAILED, 0, setup.index + 1) !== 0) return;
  // a module imported from a data: URL would fill the message with its base64 text
  const text = (e instanceof Error ? (e.stack ?? e.message) : String(e)).replace(/data:[^\s)]{40,}/g, (url) => `${url.slice(0, 30)}…`);
  const bytes = new Uint8Array(setup.message);
  const written = new TextEncoder().encodeInto(text, bytes.subarray(0, MESSAGE_BYTES - 4)).written;
  new DataView(setup.message).setUint32(MESSAGE_BYTES - 4, written);
}

/** A view of a shared array: of its own buffer, or of the threads' WebAssembly memory (the state arrays are Float64 whatever the precision). */
export function viewOf(setup: Pick<ShardSetup, "memory" | "precision">, a: SharedArray, f64 = false): FloatArray {
  const buffer = a.buffer ?? setup.memory!.memory.buffer;
  return setup.precision === "f32" && !f64 ? new Float32Array(buffer, a.byteOffset, a.length) : new Float64Array(buffer, a.byteOffset, a.length);
}

/**
 * The kernels' bytes with their memory import declared shared, which a shared memory requires:
 * the import's limits (flags 0 or 1: not shared) become flags 3, the same minimum, at most 65536
 * pages (4 GiB, any memory the pool makes). The rest of the binary is unchanged; only the import
 * section's size grows.
 */
export function shareMemoryImport(bytes: Uint8Array): Uint8Array {
  let at = 8; // magic and version
  const uleb = (): number => {
    let value = 0, shift = 0, byte: number;
    do {
      byte = bytes[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const encode = (value: number): number[] => {
    const out: number[] = [];
    do {
      let byte = value & 0x7f;
      value = Math.floor(value / 128);
      if (value !== 0) byte |= 0x80;
      out.push(byte);
    } while (value !== 0);
    return out;
  };
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const sizeAt = at;
    const size = uleb();
    const start = at;
    if (id !== 2) {
      at += size;
      continue;
    }
    const count = uleb();
    for (let i = 0; i < count; i++) {
      for (let name = 0; name < 2; name++) {
        const length = uleb(); // the module's and the field's names
        at += length;
      }
      const kind = bytes[at++]!;
      if (kind === 0x00) uleb(); // a function: its type index
      else if (kind === 0x01) {
        at++; // a table: its element type, then limits
        const flags = bytes[at++]!;
        uleb();
        if (flags & 1) uleb();
      } else if (kind === 0x03) at += 2; // a global: value type, mutability
      else if (kind === 0x02) {
        const limitsAt = at;
        const flags = bytes[at++]!;
        const min = uleb();
        if (flags & 1) uleb();
        const limits = [0x03, ...encode(min), ...encode(65536)];
        const section = [...bytes.subarray(start, limitsAt), ...limits, ...bytes.subarray(at, start + size)];
        return Uint8Array.from([...bytes.subarray(0, sizeAt), ...encode(section.length), ...section, ...bytes.subarray(start + size)]);
      } else break;
    }
    break;
  }
  throw new Error("the module's kernels import no memory to share");
}

async function work(setup: ShardSetup): Promise<void> {
  const control = new Int32Array(setup.control);
  const step = new Float64Array(setup.step);
  let shard: Shard;
  try {
    let place: ThreadPlace | undefined;
    if (setup.memory !== null) {
      const { memory, scratchStart, scratchBytes } = setup.memory;
      place = { memory, base: scratchStart + setup.index * scratchBytes, shareMemory: shareMemoryImport };
      (globalThis as unknown as Record<symbol, ThreadPlace>)[Symbol.for("nnc.thread")] = place;
    }
    const mod = (await import(setup.moduleUrl)) as ShardModule;
    if (place !== undefined && place.kernels === undefined) throw new Error("the module did not take its place in the threads' shared memory (an older nnc's module?)");
    shard = new Shard(mod, setup, place?.kernels ?? null);
  } catch (e) {
    fail(setup, control, e);
  }
  // counted as started either way: the main thread reads FAILED
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
  if (Atomics.load(control, FAILED) !== 0) return;
  let seen = 0;
  for (;;) {
    seen = waitChange(control, GEN, seen);
    if (step[STEP_OP] === OP_EXIT) return;
    shard!.run();
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}

const setup = workerData as ShardSetup | undefined;
if (!isMainThread && setup?.role === "nnc-shard") void work(setup);
