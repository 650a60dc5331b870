/**
 * WebAssembly SIMD128 kernels for batched dense layers: a generator of WebAssembly text (WAT) for
 * one kernel library per precision ("f64": f64x2 vectors, "f32": f32x4 vectors).
 *
 * The module imports its memory and exports the functions below. It keeps no state and allocates
 * nothing: the JavaScript glue creates and owns the `WebAssembly.Memory`, lays out the tensors in
 * it and passes byte offsets.
 *
 *     const bytes = await assembleWat(kernelsWat("f64"));            // ./assemble.ts
 *     const memory = new WebAssembly.Memory({ initial: pages });
 *     const { instance } = await WebAssembly.instantiate(bytes,
 *       { [KERNEL_MEMORY_MODULE]: { [KERNEL_MEMORY_NAME]: memory } });   // { env: { memory } }
 *     (instance.exports.dense_forward as Function)(X, W, b, Y, rows, m, k, 1);
 *
 * ## Conventions (all kernels)
 *
 * - Every pointer is an i32 **byte offset** into the imported memory; every size (rows, m, k, n)
 *   is an i32 **element count**. Elements are `f64` (8 bytes) or `f32` (4 bytes) as the module's
 *   precision says; scalar arguments of that type (`lr`) are f64 or f32 accordingly (from
 *   JavaScript, a plain number either way).
 * - Layout is row-major. A block of `rows` samples is stored sample-major: `X[r, j]` at
 *   `X + (r*k + j)*bytes`. Weights `W[i, j]` (out i < m, in j < k) at `W + (i*k + j)*bytes`, as in
 *   the emitted TypeScript (`z = W @ x + b`). D (∂L/∂Y) is `rows × m`, like Y.
 * - **Offset 0 means "absent"** for the optional pointers `b` and `db`; the glue must therefore
 *   never place a bias or a bias gradient at byte 0 (reserve the first 16 bytes of the memory).
 * - No alignment is required: vectors are read and written with unaligned-tolerant loads/stores.
 *   16-byte-aligned tensor starts are recommended (rows are then aligned whenever k·bytes is a
 *   multiple of 16).
 * - Output regions must not overlap input regions (Y vs X/W/b, DX vs D/W, dW/db vs D/X).
 * - Sizes of 0 are allowed and do nothing (dense_forward with k = 0 writes Y = b, relu'd).
 * - Results are deterministic (a fixed summation order that depends only on the sizes), but not
 *   bit-identical with a sequential loop: the vector accumulators sum strided partial sums.
 *
 * ## Exports (same names in both precisions)
 *
 * - `dense_forward(X, W, b, Y, rows, m, k, relu)`:
 *   `Y[r, i] = Σ_{j<k} X[r, j]·W[i, j] + (b ? b[i] : 0)`, then `Y = max(Y, 0)` when relu ≠ 0,
 *   for r < rows, i < m. Overwrites Y.
 * - `dense_backward_data(D, W, DX, rows, m, k, accumulate)`:
 *   `DX[r, j] = Σ_{i<m} D[r, i]·W[i, j]` for r < rows, j < k; overwrites DX when accumulate = 0,
 *   adds to it (`DX += …`) otherwise.
 * - `dense_backward_weight(D, X, dW, db, rows, m, k)`:
 *   `dW[i, j] += Σ_{r<rows} D[r, i]·X[r, j]` and, when db ≠ 0, `db[i] += Σ_r D[r, i]`
 *   (always accumulates: zero dW/db first for a fresh gradient).
 * - `sgd_update(P, G, n, lr)`: `P[e] -= lr·G[e]` for e < n.
 * - `adam_update(P, G, M, V, n, lr, beta1, beta2, eps, c1, c2)`: Adam's step for e < n, in the
 *   order of operations of the emitted `adamApply` (update-rules.ts), so an f64 module gives the
 *   same bits either way: `m = β₁M + (1 − β₁)G`, `v = (1 − β₂)G·G + β₂V` as `β₂V + ((1 − β₂)G)G`,
 *   `M = m`, `V = v`, `P -= (lr·(m·c1)) / √(v·c2 + eps)`.
 * - `sgd_update_keep(P, G, B, n, lr)`, `adam_update_keep(P, G, M, V, B, n, …)`: the same update,
 *   bit for bit, also writing P's old values to B and returning Σ of the new P (in an unspecified
 *   order, as `sum`): the last good weights, the update and the divergence check of a slice in one
 *   pass (train({ threads })).
 * - `relu_backward(D, Y, n)`: `D[e] = Y[e] > 0 ? D[e] : 0` for e < n (Y the relu's output; turns
 *   ∂L/∂relu(z) into ∂L/∂z in place).
 * - `zero(P, n)`: `P[e] = 0`; `copy(dst, src, n)`: `dst[e] = src[e]` (regions must not overlap).
 * - `scale_add(D, A, B, n, a, b)`: `D[e] = a·A[e] + b·B[e]` (two roundings, no fused multiply-add:
 *   the bits of JavaScript's `a * A[e] + b * B[e]`; D may be A). The threads of train({ threads })
 *   reduce the shards' gradients with it (runtime/threads/worker.ts).
 * - `scale(P, n, s)`: `P[e] *= s` (the emitted module's scaleAll of a batch gradient by 1/count).
 * - `sum(P, n)`: Σ P[e] in an unspecified order: finite exactly when every P[e] is finite and the
 *   sum does not overflow (the threads' divergence check).
 *
 * ## Blocking (see docs/performance.md, "WebAssembly kernels")
 *
 * - forward: dot products along k (both X and W rows are k-contiguous), a register tile of
 *   `forwardRows` samples × `forwardOuts` outputs of vector accumulators, k unrolled by
 *   `forwardUnroll` vectors, horizontal sums at the end, then a scalar tail for k mod lanes.
 * - backward data: vectors along j (W rows are j-contiguous), a tile of `dataRows` samples ×
 *   `dataCols` vectors of j, D[r, i] splatted, the loop over i innermost.
 * - backward weight: vectors along j, a tile of `weightOuts` outputs × `weightCols` vectors of j,
 *   D[r, i] splatted, the sum over r kept in registers, then one read-modify-write of dW.
 * Remainders (rows, m not multiples of the tile; k not a multiple of the tile width or of the
 * vector width) are covered by smaller tiles (each list is greedy, descending, ending in 1) and by
 * scalar column tiles.
 */

export type Precision = "f64" | "f32";

