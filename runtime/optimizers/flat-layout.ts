/**
 * The parameters as one flat vector, as the full-batch optimizers (L-BFGS, damped Newton) see
 * them: where each named tensor sits in it, and the copies between the two views.
 */
import type { ParamSet } from "../types.js";

export class FlatLayout {
  readonly names: readonly string[];
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  /** elements in all */
  readonly length: number;

  constructor(params: ParamSet) {
    this.names = Object.keys(params);
    this.sizes = this.names.map((k) => params[k]!.length);
    const offsets: number[] = [];
    let n = 0;
    for (const size of this.sizes) {
      offsets.push(n);
      n += size;
    }
    this.offsets = offsets;
    this.length = n;
  }

  /** into ← the parameters */
  read(params: ParamSet, into: Float64Array): void {
    for (let j = 0; j < this.names.length; j++) into.set(params[this.names[j]!]!, this.offsets[j]!);
  }

  /** the parameters ← from */
  write(params: ParamSet, from: Float64Array): void {
    for (let j = 0; j < this.names.length; j++) {
      const off = this.offsets[j]!;
      params[this.names[j]!]!.set(from.subarray(off, off + this.sizes[j]!));
    }
  }

  /** the parameters ← x + a d (a line search's trial point) */
  writeAlong(params: ParamSet, x: Float64Array, a: number, d: Float64Array): void {
    for (let j = 0; j < this.names.length; j++) {
      const p = params[this.names[j]!]!;
      const off = this.offsets[j]!;
      for (let i = 0; i < p.length; i++) p[i] = x[off + i]! + a * d[off + i]!;
    }
  }

  /** do the parameters hold exactly x (nobody moved them since the optimizer last wrote them)? */
  holds(params: ParamSet, x: Float64Array): boolean {
    for (let j = 0; j < this.names.length; j++) {
      const p = params[this.names[j]!]!;
      const off = this.offsets[j]!;
      for (let i = 0; i < p.length; i++) if (!Object.is(p[i], x[off + i])) return false;
    }
    return true;
  }

  /** throws unless the parameters have every tensor of the layout at its size */
  check(params: ParamSet, optimizer: string): void {
    this.names.forEach((k, j) => {
      const p = params[k];
      if (p === undefined || p.length !== this.sizes[j]) throw new Error(`${optimizer}: parameter '${k}' (${this.sizes[j]} values) is missing or has another size`);
    });
  }

  /** named views into a flat vector */
  views<T extends Float32Array | Float64Array>(flat: T): Record<string, T> {
    const set: Record<string, T> = {};
    this.names.forEach((k, j) => (set[k] = flat.subarray(this.offsets[j]!, this.offsets[j]! + this.sizes[j]!) as T));
    return set;
  }
}
