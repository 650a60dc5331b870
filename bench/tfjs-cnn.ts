/**
 * A convolutional network as a TensorFlow.js training step, written as tfjs users write one: NHWC
 * images, conv kernels [k, k, in, out] and dense kernels [in, out] as float32 tf.variables,
 * tf.conv2d with explicit padding, tf.maxPool, the fused tf.losses.softmaxCrossEntropy (mean over
 * the batch) and `optimizer.minimize` with tf.train.sgd — forward, tape-based backward and update.
 * It starts from nnc's parameters (converted from nnc's layouts: conv W[out, in, k, k], dense
 * W[out, in], images [C, H, W] per sample) and reports its gradient in nnc's layouts, so the
 * benchmark can check that both compute the same network before timing them.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (tf.conv2d's weight gradient throws
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"), so the convolution is a
 * tf.customGrad whose weight gradient is itself a tf.conv2d (XNNPACK's): ∂W[u, v, c, o] =
 * Σ_{n,i,j} x[n, i·s + u, j·s + v, c]·δ[n, i, j, o] is the convolution of x with the batch and
 * channel axes swapped ([C, H, W, N]) by δ as a kernel ([OH, OW, N, O], dilated by the stride).
 * The input gradient is tf.conv2dTranspose (Conv2DBackpropInput, which the backend has).
 */
import * as tf from "@tensorflow/tfjs";
import type { TfBatch, TfTrainer } from "./tfjs.js";

/** One layer of the network, in order; names are nnc's layer names (`c1` → c1.W, c1.b). */
export type CnnLayer =
  | { readonly kind: "conv"; readonly name: string; readonly filters: number; readonly kernel: number; readonly stride: number; readonly pads: readonly [number, number, number, number]; readonly relu: boolean }
  | { readonly kind: "maxpool"; readonly k: number }
  | { readonly kind: "avgpool"; readonly k: number }
  | { readonly kind: "dense"; readonly name: string; readonly out: number; readonly relu: boolean };

export interface CnnSpec {
  /** one sample's image: [C, H, W] */
  readonly input: readonly [number, number, number];
  readonly layers: readonly CnnLayer[];
  /** the last dense layer's outputs are the logits of a softmax cross-entropy */
  readonly classes: number;
}

/** nnc's [O, C, k, k] → tfjs's [k, k, C, O] */
function convKernel(W: Float64Array, O: number, C: number, k: number): Float32Array {
  const out = new Float32Array(W.length);
  for (let o = 0; o < O; o++) for (let c = 0; c < C; c++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) out[((u * k + v) * C + c) * O + o] = W[((o * C + c) * k + u) * k + v]!;
  return out;
}

/** tf.conv2d (NHWC, explicit padding) with the weight gradient as a convolution (see above) */
function convolution(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pads: readonly [number, number, number, number]): tf.Tensor4D {
  const [top, left, bottom, right] = pads;
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [top, bottom], [left, right], [0, 0]];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, w4, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([x4, w4]);
    return {
      value: tf.conv2d(x4, w4, stride, padding),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        const dx = tf.conv2dTranspose(d, sw, sx.shape, stride, padding);
        const [k1, k2] = [sw.shape[0], sw.shape[1]];
        // [C, H, W, N] ⋆ [OH, OW, N, O] (dilated by the stride) → [C, ≥k, ≥k, O] → [k, k, C, O]
        const g = tf.conv2d(tf.transpose(sx, [3, 1, 2, 0]) as tf.Tensor4D, tf.transpose(d, [1, 2, 0, 3]) as tf.Tensor4D, 1, padding, "NHWC", stride);
        const dw = tf.transpose(tf.slice(g, [0, 0, 0, 0], [-1, k1, k2, -1]), [1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  });
  return f(x, w);
}