/** The memory import: `(import "env" "memory" (memory 0))`. */
export const KERNEL_MEMORY_MODULE = "env";
export const KERNEL_MEMORY_NAME = "memory";

/** Exported function names (both precisions). */
export const KERNEL_EXPORTS = [
  "dense_forward",
  "dense_backward_data",
  "dense_backward_weight",
  "sgd_update",
  "adam_update",
  "sgd_update_keep",
  "adam_update_keep",
  "relu_backward",
  "zero",
  "copy",
  "scale_add",
  "scale",
  "sum",
] as const;
export type KernelExport = (typeof KERNEL_EXPORTS)[number];

/** Signatures as seen from JavaScript (pointers are byte offsets, sizes element counts). */
export interface KernelFunctions {
  dense_forward(X: number, W: number, b: number, Y: number, rows: number, m: number, k: number, relu: number): void;
  dense_backward_data(D: number, W: number, DX: number, rows: number, m: number, k: number, accumulate: number): void;
  dense_backward_weight(D: number, X: number, dW: number, db: number, rows: number, m: number, k: number): void;
  sgd_update(P: number, G: number, n: number, lr: number): void;
  adam_update(P: number, G: number, M: number, V: number, n: number, lr: number, beta1: number, beta2: number, eps: number, c1: number, c2: number): void;
  sgd_update_keep(P: number, G: number, B: number, n: number, lr: number): number;
  adam_update_keep(P: number, G: number, M: number, V: number, B: number, n: number, lr: number, beta1: number, beta2: number, eps: number, c1: number, c2: number): number;
  relu_backward(D: number, Y: number, n: number): void;
  zero(P: number, n: number): void;
  copy(dst: number, src: number, n: number): void;
  scale_add(D: number, A: number, B: number, n: number, a: number, b: number): void;
  scale(P: number, n: number, s: number): void;
  sum(P: number, n: number): number;
}

/** KernelFunctions as TypeScript text, for the interface the emitted module declares (keep the two alike). */
export const KERNEL_SIGNATURES: readonly string[] = [
  "dense_forward(X: number, W: number, b: number, Y: number, rows: number, m: number, k: number, relu: number): void;",
  "dense_backward_data(D: number, W: number, DX: number, rows: number, m: number, k: number, accumulate: number): void;",
  "dense_backward_weight(D: number, X: number, dW: number, db: number, rows: number, m: number, k: number): void;",
  "sgd_update(P: number, G: number, n: number, lr: number): void;",
  "adam_update(P: number, G: number, M: number, V: number, n: number, lr: number, beta1: number, beta2: number, eps: number, c1: number, c2: number): void;",
  "sgd_update_keep(P: number, G: number, B: number, n: number, lr: number): number;",
  "adam_update_keep(P: number, G: number, M: number, V: number, B: number, n: number, lr: number, beta1: number, beta2: number, eps: number, c1: number, c2: number): number;",
  "relu_backward(D: number, Y: number, n: number): void;",
  "zero(P: number, n: number): void;",
  "copy(dst: number, src: number, n: number): void;",
  "scale_add(D: number, A: number, B: number, n: number, a: number, b: number): void;",
  "scale(P: number, n: number, s: number): void;",
  "sum(P: number, n: number): number;",
];

/** Element size in bytes. */
export const ELEMENT_BYTES: Record<Precision, number> = { f64: 8, f32: 4 };

/** Register blocking; tile lists are greedy, strictly descending and end in 1. */
export interface KernelBlocking {
  /** forward: samples per register tile */
  forwardRows: number[];
  /** forward: outputs per register tile */
  forwardOuts: number[];
  /** forward: vectors of k per inner-loop iteration */
  forwardUnroll: number;
  /** forward: which tile loop is outermost ("outs": a tile of W rows stays in L1 while all the
   *  sample tiles pass; "rows": a tile of X rows stays while all of W passes) */
  forwardOuter: "outs" | "rows";
  /** backward data: samples per tile */
  dataRows: number[];
  /** backward data: vectors of j per tile (then scalar columns for k mod lanes) */
  dataCols: number[];
  /** backward data: steps of i per inner-loop iteration */
  dataUnroll: number;
  /** backward weight: outputs per tile */
  weightOuts: number[];
  /** backward weight: vectors of j per tile (then scalar columns) */
  weightCols: number[];
  /** backward weight: which tile loop is outermost ("cols": an X column strip stays in L1) */
  weightOuter: "cols" | "outs";
  /** tiles inlined into the three drivers (true) or called as functions of their own (false) */
  inlineTiles: boolean;
}

/** Chosen by measurement (bench/kernels.ts; docs/performance.md): the same tiles won in both precisions. */
const BLOCKING: KernelBlocking = {
  forwardRows: [4, 2, 1],
  forwardOuts: [2, 1],
  forwardUnroll: 1,
  forwardOuter: "outs",
  dataRows: [4, 2, 1],
  dataCols: [2, 1],
  dataUnroll: 1,
  weightOuts: [4, 2, 1],
  weightCols: [2, 1],
  weightOuter: "cols",
  inlineTiles: true,
};

export const DEFAULT_BLOCKING: Record<Precision, KernelBlocking> = { f64: BLOCKING, f32: BLOCKING };

/** A precision's WebAssembly types (exported for the convolution kernels, conv.ts). */
export interface Prec {
  t: Precision;
  v: "f64x2" | "f32x4";
  lanes: number;
  bytes: number;
  splat: string;
}

export const PRECISIONS: Record<Precision, Prec> = {
  f64: { t: "f64", v: "f64x2", lanes: 2, bytes: 8, splat: "v128.load64_splat" },
  f32: { t: "f32", v: "f32x4", lanes: 4, bytes: 4, splat: "v128.load32_splat" },
};

// ── tiny WAT builders (folded expressions; conv.ts uses them too) ───────────────────────────

export const get = (n: string) => `(local.get $${n})`;
export const set = (n: string, e: string) => `(local.set $${n} ${e})`;
export const i32 = (c: number) => `(i32.const ${c | 0})`;
export const add = (a: string, b: string) => `(i32.add ${a} ${b})`;
export const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;
export const off = (o: number) => (o === 0 ? "" : ` offset=${o}`);
export const bump = (n: string, by: string | number) => set(n, add(get(n), typeof by === "number" ? i32(by) : by));
export const V128_ZERO = "(v128.const i32x4 0 0 0 0)";

