/**
 * WebAssembly SIMD128 kernels for one 2-D convolution layer: a generator of WebAssembly text
 * (WAT) for the forward pass, the input gradient and the weight gradient of a block of samples,
 * with every size of the layer — channels, image, filters, kernel, stride, padding — a constant of
 * the code (one set of kernels per layer, named after it). Same conventions as the dense kernels
 * (kernels.ts): byte offsets into the imported memory, row-major, samples stored one after the
 * other, f64x2 or f32x4 as the precision says, offset 0 means "absent" for the optional pointers.
 *
 * ## Layout and meaning (x[C, H, W], W[O, C, k, k], y[O, OH, OW], padding top/left/bottom/right)
 *
 * - `<name>_forward(X, W, b, Y, rows, relu, scratch)`:
 *   `Y[r, o, i, j] = Σ_{c, u, v} Xpad[r, c, i·s + u, j·s + v]·W[o, c, u, v] + (b ? b[o] : 0)`,
 *   then max(·, 0) when relu ≠ 0, where Xpad is X with zeros around it. Overwrites Y.
 * - `<name>_backward_data(D, W, DX, rows, accumulate, scratch)`: the input gradient,
 *   `DX[r, c, y, x] = Σ_{o, u, v} D[r, o, i, j]·W[o, c, u, v]` over the (i, j, u, v) with
 *   i·s + u = y + top and j·s + v = x + left — the full correlation of D with the flipped kernel.
 *   Overwrites DX when accumulate = 0, adds to it otherwise.
 * - `<name>_backward_weight(D, X, dW, db, rows, scratch)`: `dW[o, c, u, v] += Σ_{r, i, j}
 *   D[r, o, i, j]·Xpad[r, c, i·s + u, j·s + v]` and, when db ≠ 0, `db[o] += Σ_{r, i, j} D[r, o, i, j]`
 *   (always accumulates, like dense_backward_weight).
 * - `scratch` is a region of `convScratchBytes(…)` bytes that the kernels use for packed copies of
 *   one sample at a time; the caller reserves it (one region can serve every layer of a module:
 *   the kernels run one after the other and leave nothing in it).
 *
 * ## How (a direct convolution; the choice against im2col is measured in docs/wasm.md)
 *
 * Each sample is first **packed**: copied into the scratch with its zero padding around it and,
 * for a stride s > 1, each row split into its s column phases (`Xph[c, y, x mod s, x div s]`), so
 * that the inputs of s-strided outputs j, j+1, … at any kernel column v are *contiguous*
 * (`Xph[c, i·s + u, v mod s, j + v div s]`), and every row is long enough for whole vectors. Then
 * every kernel is a loop of vector loads at constant offsets:
 *
 * - forward: vectors along the output row; a register tile of `outs` filters × `cols` vectors;
 *   per input channel, for each of the k² taps, `cols` loads of Xph, one splat of W per filter,
 *   and the multiply-adds. The last vector of a row whose width is not a multiple of the lanes is
 *   computed whole and stored lane by lane.
 * - input gradient: a gather, not a scatter. For stride s the padded gradient's rows and columns
 *   split into s×s phases (y = q·s + p); phase (p, p′) receives the taps u ≡ p, v ≡ p′ (mod s),
 *   each from D shifted by (u − p)/s: a stride-1 correlation of D (packed with zeros around it) with
 *   a sub-kernel, computed by the forward tile with the roles of filters and channels swapped, into
 *   a phase-split buffer that is then unpacked (cropped) into DX.
 * - weight gradient: vectors along the output row, one accumulator per (filter, tap) of a tile of
 *   `weightOuts` filters × up to `weightTaps` taps; D's packed rows are zero past the row's end,
 *   so whole vectors are summed; horizontal sums at the end, added to dW once per sample.
 */
import {
  add,
  bump,
  ELEMENT_BYTES,
  Fn,
  get,
  i32,
  KERNEL_MEMORY_MODULE,
  KERNEL_MEMORY_NAME,
  mul,
  off,
  PRECISIONS,
  set,
  V128_ZERO,
  type Emitter,
  type Prec,
  type Precision,
} from "./kernels.js";

/** One convolution layer, per sample (the language's conv2d: no batch axis, bias separate). */
export interface ConvShape {
  /** input channels, height, width */
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** output channels */
  readonly filters: number;
  /** kernel height = width */
  readonly kernel: number;
  readonly stride: number;
  /** zero padding: top, left, bottom, right */
  readonly pads: readonly [number, number, number, number];
}

