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