/** What the tile emitters write into: a function, or a prefixed scope of one (an inlined tile). */
export interface Emitter {
  /** declares (once) a local of that name in this scope and returns its full name; a parameter
   *  of the function of that name is returned as it is */
  local(name: string, type: string): string;
  emit(...lines: string[]): void;
  when(cond: string, then: () => void): void;
  whileLoop(cond: string, body: () => void): void;
}

export class Fn implements Emitter {
  private readonly locals = new Map<string, string>();
  private readonly body: string[] = [];
  private depth = 2;
  private labels = 0;
  constructor(
    private readonly header: string,
    private readonly params: [string, string][],
    private readonly result?: string,
  ) {}
  local(name: string, type: string): string {
    if (this.params.some(([n]) => n === name)) return name;
    const had = this.locals.get(name);
    if (had !== undefined && had !== type) throw new Error(`local $${name} declared as ${had} and ${type}`);
    this.locals.set(name, type);
    return name;
  }
  emit(...lines: string[]): void {
    for (const l of lines) this.body.push("  ".repeat(this.depth) + l);
  }
  /** `(if cond (then …))` */
  when(cond: string, then: () => void): void {
    this.emit(`(if ${cond} (then`);
    this.depth++;
    then();
    this.depth--;
    this.emit("))");
  }
  /** guarded do-while: runs body while `cond` holds (checked before the first iteration). */
  whileLoop(cond: string, body: () => void): void {
    const l = `$L${this.labels++}`;
    this.emit(`(if ${cond} (then (loop ${l}`);
    this.depth++;
    body();
    this.emit(`(br_if ${l} ${cond})`);
    this.depth--;
    this.emit(")))");
  }
  scope(prefix: string): Emitter {
    return {
      local: (name, type) => this.local(prefix + name, type),
      emit: (...lines) => this.emit(...lines),
      when: (c, t) => this.when(c, t),
      whileLoop: (c, b) => this.whileLoop(c, b),
    };
  }
  text(): string {
    const ps = this.params.map(([n, t]) => `(param $${n} ${t})`).join(" ");
    return [
      `  (func ${this.header} ${ps}${this.result === undefined ? "" : ` (result ${this.result})`}`,
      ...[...this.locals].map(([n, t]) => `    (local $${n} ${t})`),
      ...this.body,
      "  )",
    ].join("\n");
  }
}

/**
 * Places a tile in a driver: inlined (its parameters become locals of the driver, set from `args`)
 * or as a call of a function `$name` (generated once into `outOfLine`).
 */
function placeTile(
  driver: Fn,
  outOfLine: Map<string, string>,
  inline: boolean,
  name: string,
  params: [string, string][],
  args: string[],
  body: (f: Emitter) => void,
): void {
  if (inline) {
    const s = driver.scope(`${name}_`);
    params.forEach(([pn, ty], i) => driver.emit(set(s.local(pn, ty), args[i]!)));
    body(s);
    return;
  }
  if (!outOfLine.has(name)) {
    const g = new Fn(`$${name}`, params);
    body(g);
    outOfLine.set(name, g.text());
  }
  driver.emit(`(call $${name} ${args.join(" ")})`);
}

// ── micro-kernels ────────────────────────────────────────────────────────────────────────────

const FORWARD_TILE_PARAMS: [string, string][] = [
  ["x", "i32"], ["w", "i32"], ["b", "i32"], ["y", "i32"], ["k", "i32"], ["ldy", "i32"], ["relu", "i32"],
];

/**
 * An R×M tile of Y. Parameters: x = &X[r0, 0], w = &W[i0, 0], b = &b[i0] or 0, y = &Y[r0, i0];
 * k elements per row of X and W; ldy = m·bytes.
 */
function forwardTile(f: Emitter, p: Prec, R: number, M: number, U: number): void {
  const { t, v, lanes, bytes } = p;
  const vb = 16;
  const [x, w, b, y, k, ldy, relu] = FORWARD_TILE_PARAMS.map(([n, ty]) => f.local(n, ty)) as [string, string, string, string, string, string, string];
  const kb = f.local("kb", "i32");
  const e = f.local("e", "i32");
  const xs = Array.from({ length: R }, (_, r) => f.local(`x${r}`, "i32"));
  const ws = Array.from({ length: M }, (_, i) => f.local(`w${i}`, "i32"));
  const acc = xs.map((_, r) => ws.map((_, i) => f.local(`a${r}_${i}`, "v128")));
  const wv = ws.map((_, i) => f.local(`wv${i}`, "v128"));
  const xv = f.local("xv", "v128");
  const s = xs.map((_, r) => ws.map((_, i) => f.local(`s${r}_${i}`, t)));
  const bias = ws.map((_, i) => f.local(`bias${i}`, t));
  const xsc = f.local("xs", t);

  f.emit(set(kb, mul(get(k), i32(bytes))));
  xs.forEach((xr, r) => f.emit(set(xr, r === 0 ? get(x) : add(get(xs[r - 1]!), get(kb)))));
  ws.forEach((wi, i) => f.emit(set(wi, i === 0 ? get(w) : add(get(ws[i - 1]!), get(kb)))));
  acc.flat().forEach((a) => f.emit(set(a, V128_ZERO)));
  const step = (o: number) => {
    ws.forEach((wi, i) => f.emit(set(wv[i]!, `(v128.load${off(o)} ${get(wi)})`)));
    xs.forEach((xr, r) => {
      f.emit(set(xv, `(v128.load${off(o)} ${get(xr)})`));
      ws.forEach((_, i) => f.emit(set(acc[r]![i]!, `(${v}.add ${get(acc[r]![i]!)} (${v}.mul ${get(xv)} ${get(wv[i]!)}))`)));
    });
  };
  const bumpAll = (by: number) => [...xs, ...ws].forEach((n) => f.emit(bump(n, by)));
  // vector loop (unrolled by U)
  f.emit(set(e, add(get(x), mul(`(i32.and ${get(k)} ${i32(-(lanes * U))})`, i32(bytes)))));
  f.whileLoop(`(i32.lt_u ${get(xs[0]!)} ${get(e)})`, () => {
    for (let u = 0; u < U; u++) step(u * vb);
    bumpAll(U * vb);
  });
  if (U > 1) {
    f.emit(set(e, add(get(x), mul(`(i32.and ${get(k)} ${i32(-lanes)})`, i32(bytes)))));
    f.whileLoop(`(i32.lt_u ${get(xs[0]!)} ${get(e)})`, () => {
      step(0);
      bumpAll(vb);
    });
  }
  // horizontal sums
  for (let r = 0; r < R; r++)
    for (let i = 0; i < M; i++) {
      const a = get(acc[r]![i]!);
      let sum = `(${v}.extract_lane 0 ${a})`;
      for (let l = 1; l < lanes; l++) sum = `(${t}.add ${sum} (${v}.extract_lane ${l} ${a}))`;
      f.emit(set(s[r]![i]!, sum));
    }
  // scalar tail of k
  f.emit(set(e, add(get(x), get(kb))));
  f.whileLoop(`(i32.lt_u ${get(xs[0]!)} ${get(e)})`, () => {
    xs.forEach((xr, r) => {
      f.emit(set(xsc, `(${t}.load ${get(xr)})`));
      ws.forEach((wi, i) => f.emit(set(s[r]![i]!, `(${t}.add ${get(s[r]![i]!)} (${t}.mul ${get(xsc)} (${t}.load ${get(wi)})))`)));
    });
    [...xs, ...ws].forEach((n) => f.emit(bump(n, bytes)));
  });
  // bias, relu, store
  bias.forEach((bb) => f.emit(set(bb, `(${t}.const 0)`)));
  f.when(get(b), () => bias.forEach((bb, i) => f.emit(set(bb, `(${t}.load${off(i * bytes)} ${get(b)})`))));
  for (let r = 0; r < R; r++) for (let i = 0; i < M; i++) f.emit(set(s[r]![i]!, `(${t}.add ${get(s[r]![i]!)} ${get(bias[i]!)})`));
  f.when(get(relu), () => {
    for (let r = 0; r < R; r++) for (let i = 0; i < M; i++) f.emit(set(s[r]![i]!, `(${t}.max ${get(s[r]![i]!)} (${t}.const 0))`));
  });
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < M; i++) f.emit(`(${t}.store${off(i * bytes)} ${get(y)} ${get(s[r]![i]!)})`);
    if (r + 1 < R) f.emit(bump(y, get(ldy)));
  }
}

