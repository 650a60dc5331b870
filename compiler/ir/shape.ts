/** A tensor shape: [] scalar, [n] vector, [m, n] matrix (row-major). */
export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Element-wise broadcasting: equal shapes, or one side a scalar. null when incompatible. */
export function broadcastShapes(a: Shape, b: Shape): Shape | null {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return sameShape(a, b) ? a : null;
}

/** Shape of `a @ b`, or null if the product is not defined. */
export function matmulShape(a: Shape, b: Shape): Shape | null {
  if (a.length !== 2) return null;
  if (b.length === 1) return a[1] === b[0] ? [a[0]!] : null;
  if (b.length === 2) return a[1] === b[0] ? [a[0]!, b[1]!] : null;
  return null;
}

export function showShape(shape: Shape): string {
  return shape.length === 0 ? "scalar" : `[${shape.join(", ")}]`;
}

/** Row-major strides. */
export function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** The highest rank a tensor may have (language §11: [channels, height, width] per sample, conv weights [o, i, kh, kw]). */
export const MAX_RANK = 4;

/**
 * fan_in and fan_out of a parameter, for the initializers: a matrix W[out, in] has fan_in = in and
 * fan_out = out; a convolution's W[o, i, kh, kw] fan_in = i·kh·kw and fan_out = o·kh·kw (PyTorch's
 * rule: the receptive field counts); a vector's fan_in is its length.
 */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: 1 };
  const field = numel(shape.slice(2));
  return { fanIn: shape[1]! * field, fanOut: shape[0]! * field };
}