export function createTfCnnTrainer(spec: CnnSpec, params: Record<string, Float64Array>, batches: readonly TfBatch[], count: number, lr: number): TfTrainer {
  const [C0, H0, W0] = spec.input;
  const vars = new Map<string, { v: tf.Variable; back: (g: Float32Array) => Float32Array }>();
  let [C, H, W] = [C0, H0, W0];
  /** the width of the last dense layer's output; 0 before the first dense layer (which reads an image) */
  let width = 0;
  for (const l of spec.layers) {
    if (l.kind === "conv") {
      const w = params[`${l.name}.W`]!;
      const k0 = tf.tensor4d(convKernel(w, l.filters, C, l.kernel), [l.kernel, l.kernel, C, l.filters], "float32");
      const [O, Cin, k] = [l.filters, C, l.kernel];
      vars.set(`${l.name}.W`, {
        v: tf.variable(k0),
        back: (g) => {
          const out = new Float32Array(g.length);
          for (let o = 0; o < O; o++) for (let c = 0; c < Cin; c++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) out[((o * Cin + c) * k + u) * k + v] = g[((u * k + v) * Cin + c) * O + o]!;
          return out;
        },
      });
      k0.dispose();
      H = Math.floor((H + l.pads[0] + l.pads[2] - l.kernel) / l.stride) + 1;
      W = Math.floor((W + l.pads[1] + l.pads[3] - l.kernel) / l.stride) + 1;
      C = l.filters;
    } else if (l.kind !== "dense") {
      H = Math.floor(H / l.k);
      W = Math.floor(W / l.k);
    } else {
      // nnc flattens [C, H, W] row-major; tfjs's activations are [H, W, C]: the dense kernel's
      // rows are permuted once here so that both compute the same function
      const nin = width === 0 ? C * H * W : width;
      const from: [number, number, number] | null = width === 0 ? [C, H, W] : null;
      const w = params[`${l.name}.W`]!;
      const rowOf = (j: number) => {
        if (from === null) return j;
        const [c, y, x] = [Math.floor(j / (from[1] * from[2])), Math.floor(j / from[2]) % from[1], j % from[2]];
        return (y * from[2] + x) * from[0] + c;
      };
      const k = new Float32Array(nin * l.out);
      for (let i = 0; i < l.out; i++) for (let j = 0; j < nin; j++) k[rowOf(j) * l.out + i] = w[i * nin + j]!;
      const k0 = tf.tensor2d(k, [nin, l.out], "float32");
      const out = l.out;
      vars.set(`${l.name}.W`, {
        v: tf.variable(k0),
        back: (g) => {
          const r = new Float32Array(g.length);
          for (let i = 0; i < out; i++) for (let j = 0; j < nin; j++) r[i * nin + j] = g[rowOf(j) * out + i]!;
          return r;
        },
      });
      k0.dispose();
      width = l.out;
    }
    if (l.kind === "conv" || l.kind === "dense") {
      const b0 = tf.tensor1d(Float32Array.from(params[`${l.name}.b`]!), "float32");
      vars.set(`${l.name}.b`, { v: tf.variable(b0), back: (g) => g });
      b0.dispose();
    }
  }
  const varList = [...vars.values()].map((x) => x.v);
  // inputs [count, C, H, W] row-major → NHWC once
  const xs = batches.map((b) => tf.tidy(() => tf.transpose(tf.tensor4d(Float32Array.from(b.x), [count, C0, H0, W0], "float32"), [0, 2, 3, 1])));
  const ts = batches.map((b) => tf.tensor2d(Float32Array.from(b.t), [count, spec.classes], "float32"));
  const optimizer = tf.train.sgd(lr);

  const lossOf = (x: tf.Tensor, t: tf.Tensor2D): tf.Scalar => {
    let a = x;
    for (const l of spec.layers) {
      if (l.kind === "conv") {
        const [top, left, bottom, right] = l.pads;
        a = tf.add(convolution(a as tf.Tensor4D, vars.get(`${l.name}.W`)!.v as tf.Tensor4D, l.stride, [top, left, bottom, right]), vars.get(`${l.name}.b`)!.v);
        if (l.relu) a = tf.relu(a);
      } else if (l.kind === "maxpool") a = tf.maxPool(a as tf.Tensor4D, l.k, l.k, "valid");
      else if (l.kind === "avgpool") a = tf.avgPool(a as tf.Tensor4D, l.k, l.k, "valid");
      else {
        if (a.rank > 2) a = tf.reshape(a, [count, -1]);
        a = tf.add(tf.matMul(a as tf.Tensor2D, vars.get(`${l.name}.W`)!.v as tf.Tensor2D), vars.get(`${l.name}.b`)!.v);
        if (l.relu) a = tf.relu(a);
      }
    }
    return tf.losses.softmaxCrossEntropy(t, a as tf.Tensor2D) as tf.Scalar;
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
      for (const [name, { v, back }] of vars) out[name] = back(grads[v.name]!.dataSync() as Float32Array);
      const loss = value.dataSync()[0]!;
      value.dispose();
      tf.dispose(Object.values(grads));
      return { loss, grads: out };
    },
    sync(): void {
      varList[0]!.dataSync();
    },
    dispose(): void {
      optimizer.dispose();
      tf.dispose([...varList, ...xs, ...ts]);
    },
  };
}