const DATA_TILE_PARAMS: [string, string][] = [
  ["d", "i32"], ["w", "i32"], ["dx", "i32"], ["m", "i32"], ["kb", "i32"], ["ldd", "i32"], ["accumulate", "i32"],
];

/**
 * An R × (J·lanes) tile of DX (J = 0: one scalar column). Parameters: d = &D[r0, 0],
 * w = &W[0, j0], dx = &DX[r0, j0]; kb = k·bytes (row stride of W and DX), ldd = m·bytes (row
 * stride of D).
 */
function dataTile(f: Emitter, p: Prec, R: number, J: number, U: number): void {
  const { t, v, bytes, splat } = p;
  const vec = J > 0;
  const ty = vec ? "v128" : t;
  const [d, w, dx, m, kb, ldd, accumulate] = DATA_TILE_PARAMS.map(([n, tt]) => f.local(n, tt)) as [string, string, string, string, string, string, string];
  const cols = vec ? J : 1;
  const cw = vec ? 16 : bytes; // bytes per column unit
  const e = f.local("e", "i32");
  const ds = Array.from({ length: R }, (_, r) => f.local(`d${r}`, "i32"));
  const ws = Array.from({ length: U }, (_, u) => f.local(`w${u}`, "i32"));
  const dxr = f.local("dxr", "i32");
  const wstep = f.local("wstep", "i32");
  const acc = ds.map((_, r) => Array.from({ length: cols }, (_, j) => f.local(`a${r}_${j}`, ty)));
  const wv = Array.from({ length: cols }, (_, j) => f.local(`wv${j}`, ty));
  const dv = f.local("dv", ty);
  const load = (o: number, ptr: string) => (vec ? `(v128.load${off(o)} ${ptr})` : `(${t}.load${off(o)} ${ptr})`);
  const store = (o: number, ptr: string, val: string) => (vec ? `(v128.store${off(o)} ${ptr} ${val})` : `(${t}.store${off(o)} ${ptr} ${val})`);
  const op = vec ? v : t;
  const zero = vec ? V128_ZERO : `(${t}.const 0)`;

  ds.forEach((dr, r) => f.emit(set(dr, r === 0 ? get(d) : add(get(ds[r - 1]!), get(ldd)))));
  ws.forEach((wu, u) => f.emit(set(wu, u === 0 ? get(w) : add(get(ws[u - 1]!), get(kb)))));
  if (U > 1) f.emit(set(wstep, mul(get(kb), i32(U))));
  acc.flat().forEach((a) => f.emit(set(a, zero)));
  f.when(get(accumulate), () => {
    f.emit(set(dxr, get(dx)));
    ds.forEach((_, r) => {
      for (let j = 0; j < cols; j++) f.emit(set(acc[r]![j]!, load(j * cw, get(dxr))));
      if (r + 1 < R) f.emit(bump(dxr, get(kb)));
    });
  });
  const step = (wu: string, o: number) => {
    for (let j = 0; j < cols; j++) f.emit(set(wv[j]!, load(j * cw, get(wu))));
    ds.forEach((dr, r) => {
      f.emit(set(dv, vec ? `(${splat}${off(o)} ${get(dr)})` : `(${t}.load${off(o)} ${get(dr)})`));
      for (let j = 0; j < cols; j++) f.emit(set(acc[r]![j]!, `(${op}.add ${get(acc[r]![j]!)} (${op}.mul ${get(dv)} ${get(wv[j]!)}))`));
    });
  };
  f.emit(set(e, add(get(d), mul(`(i32.and ${get(m)} ${i32(-U)})`, i32(bytes)))));
  f.whileLoop(`(i32.lt_u ${get(ds[0]!)} ${get(e)})`, () => {
    for (let u = 0; u < U; u++) step(ws[u]!, u * bytes);
    ds.forEach((dr) => f.emit(bump(dr, U * bytes)));
    ws.forEach((wu) => f.emit(bump(wu, U > 1 ? get(wstep) : get(kb))));
  });
  if (U > 1) {
    f.emit(set(e, add(get(d), mul(get(m), i32(bytes)))));
    f.whileLoop(`(i32.lt_u ${get(ds[0]!)} ${get(e)})`, () => {
      step(ws[0]!, 0);
      ds.forEach((dr) => f.emit(bump(dr, bytes)));
      f.emit(bump(ws[0]!, get(kb)));
    });
  }
  f.emit(set(dxr, get(dx)));
  ds.forEach((_, r) => {
    for (let j = 0; j < cols; j++) f.emit(store(j * cw, get(dxr), get(acc[r]![j]!)));
    if (r + 1 < R) f.emit(bump(dxr, get(kb)));
  });
}