/** Register blocking of the convolution kernels; tile lists greedy, strictly descending, ending in 1. */
export interface ConvBlocking {
  /** forward / input gradient: filters (resp. channels) per register tile */
  outs: number[];
  /** forward / input gradient: vectors along the row per register tile */
  cols: number[];
  /** weight gradient: filters per tile */
  weightOuts: number[];
  /** weight gradient: taps per tile (at most) */
  weightTaps: number;
}

/** Chosen by measurement (bench/conv-kernels.ts on mnist-cnn's layers; docs/wasm.md). */
export const DEFAULT_CONV_BLOCKING: ConvBlocking = { outs: [4, 2, 1], cols: [2, 1], weightOuts: [2, 1], weightTaps: 5 };

/** The kernels' names for a layer: `<name>_forward`, `<name>_backward_data`, `<name>_backward_weight`. */
export const convExportNames = (name: string) =>
  ({ forward: `${name}_forward`, backwardData: `${name}_backward_data`, backwardWeight: `${name}_backward_weight` }) as const;

/** The kernels' JavaScript signatures (pointers are byte offsets). */
export interface ConvFunctions {
  forward(X: number, W: number, b: number, Y: number, rows: number, relu: number, scratch: number): void;
  backwardData(D: number, W: number, DX: number, rows: number, accumulate: number, scratch: number): void;
  backwardWeight(D: number, X: number, dW: number, db: number, rows: number, scratch: number): void;
}

/** The same as TypeScript text, for the interface an emitted module declares. */
export function convSignatures(name: string): string[] {
  const n = convExportNames(name);
  return [
    `${n.forward}(X: number, W: number, b: number, Y: number, rows: number, relu: number, scratch: number): void;`,
    `${n.backwardData}(D: number, W: number, DX: number, rows: number, accumulate: number, scratch: number): void;`,
    `${n.backwardWeight}(D: number, X: number, dW: number, db: number, rows: number, scratch: number): void;`,
  ];
}

