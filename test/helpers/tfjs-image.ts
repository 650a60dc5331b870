/**
 * The image functions of language §11 in TensorFlow.js, for the oracle (tfjs-oracle.ts): one
 * sample's image is [C, H, W] in nnc and [H, W, C] (NHWC without the batch) in tfjs, so every op
 * transposes in and out; convolution weights are [O, C, k, k] in nnc and [k, k, C, O] in tfjs.
 * The paddings are worked out here from the language's rule (§11: "same" pads (k − 1)/2 per side for
 * an odd kernel, TensorFlow's rule for an even one), not read from nnc, and given to tf.conv2d
 * explicitly.
 */
import * as tf from "@tensorflow/tfjs";

export type Padding = "valid" | "same" | number;

/** zeros before and after an axis of length n for kernel k, stride s */
export function padsFor(p: Padding, n: number, k: number, s: number): [number, number] {
  if (p === "valid") return [0, 0];
  if (typeof p === "number") return [p, p];
  if (k % 2 === 1) return [(k - 1) / 2, (k - 1) / 2];
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

const toHWC = (x: tf.Tensor) => tf.transpose(x, [1, 2, 0]) as tf.Tensor3D;
const toCHW = (x: tf.Tensor) => tf.transpose(x, [2, 0, 1]);

/** conv2d(x[C, H, W], W[O, C, k, k]) → [O, OH, OW], via tf.conv2d in NHWC */
export function conv2d(x: tf.Tensor, w: tf.Tensor, stride: number, padding: Padding): tf.Tensor {
  const [, H, W] = x.shape as [number, number, number];
  const k = w.shape[2]!;
  const [top, bottom] = padsFor(padding, H, k, stride);
  const [left, right] = padsFor(padding, W, k, stride);
  const kernel = tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;
  const y = tf.conv2d(toHWC(x), kernel, stride, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  return toCHW(y);
}

export function maxpool(x: tf.Tensor, k: number): tf.Tensor {
  return toCHW(tf.maxPool(toHWC(x), k, k, "valid"));
}

export function avgpool(x: tf.Tensor, k: number): tf.Tensor {
  return toCHW(tf.avgPool(toHWC(x), k, k, "valid"));
}

/** x[…] with, per axis, an index (the axis dropped) or a range [start, stop) */
export function slice(x: tf.Tensor, axes: readonly ({ index: number } | { start: number | null; stop: number | null })[]): tf.Tensor {
  const begin: number[] = [], size: number[] = [], keep: number[] = [];
  axes.forEach((a, d) => {
    const n = x.shape[d]!;
    if ("index" in a) {
      begin.push(a.index);
      size.push(1);
    } else {
      const start = a.start ?? 0, stop = a.stop ?? n;
      begin.push(start);
      size.push(stop - start);
      keep.push(stop - start);
    }
  });
  return tf.slice(x, begin, size).reshape(keep);
}
