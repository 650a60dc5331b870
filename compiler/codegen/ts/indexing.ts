/** Index arithmetic of the TypeScript printer: an index is a constant or a loop expression. */
import { numel, strides, type Shape } from "../../ir/shape.js";

export type Ix = number | string;

/** Row-major flat index, folded where the parts are constant. */
export function flat(shape: Shape, idx: readonly Ix[]): Ix {
  const st = strides(shape);
  let c = 0;
  const terms: string[] = [];
  idx.forEach((v, k) => {
    if (typeof v === "number") c += v * st[k]!;
    else terms.push(st[k] === 1 ? v : `${/^[\w$]+$/.test(v) ? v : `(${v})`} * ${st[k]}`);
  });
  if (terms.length === 0) return c;
  if (c !== 0) terms.push(String(c));
  return terms.join(" + ");
}

export function flatConst(shape: Shape, idx: readonly Ix[]): number {
  const f = flat(shape, idx);
  if (typeof f !== "number") throw new Error("internal: locals read with a loop index");
  return f;
}

export function add(base: string, off: Ix): string {
  return off === 0 ? base : `${base} + ${off}`;
}

/** Every index tuple of a shape, in row-major order. */
export function indices(shape: Shape): number[][] {
  const st = strides(shape);
  return Array.from({ length: numel(shape) }, (_, f) => shape.map((d, k) => Math.floor(f / st[k]!) % d));
}
