/**
 * The attributes and the reference meaning (float64, for the interpreter and constant folding) of
 * the IR's image ops: convolution, pooling, slicing, concatenation. ops.ts holds their shape and
 * derivative rules; the printers read the attributes through the helpers here, so an op's `at`
 * layout is decided in one place. Tensors are row-major, one sample's image is [C, H, W], a
 * convolution's weights are [O, C, kh, kw] (PyTorch's layout).
 *
 * `at` layouts:
 *  - conv2d, conv2d_backward_input, conv2d_backward_weight: [stride, top, left, bottom, right]
 *    (explicit zero padding per side); the two adjoints also carry the shape they produce
 *  - maxpool, avgpool, maxpool_backward, maxpool_gather, avgpool_backward: [k] (window k×k, stride k,
 *    "valid": rows and columns past the last whole window are not read)
 *  - slice, unslice: per axis of the full tensor the triple [start, stop, drop] (drop = 1: an index,
 *    the axis is dropped and stop = start + 1)
 *  - concat: [axis]; reshape: none (the shape attribute is the new shape)
 */
import type { Tensor } from "./ops.js";
import { numel, strides, type Shape } from "./shape.js";

export interface ConvAttrs {
  readonly stride: number;
  readonly top: number;
  readonly left: number;
  readonly bottom: number;
  readonly right: number;
}

export const convAt = (a: ConvAttrs): number[] => [a.stride, a.top, a.left, a.bottom, a.right];

export function convAttrs(at: readonly number[]): ConvAttrs {
  const [stride, top, left, bottom, right] = at as [number, number, number, number, number];
  return { stride, top, left, bottom, right };
}

/** Output length along one axis: ⌊(n + pads − k) / stride⌋ + 1 (0 or less: the kernel does not fit). */
export function convOut(n: number, k: number, stride: number, before: number, after: number): number {
  return Math.floor((n + before + after - k) / stride) + 1;
}

/** Shape of conv2d(x[C, H, W], W[O, C, kh, kw]), or null when they do not fit. */
export function conv2dShape(x: Shape, w: Shape, a: ConvAttrs): Shape | null {
  if (x.length !== 3 || w.length !== 4 || x[0] !== w[1]) return null;
  const ho = convOut(x[1]!, w[2]!, a.stride, a.top, a.bottom);
  const wo = convOut(x[2]!, w[3]!, a.stride, a.left, a.right);
  return ho >= 1 && wo >= 1 ? [w[0]!, ho, wo] : null;
}

/**
 * Every tap of the convolution: y[o, p, q] += x[c, p·s + u − top, q·s + v − left] · W[o, c, u, v]
 * for the taps inside the image (the padding is zeros, so taps on it are skipped). The three conv
 * ops are this one bilinear sum, each accumulating into a different one of its three tensors.
 */
function forEachTap(x: Shape, w: Shape, y: Shape, a: ConvAttrs, f: (xi: number, wi: number, yi: number) => void): void {
  const [C, H, W] = x as [number, number, number];
  const [O, , kh, kw] = w as [number, number, number, number];
  const [, Ho, Wo] = y as [number, number, number];
  for (let o = 0; o < O; o++)
    for (let p = 0; p < Ho; p++)
      for (let q = 0; q < Wo; q++)
        for (let c = 0; c < C; c++)
          for (let u = 0; u < kh; u++) {
            const i = p * a.stride + u - a.top;
            if (i < 0 || i >= H) continue;
            for (let v = 0; v < kw; v++) {
              const j = q * a.stride + v - a.left;
              if (j < 0 || j >= W) continue;
              f((c * H + i) * W + j, ((o * C + c) * kh + u) * kw + v, (o * Ho + p) * Wo + q);
            }
          }
}

/** y = conv2d(x, W) (a cross-correlation, as in every deep-learning library) */
export function conv2dEval(x: Tensor, w: Tensor, a: ConvAttrs, yShape: Shape): Float64Array {
  const y = new Float64Array(numel(yShape));
  forEachTap(x.shape, w.shape, yShape, a, (xi, wi, yi) => (y[yi]! += x.data[xi]! * w.data[wi]!));
  return y;
}

/** δx = the full correlation of δ with the flipped kernel: the transpose of conv2d in x */
export function conv2dBackwardInputEval(d: Tensor, w: Tensor, a: ConvAttrs, xShape: Shape): Float64Array {
  const out = new Float64Array(numel(xShape));
  forEachTap(xShape, w.shape, d.shape, a, (xi, wi, yi) => (out[xi]! += d.data[yi]! * w.data[wi]!));
  return out;
}

/** ∂W = the correlation of x and δ, summed over the positions: the transpose of conv2d in W */
export function conv2dBackwardWeightEval(x: Tensor, d: Tensor, a: ConvAttrs, wShape: Shape): Float64Array {
  const out = new Float64Array(numel(wShape));
  forEachTap(x.shape, wShape, d.shape, a, (xi, wi, yi) => (out[wi]! += x.data[xi]! * d.data[yi]!));
  return out;
}

/** Shape of a k×k, stride-k, "valid" pooling of x[C, H, W] (null when a window does not fit). */
export function poolShape(x: Shape, k: number): Shape | null {
  if (x.length !== 3 || k < 1 || x[1]! < k || x[2]! < k) return null;
  return [x[0]!, Math.floor(x[1]! / k), Math.floor(x[2]! / k)];
}