const WEIGHT_TILE_PARAMS: [string, string][] = [
  ["d", "i32"], ["x", "i32"], ["dw", "i32"], ["rows", "i32"], ["kb", "i32"], ["ldd", "i32"],
];

/**
 * dW[i0 .. i0+I, j0 .. j0+J·lanes] += Σ_r D[r, i] X[r, j] (J = 0: one scalar column).
 * Parameters: d = &D[0, i0], x = &X[0, j0], dw = &dW[i0, j0]; kb = k·bytes (row stride of X and
 * dW), ldd = m·bytes (row stride of D).
 */
function weightTile(f: Emitter, p: Prec, I: number, J: number): void {
  const { t, v, bytes, splat } = p;
  const vec = J > 0;
  const ty = vec ? "v128" : t;
  const [d, x, dw, rows, kb, ldd] = WEIGHT_TILE_PARAMS.map(([n, tt]) => f.local(n, tt)) as [string, string, string, string, string, string];
  const cols = vec ? J : 1;
  const cw = vec ? 16 : bytes;
  const e = f.local("e", "i32");
  const acc = Array.from({ length: I }, (_, i) => Array.from({ length: cols }, (_, j) => f.local(`a${i}_${j}`, ty)));
  const xv = Array.from({ length: cols }, (_, j) => f.local(`xv${j}`, ty));
  const dv = f.local("dv", ty);
  const load = (o: number, ptr: string) => (vec ? `(v128.load${off(o)} ${ptr})` : `(${t}.load${off(o)} ${ptr})`);
  const store = (o: number, ptr: string, val: string) => (vec ? `(v128.store${off(o)} ${ptr} ${val})` : `(${t}.store${off(o)} ${ptr} ${val})`);
  const op = vec ? v : t;
  const zero = vec ? V128_ZERO : `(${t}.const 0)`;

  acc.flat().forEach((a) => f.emit(set(a, zero)));
  f.emit(set(e, add(get(d), mul(get(rows), get(ldd)))));
  f.whileLoop(`(i32.lt_u ${get(d)} ${get(e)})`, () => {
    for (let j = 0; j < cols; j++) f.emit(set(xv[j]!, load(j * cw, get(x))));
    for (let i = 0; i < I; i++) {
      f.emit(set(dv, vec ? `(${splat}${off(i * bytes)} ${get(d)})` : `(${t}.load${off(i * bytes)} ${get(d)})`));
      for (let j = 0; j < cols; j++) f.emit(set(acc[i]![j]!, `(${op}.add ${get(acc[i]![j]!)} (${op}.mul ${get(dv)} ${get(xv[j]!)}))`));
    }
    f.emit(bump(d, get(ldd)), bump(x, get(kb)));
  });
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < cols; j++) f.emit(store(j * cw, get(dw), `(${op}.add ${load(j * cw, get(dw))} ${get(acc[i]![j]!)})`));
    if (i + 1 < I) f.emit(bump(dw, get(kb)));
  }
}

// ── drivers ──────────────────────────────────────────────────────────────────────────────────

/** Greedy tiling of [0, limit) by the descending `tiles`: one loop per tile size, in order. */
function tiled(f: Fn, index: string, limit: string, tiles: readonly number[], body: (tile: number) => void): void {
  f.emit(set(index, i32(0)));
  for (const T of tiles) {
    f.whileLoop(`(i32.le_u ${add(get(index), i32(T))} ${limit})`, () => {
      body(T);
      f.emit(bump(index, T));
    });
  }
}

function checkTiles(name: string, tiles: readonly number[]): void {
  const ok = tiles.length > 0 && tiles[tiles.length - 1] === 1 && tiles.every((x, i) => Number.isInteger(x) && x >= 1 && (i === 0 || x < tiles[i - 1]!));
  if (!ok) throw new Error(`kernel blocking: ${name} must be strictly descending integers ending in 1, got [${tiles.join(", ")}]`);
}

function denseForward(p: Prec, bl: KernelBlocking, outOfLine: Map<string, string>): string {
  const { bytes } = p;
  const f = new Fn(`$dense_forward (export "dense_forward")`, [
    ["X", "i32"], ["W", "i32"], ["b", "i32"], ["Y", "i32"], ["rows", "i32"], ["m", "i32"], ["k", "i32"], ["relu", "i32"],
  ]);
  f.local("r0", "i32");
  f.local("i0", "i32");
  f.local("kb", "i32");
  f.local("ldy", "i32");
  f.emit(set("kb", mul(get("k"), i32(bytes))), set("ldy", mul(get("m"), i32(bytes))));
  const place = (R: number, M: number) =>
    placeTile(f, outOfLine, bl.inlineTiles, `fwd_${R}_${M}`, FORWARD_TILE_PARAMS, [
      add(get("X"), mul(get("r0"), get("kb"))),
      add(get("W"), mul(get("i0"), get("kb"))),
      `(select ${add(get("b"), mul(get("i0"), i32(bytes)))} ${i32(0)} ${get("b")})`,
      add(get("Y"), add(mul(get("r0"), get("ldy")), mul(get("i0"), i32(bytes)))),
      get("k"),
      get("ldy"),
      get("relu"),
    ], (e) => forwardTile(e, p, R, M, bl.forwardUnroll));
  if (bl.forwardOuter === "outs")
    tiled(f, "i0", get("m"), bl.forwardOuts, (M) => tiled(f, "r0", get("rows"), bl.forwardRows, (R) => place(R, M)));
  else tiled(f, "r0", get("rows"), bl.forwardRows, (R) => tiled(f, "i0", get("m"), bl.forwardOuts, (M) => place(R, M)));
  return f.text();
}

/** column tiles in elements: vector tiles, then one scalar column at a time (J = 0). */
function columnTiles(p: Prec, vectorTiles: readonly number[]): { J: number; width: number }[] {
  return [...vectorTiles.map((J) => ({ J, width: J * p.lanes })), { J: 0, width: 1 }];
}