/** The derived sizes every kernel of a layer is written with (elements, not bytes). */
interface Geometry {
  C: number; H: number; W: number; O: number; k: number; s: number;
  pt: number; pl: number; pb: number; pr: number;
  /** padded input */
  Hp: number; Wp: number;
  /** output */
  OH: number; OW: number;
  /** output row rounded up to whole vectors */
  OWr: number;
  /** packed input Xph[C, Hp, s, Wq] */
  Wq: number;
  /** input gradient: phase rows Hq (y = q·s + p), phase columns Wqr (whole vectors), DXph[C, Hq·s, s, Wqr] */
  Hq: number; Wqr: number;
  /** packed D: Dpad[O, Hd, Wd], D at (A, A) */
  A: number; Hd: number; Wd: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
const roundUp = (a: number, b: number) => ceilDiv(a, b) * b;
const alignBytes = (n: number) => roundUp(n, 16);

/** Throws on a shape the language would have rejected (an internal error, never a user's). */
function geometry(shape: ConvShape, lanes: number): Geometry {
  const { channels: C, height: H, width: W, filters: O, kernel: k, stride: s } = shape;
  const [pt, pl, pb, pr] = shape.pads;
  const ints = [C, H, W, O, k, s, pt, pl, pb, pr];
  if (!ints.every((n) => Number.isInteger(n) && n >= 0) || C < 1 || H < 1 || W < 1 || O < 1 || k < 1 || s < 1)
    throw new Error(`conv kernels: bad shape ${JSON.stringify(shape)}`);
  const Hp = H + pt + pb, Wp = W + pl + pr;
  if (Hp < k || Wp < k) throw new Error(`conv kernels: kernel ${k} larger than the padded input ${Hp}×${Wp}`);
  const OH = Math.floor((Hp - k) / s) + 1, OW = Math.floor((Wp - k) / s) + 1;
  const OWr = roundUp(OW, lanes);
  const Wq = Math.max(OWr + Math.floor((k - 1) / s), ceilDiv(Wp, s));
  const Hq = ceilDiv(Hp, s);
  const Wqr = roundUp(ceilDiv(Wp, s), lanes);
  const A = ceilDiv(k, s) - 1;
  return { C, H, W, O, k, s, pt, pl, pb, pr, Hp, Wp, OH, OW, OWr, Wq, Hq, Wqr, A, Hd: Hq + A, Wd: Math.max(Wqr, OWr) + A };
}

/** Scratch regions (byte offsets from `scratch`): packed input, packed D, phase-split input gradient. */
function scratchLayout(g: Geometry, bytes: number) {
  const xph = alignBytes(g.C * g.Hp * g.s * g.Wq * bytes);
  const dpad = alignBytes(g.O * g.Hd * g.Wd * bytes);
  const dxph = alignBytes(g.C * g.Hq * g.s * g.s * g.Wqr * bytes);
  return { xph: 0, dpad: xph, dxph: xph + dpad, total: xph + dpad + dxph };
}

/** Bytes of scratch the layer's kernels need (the three share one region). */
export function convScratchBytes(precision: Precision, shape: ConvShape): number {
  const p = PRECISIONS[precision];
  return scratchLayout(geometry(shape, p.lanes), p.bytes).total;
}

/** Output size per sample [filters, OH, OW] (for callers and tests). */
export function convOutputShape(shape: ConvShape): [number, number, number] {
  const g = geometry(shape, 1);
  return [g.O, g.OH, g.OW];
}

// ── building blocks ──────────────────────────────────────────────────────────────────────────

/** `for (idx = 0; idx < count; idx++) body()`, count a constant (no loop when it is 1, none when 0). */
function forCount(f: Emitter, idx: string, count: number, body: () => void): void {
  if (count <= 0) return;
  f.emit(set(idx, i32(0)));
  if (count === 1) return body();
  f.whileLoop(`(i32.lt_u ${get(idx)} ${i32(count)})`, () => {
    body();
    f.emit(bump(idx, 1));
  });
}

/** ptr + idx·stride + constant, all in bytes */
const at = (ptr: string, terms: [string, number][], constant = 0): string => {
  let e = get(ptr);
  for (const [idx, stride] of terms) if (stride !== 0) e = add(e, stride === 1 ? get(idx) : mul(get(idx), i32(stride)));
  return constant === 0 ? e : add(e, i32(constant));
};

/** Zeroes n bytes (a multiple of 16) at ptr. */
function zeroBytes(f: Emitter, ptr: string, n: number, tag: string): void {
  const q = f.local(`${tag}_q`, "i32"), e = f.local(`${tag}_e`, "i32");
  f.emit(set(q, ptr), set(e, add(get(q), i32(n))));
  f.whileLoop(`(i32.lt_u ${get(q)} ${get(e)})`, () => f.emit(`(v128.store ${get(q)} ${V128_ZERO})`, bump(q, 16)));
}

/**
 * Copies planes × rows × width elements between a dense tensor (rows of `width`, planes of
 * rows·width) and a padded, phase-split buffer whose element (plane, row, x) sits at
 * `plane·padPlane + (row + rowOffset)·padRow + ((x + colOffset) mod s)·phase + (x + colOffset) div s`.
 * `toPadded`: dense → padded (pack); else padded → dense (unpack), adding to the dense values when
 * the runtime flag `accumulate` is set.
 */
function transfer(
  f: Emitter,
  p: Prec,
  tag: string,
  o: {
    planes: number; rows: number; width: number;
    dense: string; padded: string;
    padPlane: number; padRow: number; rowOffset: number; colOffset: number; s: number; phase: number;
    toPadded: boolean; accumulate?: string;
  },
): void {
  const { t, lanes, bytes } = p;
  const pl = f.local(`${tag}_pl`, "i32"), row = f.local(`${tag}_row`, "i32");
  const d = f.local(`${tag}_d`, "i32"), q = f.local(`${tag}_q`, "i32");
  f.emit(set(d, get(o.dense)));
  forCount(f, pl, o.planes, () => {
    forCount(f, row, o.rows, () => {
      f.emit(set(q, at(o.padded, [[pl, o.padPlane * bytes], [row, o.padRow * bytes]], (o.rowOffset * o.padRow) * bytes)));
      const move = (dOff: number, qOff: number, vec: boolean) => {
        const ld = (ptr: string, of: number) => (vec ? `(v128.load${off(of)} ${get(ptr)})` : `(${t}.load${off(of)} ${get(ptr)})`);
        const st = (ptr: string, of: number, val: string) => (vec ? `(v128.store${off(of)} ${get(ptr)} ${val})` : `(${t}.store${off(of)} ${get(ptr)} ${val})`);
        if (o.toPadded) f.emit(st(q, qOff, ld(d, dOff)));
        else if (o.accumulate === undefined) f.emit(st(d, dOff, ld(q, qOff)));
        else {
          const op = vec ? p.v : t;
          f.emit(st(d, dOff, `(select ${`(${op}.add ${ld(d, dOff)} ${ld(q, qOff)})`} ${ld(q, qOff)} ${get(o.accumulate)})`));
        }
      };
      if (o.s === 1) {
        // contiguous: whole vectors, then the scalar tail; straight-line code
        let x = 0;
        for (; x + lanes <= o.width; x += lanes) move(x * bytes, (x + o.colOffset) * bytes, true);
        for (; x < o.width; x++) move(x * bytes, (x + o.colOffset) * bytes, false);
      } else {
        for (let x = 0; x < o.width; x++) {
          const xx = x + o.colOffset;
          move(x * bytes, ((xx % o.s) * o.phase + Math.floor(xx / o.s)) * bytes, false);
        }
      }
      f.emit(bump(d, o.width * bytes));
    });
  });
}

interface Tap {
  /** byte offset of the input from the tile's input pointer */
  x: number;
  /** byte offset of the weight from the tile's weight pointer */
  w: number;
}

/**
 * A register tile of M output planes × N vectors along the row: out[m][n] = Σ over `sum` steps
 * (input += sumX, weight += sumW) of Σ_taps in[tap.x + 16n]·splat(w[tap.w + m·outW]).
 * Pointers: xp (input), wp (weights of output plane 0), yp (output; planes `outPlane` bytes
 * apart). `bias` (a pointer local or null): initial value b[m]; `relu`: a runtime flag local;
 * `lastLanes` < lanes: the last vector is stored lane by lane, only its first lastLanes lanes.
 */
function corrTile(
  f: Emitter,
  p: Prec,
  M: number,
  N: number,
  o: { taps: Tap[]; sum: number; sumX: number; sumW: number; outW: number; outPlane: number; bias: string | null; relu: string | null; lastLanes: number },
): void {
  const { t, v, bytes, lanes, splat } = p;
  const xp = f.local("xp", "i32"), wp = f.local("wp", "i32"), yp = f.local("yp", "i32");
  const xc = f.local("xc", "i32"), wc = f.local("wc", "i32"), e = f.local("e", "i32");
  const acc = Array.from({ length: M }, (_, m) => Array.from({ length: N }, (_, n) => f.local(`a${m}_${n}`, "v128")));
  const xv = Array.from({ length: N }, (_, n) => f.local(`x${n}`, "v128"));
  const wv = f.local("wv", "v128");
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) f.emit(set(acc[m]![n]!, V128_ZERO));
  if (o.bias !== null) {
    const b = o.bias;
    f.when(get(b), () => {
      for (let m = 0; m < M; m++) {
        f.emit(set(wv, `(${splat}${off(m * bytes)} ${get(b)})`));
        for (let n = 0; n < N; n++) f.emit(set(acc[m]![n]!, get(wv)));
      }
    });
  }
  if (o.taps.length > 0 && o.sum > 0) {
    f.emit(set(xc, get(xp)), set(wc, get(wp)), set(e, add(get(xp), i32(o.sum * o.sumX))));
    f.whileLoop(`(i32.lt_u ${get(xc)} ${get(e)})`, () => {
      for (const tap of o.taps) {
        for (let n = 0; n < N; n++) f.emit(set(xv[n]!, `(v128.load${off(tap.x + 16 * n)} ${get(xc)})`));
        for (let m = 0; m < M; m++) {
          f.emit(set(wv, `(${splat}${off(tap.w + m * o.outW)} ${get(wc)})`));
          for (let n = 0; n < N; n++) f.emit(set(acc[m]![n]!, `(${v}.add ${get(acc[m]![n]!)} (${v}.mul ${get(xv[n]!)} ${get(wv)}))`));
        }
      }
      f.emit(bump(xc, o.sumX), bump(wc, o.sumW));
    });
  }
  if (o.relu !== null) {
    const r = o.relu;
    f.when(get(r), () => {
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) f.emit(set(acc[m]![n]!, `(${v}.max ${get(acc[m]![n]!)} ${V128_ZERO})`));
    });
  }
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      const o0 = m * o.outPlane + 16 * n;
      if (n === N - 1 && o.lastLanes < lanes) {
        for (let l = 0; l < o.lastLanes; l++) f.emit(`(${t}.store${off(o0 + l * bytes)} ${get(yp)} (${v}.extract_lane ${l} ${get(acc[m]![n]!)}))`);
      } else f.emit(`(v128.store${off(o0)} ${get(yp)} ${get(acc[m]![n]!)})`);
    }
}

