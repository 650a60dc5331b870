/**
 * The WebAssembly target's memory, laid out at compile time. One memory of fixed size holds
 * everything the kernels read or write, at offsets that are constants of the emitted module:
 *
 *   [0, 16)            never used: byte offset 0 means "absent" to the kernels (no bias, …)
 *   scratch buffers    the per-lane values of the schedule (h_lanes_buf, …), one region each
 *   staging            per parameter, room for a copy of a parameter or gradient array that the
 *                      caller made outside this memory (see `inMemory` in prelude.ts)
 *   arena              what createParams hands out: parameters made by the module live here, so
 *                      the kernels read and write them in place, without a copy
 *
 * The memory never grows: growing would detach every Float64Array view of it, including the
 * parameter arrays the user holds. When the arena is full, createParams returns ordinary arrays,
 * which the functions stage (copy in, and out for gradients) on each call: correct, slower.
 */

export type Precision = "f64" | "f32";

export const BYTES: Record<Precision, number> = { f64: 8, f32: 4 };

/** every region starts on a 16-byte boundary: one v128 */
const ALIGN = 16;
const PAGE = 65536;
/** parameter sets the arena holds at most (params, grad, optimizer state, …) */
export const ARENA_SETS = 8;
/** the arena takes at most this many bytes, whatever the model */
const ARENA_MAX_BYTES = 256 << 20;

export interface Region {
  readonly name: string;
  /** elements */
  readonly length: number;
  /** bytes from the start of the memory */
  readonly offset: number;
}

export interface MemoryLayout {
  readonly precision: Precision;
  readonly regions: readonly Region[];
  readonly arenaStart: number;
  readonly arenaEnd: number;
  readonly pages: number;
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/**
 * Offsets for the named regions (scratch buffers, staging areas), in the order given, then the
 * arena sized for `paramSetElements` elements per parameter set (each tensor aligned).
 */
export function layoutMemory(precision: Precision, regions: readonly { name: string; length: number }[], paramSizes: readonly number[]): MemoryLayout {
  const bytes = BYTES[precision];
  let at = ALIGN;
  const placed: Region[] = [];
  for (const r of regions) {
    placed.push({ name: r.name, length: r.length, offset: at });
    at += align(r.length * bytes);
  }
  const setBytes = paramSizes.reduce((s, n) => s + align(n * bytes), 0);
  const sets = setBytes === 0 ? 0 : Math.max(1, Math.min(ARENA_SETS, Math.floor(ARENA_MAX_BYTES / setBytes)));
  const arenaStart = at;
  const arenaEnd = at + sets * setBytes;
  return { precision, regions: placed, arenaStart, arenaEnd, pages: Math.max(1, Math.ceil(arenaEnd / PAGE)) };
}