function denseBackwardData(p: Prec, bl: KernelBlocking, outOfLine: Map<string, string>): string {
  const { bytes } = p;
  const f = new Fn(`$dense_backward_data (export "dense_backward_data")`, [
    ["D", "i32"], ["W", "i32"], ["DX", "i32"], ["rows", "i32"], ["m", "i32"], ["k", "i32"], ["accumulate", "i32"],
  ]);
  f.local("r0", "i32");
  f.local("j0", "i32");
  f.local("kb", "i32");
  f.local("ldd", "i32");
  f.emit(set("kb", mul(get("k"), i32(bytes))), set("ldd", mul(get("m"), i32(bytes))));
  const cols = columnTiles(p, bl.dataCols);
  // j tiles outer (a strip of W columns stays in L1), row tiles inner
  f.emit(set("j0", i32(0)));
  for (const { J, width } of cols) {
    f.whileLoop(`(i32.le_u ${add(get("j0"), i32(width))} ${get("k")})`, () => {
      tiled(f, "r0", get("rows"), bl.dataRows, (R) =>
        placeTile(f, outOfLine, bl.inlineTiles, `bwdd_${R}_${J || "s"}`, DATA_TILE_PARAMS, [
          add(get("D"), mul(get("r0"), get("ldd"))),
          add(get("W"), mul(get("j0"), i32(bytes))),
          add(get("DX"), add(mul(get("r0"), get("kb")), mul(get("j0"), i32(bytes)))),
          get("m"),
          get("kb"),
          get("ldd"),
          get("accumulate"),
        ], (e) => dataTile(e, p, R, J, bl.dataUnroll)),
      );
      f.emit(bump("j0", width));
    });
  }
  return f.text();
}

function denseBackwardWeight(p: Prec, bl: KernelBlocking, outOfLine: Map<string, string>): string {
  const { t, v, lanes, bytes } = p;
  const f = new Fn(`$dense_backward_weight (export "dense_backward_weight")`, [
    ["D", "i32"], ["X", "i32"], ["dW", "i32"], ["db", "i32"], ["rows", "i32"], ["m", "i32"], ["k", "i32"],
  ]);
  f.local("i0", "i32");
  f.local("j0", "i32");
  f.local("kb", "i32");
  f.local("ldd", "i32");
  f.local("p", "i32");
  f.local("e", "i32");
  f.local("sv", "v128");
  f.local("ss", t);
  f.emit(set("kb", mul(get("k"), i32(bytes))), set("ldd", mul(get("m"), i32(bytes))));
  const cols = columnTiles(p, bl.weightCols);
  const place = (I: number, J: number) =>
    placeTile(f, outOfLine, bl.inlineTiles, `bwdw_${I}_${J || "s"}`, WEIGHT_TILE_PARAMS, [
      add(get("D"), mul(get("i0"), i32(bytes))),
      add(get("X"), mul(get("j0"), i32(bytes))),
      add(get("dW"), add(mul(get("i0"), get("kb")), mul(get("j0"), i32(bytes)))),
      get("rows"),
      get("kb"),
      get("ldd"),
    ], (e) => weightTile(e, p, I, J));
  const colLoops = (body: (J: number) => void) => {
    f.emit(set("j0", i32(0)));
    for (const { J, width } of cols) {
      f.whileLoop(`(i32.le_u ${add(get("j0"), i32(width))} ${get("k")})`, () => {
        body(J);
        f.emit(bump("j0", width));
      });
    }
  };
  if (bl.weightOuter === "cols") colLoops((J) => tiled(f, "i0", get("m"), bl.weightOuts, (I) => place(I, J)));
  else tiled(f, "i0", get("m"), bl.weightOuts, (I) => colLoops((J) => place(I, J)));
  // db[i] += Σ_r D[r, i]: vectors of i, then scalars
  f.when(get("db"), () => {
    f.emit(set("i0", i32(0)));
    f.whileLoop(`(i32.le_u ${add(get("i0"), i32(lanes))} ${get("m")})`, () => {
      f.emit(set("p", add(get("D"), mul(get("i0"), i32(bytes)))), set("e", add(get("p"), mul(get("rows"), get("ldd")))));
      f.emit(set("sv", `(v128.load ${add(get("db"), mul(get("i0"), i32(bytes)))})`));
      f.whileLoop(`(i32.lt_u ${get("p")} ${get("e")})`, () => {
        f.emit(set("sv", `(${v}.add ${get("sv")} (v128.load ${get("p")}))`), bump("p", get("ldd")));
      });
      f.emit(`(v128.store ${add(get("db"), mul(get("i0"), i32(bytes)))} ${get("sv")})`);
      f.emit(bump("i0", lanes));
    });
    f.whileLoop(`(i32.lt_u ${get("i0")} ${get("m")})`, () => {
      f.emit(set("p", add(get("D"), mul(get("i0"), i32(bytes)))), set("e", add(get("p"), mul(get("rows"), get("ldd")))));
      f.emit(set("ss", `(${t}.load ${add(get("db"), mul(get("i0"), i32(bytes)))})`));
      f.whileLoop(`(i32.lt_u ${get("p")} ${get("e")})`, () => {
        f.emit(set("ss", `(${t}.add ${get("ss")} (${t}.load ${get("p")}))`), bump("p", get("ldd")));
      });
      f.emit(`(${t}.store ${add(get("db"), mul(get("i0"), i32(bytes)))} ${get("ss")})`);
      f.emit(bump("i0", 1));
    });
  });
  return f.text();
}

/**
 * An elementwise loop over n elements: `vecBody(ptrs)` per 16 bytes (two vectors per iteration
 * when `unroll2`), `scalarBody(ptrs)` for the tail. `ptrs` are advanced by the loop.
 */
function elementwise(
  f: Fn,
  p: Prec,
  ptrs: string[],
  vecBody: (o: number) => void,
  scalarBody: () => void,
): void {
  const { lanes, bytes } = p;
  f.local("e", "i32");
  const first = ptrs[0]!;
  f.emit(set("e", add(get(first), mul(`(i32.and ${get("n")} ${i32(-2 * lanes)})`, i32(bytes)))));
  f.whileLoop(`(i32.lt_u ${get(first)} ${get("e")})`, () => {
    vecBody(0);
    vecBody(16);
    ptrs.forEach((q) => f.emit(bump(q, 32)));
  });
  f.emit(set("e", add(get(first), mul(`(i32.and ${get("n")} ${i32(2 * lanes - 1)})`, i32(bytes)))));
  f.whileLoop(`(i32.lt_u ${get(first)} ${get("e")})`, () => {
    scalarBody();
    ptrs.forEach((q) => f.emit(bump(q, bytes)));
  });
}