/** Greedy tiling of `count` by the descending `tiles`, as runs of equal tiles: T, first start, how many. */
function runs(count: number, tiles: readonly number[]): { T: number; start: number; count: number }[] {
  const out: { T: number; start: number; count: number }[] = [];
  let at0 = 0;
  for (const T of tiles) {
    const n = Math.floor((count - at0) / T);
    if (n > 0) out.push({ T, start: at0, count: n });
    at0 += n * T;
  }
  return out;
}

/**
 * Runs the tiles of a row of `vectors` vectors (the last holding `lastLanes` valid lanes) for
 * output planes [m0, m0 + M): sets the tile's xp, wp, yp from the row's pointers and calls it.
 * Runs of equal tiles become a loop.
 */
function rowTiles(
  f: Fn,
  p: Prec,
  tag: string,
  M: number,
  vectors: number,
  lastLanes: number,
  cols: readonly number[],
  ptrs: { x: string; w: string; y: string },
  tile: Omit<Parameters<typeof corrTile>[4], "lastLanes">,
): void {
  // full vectors first (all but a partial last one), then the partial one alone
  const full = lastLanes < p.lanes ? vectors - 1 : vectors;
  const list = runs(full, cols).map((r) => ({ N: r.T, start: r.start, count: r.count, last: p.lanes }));
  if (full < vectors) list.push({ N: 1, start: full, count: 1, last: lastLanes });
  const j = f.local(`${tag}_j`, "i32");
  for (const run of list) {
    const s = f.scope(`${tag}_${M}_${run.N}${run.last < p.lanes ? "m" : ""}_`);
    const body = () => {
      const start = run.count === 1 ? i32(run.start * 16) : add(i32(run.start * 16), mul(get(j), i32(run.N * 16)));
      f.emit(set(s.local("xp", "i32"), add(get(ptrs.x), start)), set(s.local("wp", "i32"), get(ptrs.w)), set(s.local("yp", "i32"), add(get(ptrs.y), start)));
      corrTile(s, p, M, run.N, { ...tile, lastLanes: run.last });
    };
    if (run.count === 1) body();
    else forCount(f, j, run.count, body);
  }
}

