/**
 * A worker thread of `train({ threads })` (pool.ts, docs/scale-out.md): it imports the generated
 * module, then waits on shared memory for steps. Each step it computes the module's batch gradient
 * (training mode) on its shard of the batch, or of the whole data set for a full-batch objective,
 * into its own shared gradient buffer, and reports the shard's mean loss.
 *
 * The file imports nothing of nnc's own: run from the TypeScript sources (the tests), pool.ts
 * transpiles it and starts it from a data: URL, where relative imports cannot resolve. The main
 * thread imports it only for the protocol's constants below; the loop runs only in a worker.
 */
import { isMainThread, workerData } from "node:worker_threads";

/** Int32 cells of the control buffer. */
export const GEN = 0; // the step's number: the main thread increments it to start a step
export const DONE = 1; // workers finished with the current step (or started, before the first)
export const FAILED = 2; // 1 + the index of a worker that failed, else 0
export const CONTROL_CELLS = 4;
/** Float64 cells per worker of the command buffer: op, first row, rows, dropout seed, loss */
export const CMD_STRIDE = 5;
export const OP_IDLE = 0;
/** gradientBatchTrain on the rows order[first … first + rows) */
export const OP_TRAIN = 1;
/** gradientBatch (inference mode) on the data rows first … first + rows */
export const OP_OBJECTIVE = 2;
export const OP_EXIT = 3;
/** bytes of the failure message */
export const MESSAGE_BYTES = 4096;

type FloatArray = Float64Array | Float32Array;
type Arrays = Record<string, FloatArray>;

export interface WorkerSetup {
  readonly role: "nnc-shard";
  readonly index: number;
  readonly moduleUrl: string;
  readonly precision: "f64" | "f32";
  readonly control: SharedArrayBuffer;
  readonly commands: SharedArrayBuffer;
  readonly message: SharedArrayBuffer;
  readonly order: SharedArrayBuffer;
  /** the parameters (written by the main thread before each step) and this worker's gradient */
  readonly params: Record<string, SharedArrayBuffer>;
  readonly grad: Record<string, SharedArrayBuffer>;
  readonly inputs: Record<string, SharedArrayBuffer>;
  readonly targets: Record<string, SharedArrayBuffer>;
  /** elements per sample, by input and target name */
  readonly sizes: Record<string, number>;
  /** the most rows a training shard has */
  readonly maxRows: number;
}

/** The part of a generated module a worker calls. */
interface ShardModule {
  meta: { hasDropout: boolean };
  createParams(): Arrays;
  createRandom(seed: number): () => number;
  gradientBatch(params: Arrays, inputs: Arrays, targets: Arrays, count: number, grad: Arrays): number;
  gradientBatchTrain(params: Arrays, inputs: Arrays, targets: Arrays, count: number, grad: Arrays, random: () => number): number;
}

async function run(setup: WorkerSetup): Promise<void> {
  const control = new Int32Array(setup.control);
  const commands = new Float64Array(setup.commands);
  const at = setup.index * CMD_STRIDE;
  try {
    const mod = (await import(setup.moduleUrl)) as ShardModule;
    const make = (b: SharedArrayBuffer) => (setup.precision === "f32" ? new Float32Array(b) : new Float64Array(b));
    const views = (m: Record<string, SharedArrayBuffer>) => Object.fromEntries(Object.entries(m).map(([k, b]) => [k, make(b)])) as Arrays;
    const sharedParams = views(setup.params);
    const sharedGrad = views(setup.grad);
    const inputs = views(setup.inputs);
    const targets = views(setup.targets);
    const order = new Uint32Array(setup.order);
    // createParams' arrays are views into a larger buffer on the wasm target: the module's memory,
    // where its kernels work in place (docs/wasm.md). There the parameters are copied in and the
    // gradient out once per step; elsewhere the shared arrays are used as they are.
    const local = mod.createParams();
    const inMemory = Object.values(local).some((a) => a.byteOffset !== 0 || a.buffer.byteLength !== a.byteLength);
    const params = inMemory ? local : sharedParams;
    const grad = inMemory ? mod.createParams() : sharedGrad;
    const batch = (m: Arrays) => Object.fromEntries(Object.keys(m).map((k) => [k, setup.precision === "f32" ? new Float32Array(setup.maxRows * setup.sizes[k]!) : new Float64Array(setup.maxRows * setup.sizes[k]!)])) as Arrays;
    const batchInputs = batch(inputs);
    const batchTargets = batch(targets);
    const gather: [FloatArray, FloatArray, number][] = [
      ...Object.keys(inputs).map((k) => [inputs[k]!, batchInputs[k]!, setup.sizes[k]!] as [FloatArray, FloatArray, number]),
      ...Object.keys(targets).map((k) => [targets[k]!, batchTargets[k]!, setup.sizes[k]!] as [FloatArray, FloatArray, number]),
    ];
    const rowsOf = (m: Arrays, first: number, rows: number) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, a.subarray(first * setup.sizes[k]!, (first + rows) * setup.sizes[k]!)])) as Arrays;
    const noRandom = () => 0;
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);

    let seen = 0;
    for (;;) {
      Atomics.wait(control, GEN, seen);
      seen = Atomics.load(control, GEN);
      const op = commands[at]!;
      if (op === OP_EXIT) return;
      try {
        if (op !== OP_IDLE) {
          const first = commands[at + 1]!;
          const rows = commands[at + 2]!;
          if (inMemory) for (const k in params) params[k]!.set(sharedParams[k]!);
          let loss: number;
          if (op === OP_TRAIN) {
            for (const [src, dst, size] of gather)
              for (let r = 0; r < rows; r++) {
                const from = order[first + r]! * size;
                for (let j = 0; j < size; j++) dst[r * size + j] = src[from + j]!;
              }
            const random = mod.meta.hasDropout ? mod.createRandom(commands[at + 3]!) : noRandom;
            loss = mod.gradientBatchTrain(params, batchInputs, batchTargets, rows, grad, random);
          } else loss = mod.gradientBatch(params, rowsOf(inputs, first, rows), rowsOf(targets, first, rows), rows, grad);
          if (inMemory) for (const k in grad) sharedGrad[k]!.set(grad[k]!);
          commands[at + 4] = loss;
        }
      } catch (e) {
        fail(setup, control, e);
      }
      Atomics.add(control, DONE, 1);
      Atomics.notify(control, DONE);
    }
  } catch (e) {
    // the module did not load: reported as this worker's failure, and counted as started
    fail(setup, control, e);
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}

/** The first failure's message is kept: the others' would overwrite it. */
function fail(setup: WorkerSetup, control: Int32Array, e: unknown): void {
  if (Atomics.compareExchange(control, FAILED, 0, setup.index + 1) !== 0) return;
  // a module imported from a data: URL would fill the message with its base64 text
  const text = (e instanceof Error ? (e.stack ?? e.message) : String(e)).replace(/data:[^\s)]{40,}/g, (url) => `${url.slice(0, 30)}…`);
  const bytes = new Uint8Array(setup.message);
  const written = new TextEncoder().encodeInto(text, bytes.subarray(0, MESSAGE_BYTES - 4)).written;
  new DataView(setup.message).setUint32(MESSAGE_BYTES - 4, written);
}

const setup = workerData as WorkerSetup | undefined;
if (!isMainThread && setup?.role === "nnc-shard") void run(setup);