/**
 * An update kernel's frame: its name (`_keep` added when `keep`), its parameters — P, G, the state
 * arrays, with `keep` B (where P's old values go), n, then the scalars — and, with `keep`, a sum of
 * the new P in two vector accumulators and a scalar one, returned (train({ threads })'s slice: the
 * last good weights, the update and the divergence check in one pass).
 */
function updateFrame(p: Prec, name: string, state: string[], scalars: string[], keep: boolean): { f: Fn; store: (o: number, vec: boolean, value: string) => void; finish: () => void } {
  const { t, v } = p;
  const full = keep ? `${name}_keep` : name;
  const f = new Fn(`$${full} (export "${full}")`, [["P", "i32"], ["G", "i32"], ...state.map((k): [string, string] => [k, "i32"]), ...(keep ? [["B", "i32"] as [string, string]] : []), ["n", "i32"], ...scalars.map((k): [string, string] => [k, t])], keep ? t : undefined);
  if (keep) {
    f.local("sv", "v128");
    f.local("sw", "v128");
    f.local("s", t);
    f.local("pv", "v128");
    f.local("q", t);
    f.emit(set("sv", V128_ZERO), set("sw", V128_ZERO));
  }
  /** P (at offset o) ← value, which reads P's old value only through `(local.get $pv)` / `$q` when keep */
  const store = (o: number, vec: boolean, value: string) => {
    if (!vec) {
      if (keep) f.emit(`(${t}.store ${get("B")} ${get("q")})`, set("q", value), `(${t}.store ${get("P")} ${get("q")})`, set("s", `(${t}.add ${get("s")} ${get("q")})`));
      else f.emit(`(${t}.store ${get("P")} ${value})`);
      return;
    }
    if (!keep) return f.emit(`(v128.store${off(o)} ${get("P")} ${value})`);
    const acc = o === 0 ? "sv" : "sw";
    f.emit(`(v128.store${off(o)} ${get("B")} ${get("pv")})`, set("pv", value), `(v128.store${off(o)} ${get("P")} ${get("pv")})`, set(acc, `(${v}.add ${get(acc)} ${get("pv")})`));
  };
  const finish = () => {
    if (!keep) return;
    f.emit(set("sv", `(${v}.add ${get("sv")} ${get("sw")})`));
    const lanes = Array.from({ length: p.lanes }, (_, l) => `(${v}.extract_lane ${l} ${get("sv")})`);
    f.emit(lanes.reduce((acc, lane) => `(${t}.add ${acc} ${lane})`, get("s")));
  };
  return { f, store, finish };
}

function sgdUpdate(p: Prec, keep: boolean): string {
  const { t, v } = p;
  const { f, store, finish } = updateFrame(p, "sgd_update", [], ["lr"], keep);
  f.local("lv", "v128");
  f.emit(set("lv", `(${v}.splat ${get("lr")})`));
  // P's old value: loaded once into $pv / $q when keep (B gets it), else read in place
  const old = (o: number, vec: boolean) => (keep ? get(vec ? "pv" : "q") : vec ? `(v128.load${off(o)} ${get("P")})` : `(${t}.load ${get("P")})`);
  const load = (o: number, vec: boolean) => keep && f.emit(set(vec ? "pv" : "q", vec ? `(v128.load${off(o)} ${get("P")})` : `(${t}.load ${get("P")})`));
  elementwise(
    f, p, keep ? ["P", "G", "B"] : ["P", "G"],
    (o) => (load(o, true), store(o, true, `(${v}.sub ${old(o, true)} (${v}.mul ${get("lv")} (v128.load${off(o)} ${get("G")})))`)),
    () => (load(0, false), store(0, false, `(${t}.sub ${old(0, false)} (${t}.mul ${get("lr")} (${t}.load ${get("G")})))`)),
  );
  finish();
  return f.text();
}

function adamUpdate(p: Prec, keep: boolean): string {
  const { t, v } = p;
  const scalars = ["lr", "beta1", "beta2", "eps", "c1", "c2"];
  const { f, store, finish } = updateFrame(p, "adam_update", ["M", "V"], scalars, keep);
  // the scalars and 1 − β as vectors, once
  for (const k of [...scalars, "a1", "a2"]) f.local(`${k}v`, "v128");
  for (const k of ["a1", "a2", "g", "m", "w"]) f.local(k, t);
  f.local("gv", "v128");
  f.local("mv", "v128");
  f.local("wv", "v128");
  f.emit(set("a1", `(${t}.sub (${t}.const 1) ${get("beta1")})`), set("a2", `(${t}.sub (${t}.const 1) ${get("beta2")})`));
  for (const k of [...scalars, "a1", "a2"]) f.emit(set(`${k}v`, `(${v}.splat ${get(k)})`));
  const step = (o: number, vec: boolean) => {
    const T = vec ? v : t;
    const ld = (ptr: string) => (vec ? `(v128.load${off(o)} ${get(ptr)})` : `(${t}.load ${get(ptr)})`);
    const st = (ptr: string, e: string) => (vec ? `(v128.store${off(o)} ${get(ptr)} ${e})` : `(${t}.store ${get(ptr)} ${e})`);
    const k = (name: string) => get(vec ? `${name}v` : name);
    const g = vec ? "gv" : "g";
    const m = vec ? "mv" : "m";
    const w = vec ? "wv" : "w";
    f.emit(set(g, ld("G")));
    f.emit(set(m, `(${T}.add (${T}.mul ${k("beta1")} ${ld("M")}) (${T}.mul ${k("a1")} ${get(g)}))`));
    f.emit(set(w, `(${T}.add (${T}.mul ${k("beta2")} ${ld("V")}) (${T}.mul (${T}.mul ${k("a2")} ${get(g)}) ${get(g)}))`));
    f.emit(st("M", get(m)), st("V", get(w)));
    if (keep) f.emit(set(vec ? "pv" : "q", ld("P")));
    const old = keep ? get(vec ? "pv" : "q") : ld("P");
    store(o, vec, `(${T}.sub ${old} (${T}.div (${T}.mul ${k("lr")} (${T}.mul ${get(m)} ${k("c1")})) (${T}.sqrt (${T}.add (${T}.mul ${get(w)} ${k("c2")}) ${k("eps")}))))`);
  };
  elementwise(f, p, keep ? ["P", "G", "M", "V", "B"] : ["P", "G", "M", "V"], (o) => step(o, true), () => step(0, false));
  finish();
  return f.text();
}