// ── the three kernels ────────────────────────────────────────────────────────────────────────

function forward(p: Prec, g: Geometry, name: string, bl: ConvBlocking): string {
  const { bytes, lanes } = p;
  const f = new Fn(`$${name}_forward (export "${name}_forward")`, [
    ["X", "i32"], ["W", "i32"], ["b", "i32"], ["Y", "i32"], ["rows", "i32"], ["relu", "i32"], ["scratch", "i32"],
  ]);
  const sl = scratchLayout(g, bytes);
  const r = f.local("r", "i32"), o0 = f.local("o0", "i32"), oy = f.local("oy", "i32");
  const xs = f.local("xs", "i32"), ys = f.local("ys", "i32"), xph = f.local("xph", "i32");
  const xrow = f.local("xrow", "i32"), yrow = f.local("yrow", "i32"), wo = f.local("wo", "i32"), bo = f.local("bo", "i32");
  f.emit(set(xph, add(get("scratch"), i32(sl.xph))));
  zeroBytes(f, get(xph), sl.dpad - sl.xph, "z");
  f.emit(set(xs, get("X")), set(ys, get("Y")), set(r, i32(0)));
  const rowX = g.s * g.Wq; // elements per packed row (all phases)
  const taps: Tap[] = [];
  for (let u = 0; u < g.k; u++)
    for (let w = 0; w < g.k; w++) taps.push({ x: ((u * g.s + (w % g.s)) * g.Wq + Math.floor(w / g.s)) * bytes, w: (u * g.k + w) * bytes });
  f.whileLoop(`(i32.lt_u ${get(r)} ${get("rows")})`, () => {
    transfer(f, p, "pk", {
      planes: g.C, rows: g.H, width: g.W, dense: xs, padded: xph,
      padPlane: g.Hp * rowX, padRow: rowX, rowOffset: g.pt, colOffset: g.pl, s: g.s, phase: g.Wq, toPadded: true,
    });
    for (const run of runs(g.O, bl.outs)) {
      forCount(f, o0, run.count, () => {
        const oStart = add(i32(run.start), mul(get(o0), i32(run.T)));
        f.emit(set(wo, add(get("W"), mul(oStart, i32(g.C * g.k * g.k * bytes)))));
        f.emit(set(bo, `(select ${add(get("b"), mul(oStart, i32(bytes)))} ${i32(0)} ${get("b")})`));
        f.emit(set(yrow, add(get(ys), mul(oStart, i32(g.OH * g.OW * bytes)))));
        forCount(f, oy, g.OH, () => {
          f.emit(set(xrow, at(xph, [[oy, g.s * rowX * bytes]])));
          rowTiles(f, p, "f", run.T, g.OWr / lanes, g.OW - (g.OWr - lanes), bl.cols, { x: xrow, w: wo, y: yrow }, {
            taps, sum: g.C, sumX: g.Hp * rowX * bytes, sumW: g.k * g.k * bytes, outW: g.C * g.k * g.k * bytes,
            outPlane: g.OH * g.OW * bytes, bias: bo, relu: "relu",
          });
          f.emit(bump(yrow, g.OW * bytes));
        });
      });
    }
    f.emit(bump(xs, g.C * g.H * g.W * bytes));
    f.emit(bump(ys, g.O * g.OH * g.OW * bytes), bump(r, 1));
  });
  return f.text();
}