/** Runs over the windows: f(output index, the window's input indices in row-major order). */
function forEachWindow(x: Shape, k: number, f: (yi: number, window: number[]) => void): void {
  const [C, H, W] = x as [number, number, number];
  const Hp = Math.floor(H / k), Wp = Math.floor(W / k);
  const window = new Array<number>(k * k);
  for (let c = 0; c < C; c++)
    for (let p = 0; p < Hp; p++)
      for (let q = 0; q < Wp; q++) {
        for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) window[u * k + v] = (c * H + p * k + u) * W + q * k + v;
        f((c * Hp + p) * Wp + q, window);
      }
}

/** the window's arg-max, ties to the first in row-major order (§4's kink convention) */
function argmax(x: Float64Array, window: readonly number[]): number {
  let best = window[0]!;
  for (const i of window) if (x[i]! > x[best]!) best = i;
  return best;
}

export function maxpoolEval(x: Tensor, k: number): Float64Array {
  const y = new Float64Array(numel(poolShape(x.shape, k)!));
  forEachWindow(x.shape, k, (yi, w) => (y[yi] = x.data[argmax(x.data, w)]!));
  return y;
}

/** z[window's arg-max in x] = d[window] for every window, 0 elsewhere: max-pooling's δ routing */
export function maxpoolBackwardEval(x: Tensor, d: Tensor, k: number): Float64Array {
  const out = new Float64Array(numel(x.shape));
  forEachWindow(x.shape, k, (yi, w) => (out[argmax(x.data, w)] = d.data[yi]!));
  return out;
}

/** z at each window's arg-max in x: the adjoint of maxpool_backward in δ, and maxpool's tangent */
export function maxpoolGatherEval(x: Tensor, z: Tensor, k: number): Float64Array {
  const y = new Float64Array(numel(poolShape(x.shape, k)!));
  forEachWindow(x.shape, k, (yi, w) => (y[yi] = z.data[argmax(x.data, w)]!));
  return y;
}

export function avgpoolEval(x: Tensor, k: number): Float64Array {
  const y = new Float64Array(numel(poolShape(x.shape, k)!));
  forEachWindow(x.shape, k, (yi, w) => (y[yi] = w.reduce((s, i) => s + x.data[i]!, 0) / (k * k)));
  return y;
}

/** each window's δ/k² spread over the window; 0 on the rows and columns no window reads */
export function avgpoolBackwardEval(d: Tensor, k: number, xShape: Shape): Float64Array {
  const out = new Float64Array(numel(xShape));
  forEachWindow(xShape, k, (yi, w) => {
    for (const i of w) out[i] = d.data[yi]! / (k * k);
  });
  return out;
}

export interface SliceAxis {
  readonly start: number;
  readonly stop: number;
  /** an index: the axis is dropped from the result */
  readonly drop: boolean;
}

export function sliceAxes(at: readonly number[]): SliceAxis[] {
  const axes: SliceAxis[] = [];
  for (let i = 0; i + 2 < at.length; i += 3) axes.push({ start: at[i]!, stop: at[i + 1]!, drop: at[i + 2] === 1 });
  return axes;
}

export const sliceAt = (axes: readonly SliceAxis[]): number[] => axes.flatMap((a) => [a.start, a.stop, a.drop ? 1 : 0]);

/** Shape of x[axes] (null when the slice does not fit x or is empty). */
export function sliceShape(x: Shape, axes: readonly SliceAxis[]): Shape | null {
  if (axes.length !== x.length) return null;
  const out: number[] = [];
  for (const [d, a] of axes.entries()) {
    if (a.start < 0 || a.stop > x[d]! || a.stop <= a.start || (a.drop && a.stop !== a.start + 1)) return null;
    if (!a.drop) out.push(a.stop - a.start);
  }
  return out;
}

/** The flat index in x of each element of x[axes], in row-major order of the slice. */
function sliceIndices(x: Shape, axes: readonly SliceAxis[]): number[] {
  const st = strides(x);
  let offsets = [0];
  for (const [d, a] of axes.entries()) {
    const next: number[] = [];
    for (const o of offsets) for (let i = a.start; i < a.stop; i++) next.push(o + i * st[d]!);
    offsets = next;
  }
  return offsets;
}

export function sliceEval(x: Tensor, axes: readonly SliceAxis[]): Float64Array {
  return Float64Array.from(sliceIndices(x.shape, axes), (i) => x.data[i]!);
}

/** the slice's adjoint: d scattered into zeros of the full shape */
export function unsliceEval(d: Tensor, axes: readonly SliceAxis[], full: Shape): Float64Array {
  const out = new Float64Array(numel(full));
  sliceIndices(full, axes).forEach((i, k) => (out[i] = d.data[k]!));
  return out;
}

/** Shape of concat(xs, axis), or null when the shapes differ off the axis. */
export function concatShape(xs: readonly Shape[], axis: number): Shape | null {
  const first = xs[0];
  if (first === undefined || axis < 0 || axis >= first.length) return null;
  let n = 0;
  for (const s of xs) {
    if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) return null;
    n += s[axis]!;
  }
  return first.map((d, i) => (i === axis ? n : d));
}

/** The slice of concat(…)'s result that input k occupies. */
export function concatPart(xs: readonly Shape[], axis: number, k: number): SliceAxis[] {
  let start = 0;
  for (let i = 0; i < k; i++) start += xs[i]![axis]!;
  return xs[k]!.map((d, i) => (i === axis ? { start, stop: start + d, drop: false } : { start: 0, stop: d, drop: false }));
}

export function concatEval(xs: readonly Tensor[], axis: number, out: Shape): Float64Array {
  const y = new Float64Array(numel(out));
  xs.forEach((x, k) => {
    const idx = sliceIndices(out, concatPart(xs.map((t) => t.shape), axis, k));
    idx.forEach((i, e) => (y[i] = x.data[e]!));
  });
  return y;
}