function helpers(p: Prec): string[] {
  const { t, v } = p;
  const out: string[] = [];
  for (const keep of [false, true]) out.push(sgdUpdate(p, keep), adamUpdate(p, keep));
  {
    const f = new Fn(`$relu_backward (export "relu_backward")`, [["D", "i32"], ["Y", "i32"], ["n", "i32"]]);
    elementwise(
      f, p, ["D", "Y"],
      (o) => f.emit(`(v128.store${off(o)} ${get("D")} (v128.and (v128.load${off(o)} ${get("D")}) (${v}.gt (v128.load${off(o)} ${get("Y")}) (v128.const i32x4 0 0 0 0))))`),
      () => f.emit(`(${t}.store ${get("D")} (select (${t}.load ${get("D")}) (${t}.const 0) (${t}.gt (${t}.load ${get("Y")}) (${t}.const 0))))`),
    );
    out.push(f.text());
  }
  {
    const f = new Fn(`$zero (export "zero")`, [["P", "i32"], ["n", "i32"]]);
    elementwise(
      f, p, ["P"],
      (o) => f.emit(`(v128.store${off(o)} ${get("P")} (v128.const i32x4 0 0 0 0))`),
      () => f.emit(`(${t}.store ${get("P")} (${t}.const 0))`),
    );
    out.push(f.text());
  }
  {
    const f = new Fn(`$copy (export "copy")`, [["dst", "i32"], ["src", "i32"], ["n", "i32"]]);
    elementwise(
      f, p, ["dst", "src"],
      (o) => f.emit(`(v128.store${off(o)} ${get("dst")} (v128.load${off(o)} ${get("src")}))`),
      () => f.emit(`(${t}.store ${get("dst")} (${t}.load ${get("src")}))`),
    );
    out.push(f.text());
  }
  {
    const f = new Fn(`$scale_add (export "scale_add")`, [["D", "i32"], ["A", "i32"], ["B", "i32"], ["n", "i32"], ["a", t], ["b", t]]);
    f.local("av", "v128");
    f.local("bv", "v128");
    f.emit(set("av", `(${v}.splat ${get("a")})`), set("bv", `(${v}.splat ${get("b")})`));
    elementwise(
      f, p, ["D", "A", "B"],
      (o) => f.emit(`(v128.store${off(o)} ${get("D")} (${v}.add (${v}.mul ${get("av")} (v128.load${off(o)} ${get("A")})) (${v}.mul ${get("bv")} (v128.load${off(o)} ${get("B")}))))`),
      () => f.emit(`(${t}.store ${get("D")} (${t}.add (${t}.mul ${get("a")} (${t}.load ${get("A")})) (${t}.mul ${get("b")} (${t}.load ${get("B")}))))`),
    );
    out.push(f.text());
  }
  {
    const f = new Fn(`$scale (export "scale")`, [["P", "i32"], ["n", "i32"], ["s", t]]);
    f.local("sv", "v128");
    f.emit(set("sv", `(${v}.splat ${get("s")})`));
    elementwise(
      f, p, ["P"],
      (o) => f.emit(`(v128.store${off(o)} ${get("P")} (${v}.mul (v128.load${off(o)} ${get("P")}) ${get("sv")}))`),
      () => f.emit(`(${t}.store ${get("P")} (${t}.mul (${t}.load ${get("P")}) ${get("s")}))`),
    );
    out.push(f.text());
  }
  {
    // two accumulators, one per vector of an iteration: the adds of one do not wait for the other's
    const f = new Fn(`$sum (export "sum")`, [["P", "i32"], ["n", "i32"]], t);
    f.local("sv", "v128");
    f.local("sw", "v128");
    f.local("s", t);
    f.emit(set("sv", "(v128.const i32x4 0 0 0 0)"), set("sw", "(v128.const i32x4 0 0 0 0)"));
    elementwise(
      f, p, ["P"],
      (o) => f.emit(o === 0 ? set("sv", `(${v}.add ${get("sv")} (v128.load ${get("P")}))`) : set("sw", `(${v}.add ${get("sw")} (v128.load${off(o)} ${get("P")}))`)),
      () => f.emit(set("s", `(${t}.add ${get("s")} (${t}.load ${get("P")}))`)),
    );
    f.emit(set("sv", `(${v}.add ${get("sv")} ${get("sw")})`));
    const lanes = Array.from({ length: p.lanes }, (_, l) => `(${v}.extract_lane ${l} ${get("sv")})`);
    f.emit(lanes.reduce((acc, lane) => `(${t}.add ${acc} ${lane})`, get("s")));
    out.push(f.text());
  }
  return out;
}

/**
 * The kernel library as WebAssembly text. Deterministic: the same arguments give the same text.
 * Assemble with `assembleWat` (./assemble.ts).
 */
export function kernelsWat(precision: Precision, blocking: KernelBlocking = DEFAULT_BLOCKING[precision]): string {
  const p = PRECISIONS[precision];
  if (!p) throw new Error(`kernelsWat: unknown precision ${String(precision)}`);
  const bl = blocking;
  checkTiles("forwardRows", bl.forwardRows);
  checkTiles("forwardOuts", bl.forwardOuts);
  checkTiles("dataRows", bl.dataRows);
  checkTiles("dataCols", bl.dataCols);
  checkTiles("weightOuts", bl.weightOuts);
  checkTiles("weightCols", bl.weightCols);
  for (const [name, u] of [["forwardUnroll", bl.forwardUnroll], ["dataUnroll", bl.dataUnroll]] as const)
    if (!Number.isInteger(u) || u < 1 || (u & (u - 1)) !== 0) throw new Error(`kernel blocking: ${name} must be a power of two ≥ 1, got ${u}`);

  const outOfLine = new Map<string, string>(); // tile functions when not inlined, in first-use order
  const drivers = [denseForward(p, bl, outOfLine), denseBackwardData(p, bl, outOfLine), denseBackwardWeight(p, bl, outOfLine)];
  const funcs = [...outOfLine.values(), ...drivers, ...helpers(p)];
  return [
    `;; nnc WebAssembly SIMD128 kernels, precision ${precision} (${p.v}); generated by compiler/codegen/wasm/kernels.ts`,
    `;; blocking ${JSON.stringify(bl)}`,
    "(module",
    `  (import "${KERNEL_MEMORY_MODULE}" "${KERNEL_MEMORY_NAME}" (memory 0))`,
    ...funcs,
    ")",
    "",
  ].join("\n");
}