function backwardData(p: Prec, g: Geometry, name: string, bl: ConvBlocking): string {
  const { bytes, lanes } = p;
  const f = new Fn(`$${name}_backward_data (export "${name}_backward_data")`, [
    ["D", "i32"], ["W", "i32"], ["DX", "i32"], ["rows", "i32"], ["accumulate", "i32"], ["scratch", "i32"],
  ]);
  const sl = scratchLayout(g, bytes);
  const r = f.local("r", "i32"), c0 = f.local("c0", "i32"), yq = f.local("yq", "i32");
  const ds = f.local("ds", "i32"), dxs = f.local("dxs", "i32"), dpad = f.local("dpad", "i32"), dxph = f.local("dxph", "i32");
  const xrow = f.local("xrow", "i32"), yrow = f.local("yrow", "i32"), wc = f.local("wc", "i32"), ybase = f.local("ybase", "i32");
  const HR = g.Hq * g.s; // rows of the phase-split gradient
  const rowY = g.s * g.Wqr;
  f.emit(set(dpad, add(get("scratch"), i32(sl.dpad))), set(dxph, add(get("scratch"), i32(sl.dxph))));
  zeroBytes(f, get(dpad), sl.dxph - sl.dpad, "z");
  f.emit(set(ds, get("D")), set(dxs, get("DX")), set(r, i32(0)));
  f.whileLoop(`(i32.lt_u ${get(r)} ${get("rows")})`, () => {
    transfer(f, p, "pk", {
      planes: g.O, rows: g.OH, width: g.OW, dense: ds, padded: dpad,
      padPlane: g.Hd * g.Wd, padRow: g.Wd, rowOffset: g.A, colOffset: g.A, s: 1, phase: 0, toPadded: true,
    });
    for (const run of runs(g.C, bl.outs)) {
      forCount(f, c0, run.count, () => {
        const cStart = add(i32(run.start), mul(get(c0), i32(run.T)));
        f.emit(set(wc, add(get("W"), mul(cStart, i32(g.k * g.k * bytes)))));
        f.emit(set(ybase, add(get(dxph), mul(cStart, i32(HR * rowY * bytes)))));
        forCount(f, yq, g.Hq, () => {
          f.emit(set(xrow, at(dpad, [[yq, g.Wd * bytes]])));
          for (let py = 0; py < g.s; py++)
            for (let px = 0; px < g.s; px++) {
              // phase (py, px): taps u = py + s·a, v = px + s·b, reading D shifted up/left by a, b
              const taps: Tap[] = [];
              for (let a = 0; py + g.s * a < g.k; a++)
                for (let b = 0; px + g.s * b < g.k; b++)
                  taps.push({ x: ((g.A - a) * g.Wd + (g.A - b)) * bytes, w: ((py + g.s * a) * g.k + px + g.s * b) * bytes });
              f.emit(set(yrow, at(ybase, [[yq, g.s * rowY * bytes]], (py * rowY + px * g.Wqr) * bytes)));
              rowTiles(f, p, "d", run.T, g.Wqr / lanes, lanes, bl.cols, { x: xrow, w: wc, y: yrow }, {
                taps, sum: g.O, sumX: g.Hd * g.Wd * bytes, sumW: g.C * g.k * g.k * bytes, outW: g.k * g.k * bytes,
                outPlane: HR * rowY * bytes, bias: null, relu: null,
              });
            }
        });
      });
    }
    transfer(f, p, "un", {
      planes: g.C, rows: g.H, width: g.W, dense: dxs, padded: dxph,
      padPlane: HR * rowY, padRow: rowY, rowOffset: g.pt, colOffset: g.pl, s: g.s, phase: g.Wqr, toPadded: false, accumulate: "accumulate",
    });
    f.emit(bump(ds, g.O * g.OH * g.OW * bytes), bump(dxs, g.C * g.H * g.W * bytes), bump(r, 1));
  });
  return f.text();
}

