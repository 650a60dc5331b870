/**
 * The same networks as a TensorFlow.js training step, written as tfjs users write one: the weights
 * are tf.variables (kernels [in, out] like tf.layers.dense, float32), the loss is tfjs's fused,
 * stable one (tf.losses.softmaxCrossEntropy / sigmoidCrossEntropy, mean over the batch) and one
 * step is `optimizer.minimize(loss)` with tf.train.sgd: forward, tape-based backward and the
 * update. Backends: "cpu" (plain JavaScript kernels) and "wasm" (XNNPACK, SIMD when available),
 * in production mode.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { NetworkSpec } from "./generic.js";

export type TfBackend = "cpu" | "wasm";

let wasmPathsSet = false;

// Production mode: tfjs skips its debug-time correctness checks, as a deployed model would.
tf.enableProdMode();

/** Selects a backend; the first use of "wasm" points the backend at its own dist folder. */
export async function useBackend(backend: TfBackend): Promise<void> {
  if (backend === "wasm" && !wasmPathsSet) {
    // The package's "main" is dist/tf-backend-wasm.node.js, next to the .wasm binaries. In Node
    // the Emscripten loader reads them with fs, so a plain directory path (with its trailing
    // separator) is what works here, not a file:// URL.
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    setWasmPaths(join(dist, "/"));
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} failed to initialize`);
  await tf.ready();
  if (tf.getBackend() !== backend) throw new Error(`tfjs: asked for ${backend}, got ${tf.getBackend()}`);
}

export function backendInfo(): Record<string, unknown> {
  const env = tf.env();
  const info: Record<string, unknown> = { tfjs: tf.version.tfjs, backend: tf.getBackend() };
  if (tf.getBackend() === "wasm") {
    info["simd"] = env.getBool("WASM_HAS_SIMD_SUPPORT");
    info["multithread"] = env.getBool("WASM_HAS_MULTITHREAD_SUPPORT");
  }
  return info;
}

export interface TfBatch {
  /** [count, inputs] row-major, float64 (converted to float32 tensors here) */
  readonly x: Float64Array;
  /** [count, outputs] row-major */
  readonly t: Float64Array;
}

export interface TfTrainer {
  /** One training step on batch i (mod the number of batches). */
  step(i: number): void;
  /** The gradient of the mean loss on batch i, per nnc parameter name, in nnc's layout W[out, in]. */
  gradient(i: number): { loss: number; grads: Record<string, Float32Array> };
  /** Waits for the variables' values: a no-op on the synchronous backends, kept for honesty. */
  sync(): void;
  dispose(): void;
}

/**
 * Builds the trainer on the current backend. `params` are nnc's (W[out, in] row-major, names
 * `${layer}.W`, `${layer}.b`, layers in order `layerNames`); the variables start from the same values.
 */
export function createTfTrainer(
  spec: NetworkSpec,
  layerNames: readonly string[],
  params: Record<string, Float64Array>,
  batches: readonly TfBatch[],
  count: number,
  lr: number,
): TfTrainer {
  const L = spec.sizes.length - 1;
  const kernels: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (let l = 0; l < L; l++) {
    const nin = spec.sizes[l]!;
    const nout = spec.sizes[l + 1]!;
    const W = params[`${layerNames[l]}.W`]!;
    const k = new Float32Array(nin * nout);
    for (let i = 0; i < nout; i++) for (let j = 0; j < nin; j++) k[j * nout + i] = W[i * nin + j]!;
    const k0 = tf.tensor2d(k, [nin, nout], "float32");
    const b0 = tf.tensor1d(Float32Array.from(params[`${layerNames[l]}.b`]!), "float32");
    kernels.push(tf.variable(k0));
    biases.push(tf.variable(b0));
    tf.dispose([k0, b0]); // the variables hold their own reference to the data
  }
  const varList = [...kernels, ...biases];
  const nx = spec.sizes[0]!;
  const ny = spec.sizes[L]!;
  const xs = batches.map((b) => tf.tensor2d(Float32Array.from(b.x), [count, nx], "float32"));
  const ts = batches.map((b) => tf.tensor2d(Float32Array.from(b.t), [count, ny], "float32"));
  const optimizer = tf.train.sgd(lr);

  const lossOf = (x: tf.Tensor2D, t: tf.Tensor2D): tf.Scalar => {
    let a: tf.Tensor2D = x;
    for (let l = 0; l < L; l++) {
      const z = tf.add(tf.matMul(a, kernels[l]!), biases[l]!) as tf.Tensor2D;
      if (l === L - 1) {
        a = z;
        break;
      }
      switch (spec.hidden[l]) {
        case "relu":
          a = tf.relu(z);
          break;
        case "tanh":
          a = tf.tanh(z);
          break;
        case "sigmoid":
          a = tf.sigmoid(z);
          break;
        default:
          a = z;
      }
    }
    return spec.output === "softmax-cross-entropy"
      ? (tf.losses.softmaxCrossEntropy(t, a) as tf.Scalar)
      : (tf.losses.sigmoidCrossEntropy(t, a) as tf.Scalar);
  };

  return {
    step(i: number): void {
      const j = i % xs.length;
      optimizer.minimize(() => lossOf(xs[j]!, ts[j]!), false, varList);
    },
    gradient(i: number) {
      const j = i % xs.length;
      const { value, grads } = tf.variableGrads(() => lossOf(xs[j]!, ts[j]!), varList);
      const out: Record<string, Float32Array> = {};
      for (let l = 0; l < L; l++) {
        const nin = spec.sizes[l]!;
        const nout = spec.sizes[l + 1]!;
        const gk = grads[kernels[l]!.name]!.dataSync() as Float32Array;
        const gW = new Float32Array(nin * nout);
        for (let a = 0; a < nout; a++) for (let b = 0; b < nin; b++) gW[a * nin + b] = gk[b * nout + a]!;
        out[`${layerNames[l]}.W`] = gW;
        out[`${layerNames[l]}.b`] = Float32Array.from(grads[biases[l]!.name]!.dataSync());
      }
      const loss = value.dataSync()[0]!;
      value.dispose();
      tf.dispose(Object.values(grads));
      return { loss, grads: out };
    },
    sync(): void {
      biases[0]!.dataSync();
    },
    dispose(): void {
      optimizer.dispose();
      tf.dispose([...varList, ...xs, ...ts]);
    },
  };
}

export function numTensors(): number {
  return tf.memory().numTensors;
}