function backwardWeight(p: Prec, g: Geometry, name: string, bl: ConvBlocking): string {
  const { t, v, bytes, lanes } = p;
  const f = new Fn(`$${name}_backward_weight (export "${name}_backward_weight")`, [
    ["D", "i32"], ["X", "i32"], ["dW", "i32"], ["db", "i32"], ["rows", "i32"], ["scratch", "i32"],
  ]);
  const sl = scratchLayout(g, bytes);
  const r = f.local("r", "i32"), o0 = f.local("o0", "i32"), c = f.local("c", "i32"), oy = f.local("oy", "i32");
  const xs = f.local("xs", "i32"), ds = f.local("ds", "i32"), xph = f.local("xph", "i32"), dpad = f.local("dpad", "i32");
  const dp = f.local("dp", "i32"), xp = f.local("xp", "i32"), e = f.local("e", "i32"), dw = f.local("dw", "i32"), dbo = f.local("dbo", "i32");
  const xv = f.local("xv", "v128");
  const rowX = g.s * g.Wq;
  const kk = g.k * g.k;
  const allTaps: Tap[] = [];
  for (let u = 0; u < g.k; u++)
    for (let w = 0; w < g.k; w++) allTaps.push({ x: ((u * g.s + (w % g.s)) * g.Wq + Math.floor(w / g.s)) * bytes, w: (u * g.k + w) * bytes });
  const hsum = (a: string) => {
    let sum = `(${v}.extract_lane 0 ${get(a)})`;
    for (let l = 1; l < lanes; l++) sum = `(${t}.add ${sum} (${v}.extract_lane ${l} ${get(a)}))`;
    return sum;
  };
  f.emit(set(xph, add(get("scratch"), i32(sl.xph))), set(dpad, add(get("scratch"), i32(sl.dpad))));
  zeroBytes(f, get(xph), sl.dxph - sl.xph, "z");
  f.emit(set(xs, get("X")), set(ds, get("D")), set(r, i32(0)));
  f.whileLoop(`(i32.lt_u ${get(r)} ${get("rows")})`, () => {
    transfer(f, p, "px", {
      planes: g.C, rows: g.H, width: g.W, dense: xs, padded: xph,
      padPlane: g.Hp * rowX, padRow: rowX, rowOffset: g.pt, colOffset: g.pl, s: g.s, phase: g.Wq, toPadded: true,
    });
    transfer(f, p, "pd", {
      planes: g.O, rows: g.OH, width: g.OW, dense: ds, padded: dpad,
      padPlane: g.Hd * g.Wd, padRow: g.Wd, rowOffset: g.A, colOffset: g.A, s: 1, phase: 0, toPadded: true,
    });
    for (const run of runs(g.O, bl.weightOuts)) {
      const M = run.T;
      forCount(f, o0, run.count, () => {
        const oStart = add(i32(run.start), mul(get(o0), i32(M)));
        f.emit(set(dbo, add(get(dpad), mul(oStart, i32(g.Hd * g.Wd * bytes)))));
        f.emit(set(dw, add(get("dW"), mul(oStart, i32(g.C * kk * bytes)))));
        forCount(f, c, g.C, () => {
          for (let t0 = 0; t0 < kk; t0 += bl.weightTaps) {
            const taps = allTaps.slice(t0, t0 + bl.weightTaps);
            const s = f.scope(`w${M}_${taps.length}_`);
            const acc = Array.from({ length: M }, (_, m) => taps.map((_, q) => s.local(`a${m}_${q}`, "v128")));
            const dv = Array.from({ length: M }, (_, m) => s.local(`d${m}`, "v128"));
            acc.flat().forEach((a) => f.emit(set(a, V128_ZERO)));
            forCount(f, oy, g.OH, () => {
              f.emit(set(dp, at(dbo, [[oy, g.Wd * bytes]], (g.A * g.Wd + g.A) * bytes)));
              f.emit(set(xp, at(xph, [[c, g.Hp * rowX * bytes], [oy, g.s * rowX * bytes]])));
              f.emit(set(e, add(get(dp), i32(g.OWr * bytes))));
              f.whileLoop(`(i32.lt_u ${get(dp)} ${get(e)})`, () => {
                for (let m = 0; m < M; m++) f.emit(set(dv[m]!, `(v128.load${off(m * g.Hd * g.Wd * bytes)} ${get(dp)})`));
                taps.forEach((tap, q) => {
                  f.emit(set(xv, `(v128.load${off(tap.x)} ${get(xp)})`));
                  for (let m = 0; m < M; m++) f.emit(set(acc[m]![q]!, `(${v}.add ${get(acc[m]![q]!)} (${v}.mul ${get(dv[m]!)} ${get(xv)}))`));
                });
                f.emit(bump(dp, 16), bump(xp, 16));
              });
            });
            // dW[o, c, tap] += the horizontal sums
            const cw = mul(get(c), i32(kk * bytes));
            for (let m = 0; m < M; m++)
              taps.forEach((tap, q) => {
                const addr = add(get(dw), cw);
                const o2 = m * g.C * kk * bytes + tap.w;
                f.emit(`(${t}.store${off(o2)} ${addr} (${t}.add (${t}.load${off(o2)} ${addr}) ${hsum(acc[m]![q]!)}))`);
              });
          }
        });
      });
    }
    // db[o] += Σ D[o, ·, ·] (the packed rows are zero past the row's end)
    f.when(get("db"), () => {
      const a = f.local("sv", "v128");
      forCount(f, o0, g.O, () => {
        f.emit(set(a, V128_ZERO));
        forCount(f, oy, g.OH, () => {
          f.emit(set(dp, at(dpad, [[o0, g.Hd * g.Wd * bytes], [oy, g.Wd * bytes]], (g.A * g.Wd + g.A) * bytes)));
          f.emit(set(e, add(get(dp), i32(g.OWr * bytes))));
          f.whileLoop(`(i32.lt_u ${get(dp)} ${get(e)})`, () => f.emit(set(a, `(${v}.add ${get(a)} (v128.load ${get(dp)}))`), bump(dp, 16)));
        });
        const addr = at("db", [[o0, bytes]]);
        f.emit(`(${t}.store ${addr} (${t}.add (${t}.load ${addr}) ${hsum(a)}))`);
      });
    });
    f.emit(bump(xs, g.C * g.H * g.W * bytes), bump(ds, g.O * g.OH * g.OW * bytes), bump(r, 1));
  });
  return f.text();
}

function checkBlocking(bl: ConvBlocking): void {
  for (const [n, tiles] of [["outs", bl.outs], ["cols", bl.cols], ["weightOuts", bl.weightOuts]] as const) {
    const ok = tiles.length > 0 && tiles[tiles.length - 1] === 1 && tiles.every((x, i) => Number.isInteger(x) && x >= 1 && (i === 0 || x < tiles[i - 1]!));
    if (!ok) throw new Error(`conv blocking: ${n} must be strictly descending integers ending in 1, got [${tiles.join(", ")}]`);
  }
  if (!Number.isInteger(bl.weightTaps) || bl.weightTaps < 1) throw new Error(`conv blocking: weightTaps must be a positive integer, got ${bl.weightTaps}`);
}

/** The three kernels of one layer as WAT functions (to place in a module that imports the memory). */
export function convFunctionsWat(precision: Precision, shape: ConvShape, name: string, blocking: ConvBlocking = DEFAULT_CONV_BLOCKING): string[] {
  const p = PRECISIONS[precision];
  if (!p) throw new Error(`conv kernels: unknown precision ${String(precision)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`conv kernels: bad name ${JSON.stringify(name)}`);
  checkBlocking(blocking);
  const g = geometry(shape, p.lanes);
  return [forward(p, g, name, blocking), backwardData(p, g, name, blocking), backwardWeight(p, g, name, blocking)];
}

/** A module of its own holding the kernels of the given layers (tests, benchmarks). */
export function convModuleWat(precision: Precision, layers: readonly { name: string; shape: ConvShape }[], blocking?: ConvBlocking): string {
  return [
    `;; nnc WebAssembly SIMD128 convolution kernels, precision ${precision}; generated by compiler/codegen/wasm/conv.ts`,
    "(module",
    `  (import "${KERNEL_MEMORY_MODULE}" "${KERNEL_MEMORY_NAME}" (memory 0))`,
    ...layers.flatMap((l) => convFunctionsWat(precision, l.shape, l.name, blocking)),
    ")",
    "",
  ].join("\n");
}

export { ELEMENT_BYTES };
