/**
 * The WebAssembly SIMD kernels (compiler/codegen/wasm/kernels.ts) against naive float64
 * JavaScript references, on random data, for awkward and real shapes, in both precisions.
 * f32 is compared with the reference computed from the float32-rounded inputs, within 1e-5 of
 * the magnitude Σ|terms| of each entry; f64 within 1e-13 of it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWat } from "../../compiler/codegen/wasm/assemble.js";
import {
  DEFAULT_BLOCKING,
  ELEMENT_BYTES,
  KERNEL_EXPORTS,
  KERNEL_MEMORY_MODULE,
  KERNEL_MEMORY_NAME,
  kernelsWat,
  type KernelBlocking,
  type KernelFunctions,
  type Precision,
} from "../../compiler/codegen/wasm/kernels.js";
import { rng } from "../helpers/random.js";

const SMALL = [1, 2, 3, 5, 7, 8, 9, 17];
const REAL: [number, number, number][] = [
  [32, 128, 784],
  [32, 10, 128],
  [32, 256, 256],
  [32, 256, 784],
  [32, 10, 256],
];
/** every (rows, m, k) in SMALL³, then the real layers */
function shapes(): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const r of SMALL) for (const m of SMALL) for (const k of SMALL) out.push([r, m, k]);
  return [...out, ...REAL];
}

const TOL: Record<Precision, number> = { f64: 1e-13, f32: 1e-5 };

interface Lib {
  fns: KernelFunctions;
  memory: WebAssembly.Memory;
  precision: Precision;
}

async function instantiate(precision: Precision, blocking?: KernelBlocking): Promise<Lib> {
  const bytes = await assembleWat(kernelsWat(precision, blocking));
  const memory = new WebAssembly.Memory({ initial: 64 }); // 4 MiB
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), { [KERNEL_MEMORY_MODULE]: { [KERNEL_MEMORY_NAME]: memory } });
  return { fns: instance.exports as unknown as KernelFunctions, memory, precision };
}

/** A bump allocator over the memory; `skew` shifts each start by that many elements (misalignment). */
class Arena {
  private next = 16; // offset 0 means "absent"
  constructor(
    private readonly lib: Lib,
    private readonly skew = 0,
  ) {}
  alloc(n: number): number {
    const b = ELEMENT_BYTES[this.lib.precision];
    const at = this.next + this.skew * b;
    this.next = (at + n * b + 15 + 16) & ~15;
    if (this.next > this.lib.memory.buffer.byteLength) throw new Error("arena full");
    return at;
  }
  view(at: number, n: number): Float64Array | Float32Array {
    return this.lib.precision === "f64" ? new Float64Array(this.lib.memory.buffer, at, n) : new Float32Array(this.lib.memory.buffer, at, n);
  }
  /** random values in [-1, 1) written to the memory; returns them as stored (rounded for f32) */
  fill(at: number, n: number, random: () => number): Float64Array {
    const v = this.view(at, n);
    for (let i = 0; i < n; i++) v[i] = 2 * random() - 1;
    return Float64Array.from(v);
  }
  read(at: number, n: number): Float64Array {
    return Float64Array.from(this.view(at, n));
  }
}

/** max over entries of |got − want| / max(mag, tiny) */
function worst(got: Float64Array, want: Float64Array, mag: Float64Array): number {
  expect(got.length).toBe(want.length);
  let w = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(mag[i]!, 1e-300);
    w = Math.max(w, Number.isNaN(e) ? Infinity : e);
  }
  return w;
}

function refForward(X: Float64Array, W: Float64Array, b: Float64Array | null, rows: number, m: number, k: number, relu: boolean) {
  const Y = new Float64Array(rows * m);
  const mag = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < m; i++) {
      let s = b ? b[i]! : 0;
      let a = Math.abs(s);
      for (let j = 0; j < k; j++) {
        s += X[r * k + j]! * W[i * k + j]!;
        a += Math.abs(X[r * k + j]! * W[i * k + j]!);
      }
      Y[r * m + i] = relu ? Math.max(s, 0) : s;
      mag[r * m + i] = a;
    }
  return { Y, mag };
}

function refData(D: Float64Array, W: Float64Array, DX0: Float64Array | null, rows: number, m: number, k: number) {
  const DX = DX0 ? Float64Array.from(DX0) : new Float64Array(rows * k);
  const mag = DX0 ? DX0.map(Math.abs) : new Float64Array(rows * k);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < k; j++)
      for (let i = 0; i < m; i++) {
        const t = D[r * m + i]! * W[i * k + j]!;
        DX[r * k + j] = DX[r * k + j]! + t;
        mag[r * k + j] = mag[r * k + j]! + Math.abs(t);
      }
  return { DX, mag };
}

function refWeight(D: Float64Array, X: Float64Array, dW0: Float64Array, db0: Float64Array, rows: number, m: number, k: number) {
  const dW = Float64Array.from(dW0);
  const magW = dW0.map(Math.abs);
  const db = Float64Array.from(db0);
  const magb = db0.map(Math.abs);
  for (let i = 0; i < m; i++)
    for (let r = 0; r < rows; r++) {
      const d = D[r * m + i]!;
      db[i] = db[i]! + d;
      magb[i] = magb[i]! + Math.abs(d);
      for (let j = 0; j < k; j++) {
        const t = d * X[r * k + j]!;
        dW[i * k + j] = dW[i * k + j]! + t;
        magW[i * k + j] = magW[i * k + j]! + Math.abs(t);
      }
    }
  return { dW, magW, db, magb };
}

for (const precision of ["f64", "f32"] as const) {
  describe(`wasm kernels, ${precision}`, () => {
    let lib: Lib;
    beforeAll(async () => {
      lib = await instantiate(precision);
    });
    const tol = TOL[precision];

    it("assembles deterministically to a valid module exporting every kernel", async () => {
      const a = await assembleWat(kernelsWat(precision));
      const b = await assembleWat(kernelsWat(precision));
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(WebAssembly.validate(a)).toBe(true);
      const mod = new WebAssembly.Module(a);
      expect(WebAssembly.Module.exports(mod).map((e) => e.name).sort()).toEqual([...KERNEL_EXPORTS].sort());
      expect(WebAssembly.Module.imports(mod)).toEqual([{ module: KERNEL_MEMORY_MODULE, name: KERNEL_MEMORY_NAME, kind: "memory" }]);
    });

    it("dense_forward matches the reference (bias on/off, relu on/off, every shape)", () => {
      const random = rng(precision === "f64" ? 1 : 2);
      let cases = 0;
      for (const [rows, m, k] of shapes())
        for (const bias of [true, false])
          for (const relu of [false, true]) {
            const A = new Arena(lib, cases % 3 === 2 ? 1 : 0);
            const pX = A.alloc(rows * k), pW = A.alloc(m * k), pb = bias ? A.alloc(m) : 0, pY = A.alloc(rows * m);
            const X = A.fill(pX, rows * k, random), W = A.fill(pW, m * k, random);
            const b = bias ? A.fill(pb, m, random) : null;
            A.fill(pY, rows * m, random); // garbage to be overwritten
            lib.fns.dense_forward(pX, pW, pb, pY, rows, m, k, relu ? 1 : 0);
            const { Y, mag } = refForward(X, W, b, rows, m, k, relu);
            const err = worst(A.read(pY, rows * m), Y, mag);
            expect(err, `rows=${rows} m=${m} k=${k} bias=${bias} relu=${relu}`).toBeLessThan(tol);
            cases++;
          }
      expect(cases).toBe(4 * (SMALL.length ** 3 + REAL.length));
    });

    it("dense_backward_data matches the reference (overwrite and accumulate)", () => {
      const random = rng(precision === "f64" ? 3 : 4);
      let cases = 0;
      for (const [rows, m, k] of shapes())
        for (const accumulate of [false, true]) {
          const A = new Arena(lib, cases % 3 === 1 ? 1 : 0);
          const pD = A.alloc(rows * m), pW = A.alloc(m * k), pDX = A.alloc(rows * k);
          const D = A.fill(pD, rows * m, random), W = A.fill(pW, m * k, random);
          const DX0 = A.fill(pDX, rows * k, random);
          lib.fns.dense_backward_data(pD, pW, pDX, rows, m, k, accumulate ? 1 : 0);
          const { DX, mag } = refData(D, W, accumulate ? DX0 : null, rows, m, k);
          expect(worst(A.read(pDX, rows * k), DX, mag), `rows=${rows} m=${m} k=${k} accumulate=${accumulate}`).toBeLessThan(tol);
          cases++;
        }
      expect(cases).toBe(2 * (SMALL.length ** 3 + REAL.length));
    });

    it("dense_backward_weight accumulates into dW and db (db = 0 skips the bias)", () => {
      const random = rng(precision === "f64" ? 5 : 6);
      let cases = 0;
      for (const [rows, m, k] of shapes())
        for (const bias of [true, false]) {
          const A = new Arena(lib, cases % 3 === 0 ? 1 : 0);
          const pD = A.alloc(rows * m), pX = A.alloc(rows * k), pdW = A.alloc(m * k), pdb = A.alloc(m);
          const D = A.fill(pD, rows * m, random), X = A.fill(pX, rows * k, random);
          const dW0 = A.fill(pdW, m * k, random), db0 = A.fill(pdb, m, random);
          lib.fns.dense_backward_weight(pD, pX, pdW, bias ? pdb : 0, rows, m, k);
          const ref = refWeight(D, X, dW0, db0, rows, m, k);
          const at = `rows=${rows} m=${m} k=${k} bias=${bias}`;
          expect(worst(A.read(pdW, m * k), ref.dW, ref.magW), at).toBeLessThan(tol);
          if (bias) expect(worst(A.read(pdb, m), ref.db, ref.magb), at).toBeLessThan(tol);
          else expect(A.read(pdb, m), at).toEqual(db0);
          cases++;
        }
      expect(cases).toBe(2 * (SMALL.length ** 3 + REAL.length));
    });

    it("sizes of 0: k = 0 gives Y = relu(b), DX = 0, dW unchanged; rows = 0 or m = 0 write nothing", () => {
      const random = rng(10);
      const A = new Arena(lib);
      const [rows, m] = [3, 5];
      const pb = A.alloc(m), pY = A.alloc(rows * m), pD = A.alloc(rows * m), pW = A.alloc(m), pdb = A.alloc(m);
      const b = A.fill(pb, m, random);
      A.fill(pY, rows * m, random);
      lib.fns.dense_forward(16, 16, pb, pY, rows, m, 0, 1);
      expect(A.read(pY, rows * m)).toEqual(Float64Array.from({ length: rows * m }, (_, e) => Math.max(b[e % m]!, 0)));
      const Y = A.read(pY, rows * m);
      lib.fns.dense_forward(16, 16, pb, pY, 0, m, 7, 0);
      lib.fns.dense_forward(16, 16, pb, pY, rows, 0, 7, 0);
      expect(A.read(pY, rows * m)).toEqual(Y);
      const D = A.fill(pD, rows * m, random);
      const db0 = A.fill(pdb, m, random);
      lib.fns.dense_backward_weight(pD, 16, pW, pdb, rows, m, 0);
      const db = A.read(pdb, m);
      for (let i = 0; i < m; i++) {
        let s = db0[i]!, mag = Math.abs(db0[i]!);
        for (let r = 0; r < rows; r++) (s += D[r * m + i]!), (mag += Math.abs(D[r * m + i]!));
        expect(Math.abs(db[i]! - s)).toBeLessThanOrEqual(tol * mag);
      }
      const pDX = A.alloc(rows * 4);
      A.fill(pDX, rows * 4, random);
      lib.fns.dense_backward_data(pD, pW, pDX, rows, 0, 4, 0);
      expect(A.read(pDX, rows * 4)).toEqual(new Float64Array(rows * 4));
    });

    it("does not write outside its outputs", () => {
      const random = rng(7);
      const A = new Arena(lib);
      const [rows, m, k] = [5, 7, 9];
      const pX = A.alloc(rows * k), pW = A.alloc(m * k), pb = A.alloc(m), pY = A.alloc(rows * m), pDX = A.alloc(rows * k), pdW = A.alloc(m * k), pdb = A.alloc(m);
      const end = A.alloc(64);
      const all = A.view(16, (end - 16) / ELEMENT_BYTES[precision]);
      for (let i = 0; i < all.length; i++) all[i] = 2 * random() - 1;
      const before = Float64Array.from(all);
      lib.fns.dense_forward(pX, pW, pb, pY, rows, m, k, 1);
      lib.fns.dense_backward_data(pY, pW, pDX, rows, m, k, 0);
      lib.fns.dense_backward_weight(pY, pX, pdW, pdb, rows, m, k);
      const b = ELEMENT_BYTES[precision];
      const outputs: [number, number][] = [[pY, rows * m], [pDX, rows * k], [pdW, m * k], [pdb, m]];
      for (let i = 0; i < all.length; i++) {
        const addr = 16 + i * b;
        if (outputs.some(([p, n]) => addr >= p && addr < p + n * b)) continue;
        if (all[i] !== before[i]) throw new Error(`element at byte ${addr} was written`);
      }
    });

    it("helpers: sgd_update, relu_backward, zero, copy", () => {
      const random = rng(8);
      for (const n of [0, 1, 2, 3, 5, 7, 8, 9, 17, 1000, 1003]) {
        const A = new Arena(lib, n % 2);
        const pP = A.alloc(n), pG = A.alloc(n), pQ = A.alloc(n + 1);
        const P = A.fill(pP, n, random), G = A.fill(pG, n, random);
        A.fill(pQ, n + 1, random);
        const sentinel = A.read(pQ + n * ELEMENT_BYTES[precision], 1)[0]!;
        const lr = 0.125; // exact in both precisions, so the update is exactly the reference
        lib.fns.sgd_update(pP, pG, n, lr);
        const want = P.map((p, i) => p - lr * G[i]!);
        const got = A.read(pP, n);
        for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(precision === "f64" ? 0 : 1e-7);
        lib.fns.copy(pQ, pP, n);
        expect(A.read(pQ, n)).toEqual(A.read(pP, n));
        expect(A.read(pQ + n * ELEMENT_BYTES[precision], 1)[0]).toBe(sentinel);
        const D = A.read(pG, n);
        lib.fns.relu_backward(pG, pP, n);
        expect(A.read(pG, n)).toEqual(D.map((d, i) => (got[i]! > 0 ? d : 0)));
        lib.fns.zero(pQ, n);
        expect(A.read(pQ, n)).toEqual(new Float64Array(n));
        expect(A.read(pQ + n * ELEMENT_BYTES[precision], 1)[0]).toBe(sentinel);
      }
    });

    it("adam_update: the emitted adamApply's arithmetic, in the same order (bit for bit in f64)", () => {
      const random = rng(12);
      const fround = precision === "f32" ? Math.fround : (x: number) => x;
      for (const n of [0, 1, 2, 3, 5, 7, 8, 9, 17, 1003]) {
        const A = new Arena(lib, n % 2);
        const pP = A.alloc(n), pG = A.alloc(n), pM = A.alloc(n), pV = A.alloc(n + 1);
        const P = A.fill(pP, n, random), G = A.fill(pG, n, random), M = A.fill(pM, n, random);
        const V = A.fill(pV, n + 1, random).map(Math.abs);
        A.view(pV, n + 1).set(V);
        const sentinel = V[n]!;
        const [lr, beta1, beta2, eps, c1, c2] = [0.001, 0.9, 0.999, 1e-8, 1 / (1 - 0.9 ** 3), 1 / (1 - 0.999 ** 3)].map(fround) as number[];
        lib.fns.adam_update(pP, pG, pM, pV, n, lr!, beta1!, beta2!, eps!, c1!, c2!);
        const got = { P: A.read(pP, n), M: A.read(pM, n), V: A.read(pV, n + 1) };
        for (let i = 0; i < n; i++) {
          const g = G[i]!;
          const mi = beta1! * M[i]! + (1 - beta1!) * g;
          const vi = beta2! * V[i]! + (1 - beta2!) * g * g;
          const pi = P[i]! - (lr! * (mi * c1!)) / Math.sqrt(vi * c2! + eps!);
          const tol = (x: number) => (precision === "f64" ? 0 : 1e-5 * Math.max(1, Math.abs(x)));
          expect(Math.abs(got.M[i]! - mi), `m[${i}]`).toBeLessThanOrEqual(tol(mi));
          expect(Math.abs(got.V[i]! - vi), `v[${i}]`).toBeLessThanOrEqual(tol(vi));
          expect(Math.abs(got.P[i]! - pi), `p[${i}]`).toBeLessThanOrEqual(tol(pi));
        }
        expect(got.V[n]).toBe(sentinel);
      }
    });

    it("sgd_update_keep, adam_update_keep: the same update bit for bit, the old P kept in B, the new P summed", () => {
      const random = rng(14);
      const fround = precision === "f32" ? Math.fround : (x: number) => x;
      for (const n of [0, 1, 2, 3, 5, 7, 8, 9, 17, 1003]) {
        const A = new Arena(lib, n % 2);
        const pP = A.alloc(n), pG = A.alloc(n), pM = A.alloc(n), pV = A.alloc(n), pB = A.alloc(n + 1);
        const pP2 = A.alloc(n), pM2 = A.alloc(n), pV2 = A.alloc(n);
        const P = A.fill(pP, n, random), M = A.fill(pM, n, random);
        A.fill(pG, n, random);
        const V = A.fill(pV, n, random).map(Math.abs);
        A.view(pV, n).set(V);
        const sentinel = A.fill(pB, n + 1, random)[n]!;
        for (const [at, v] of [[pP2, P], [pM2, M], [pV2, V]] as const) A.view(at, n).set(v);
        const lr = fround(0.01);
        lib.fns.sgd_update(pP, pG, n, lr);
        const summed = lib.fns.sgd_update_keep(pP2, pG, pB, n, lr);
        expect(A.read(pP2, n)).toEqual(A.read(pP, n));
        expect(A.read(pB, n)).toEqual(P);
        expect(A.read(pB + n * ELEMENT_BYTES[precision], 1)[0]).toBe(sentinel);
        const newP = A.read(pP, n);
        expect(Math.abs(summed - newP.reduce((a, b) => a + b, 0))).toBeLessThan(1e-5 * Math.max(1, n));
        const scalars = [0.001, 0.9, 0.999, 1e-8, 1 / (1 - 0.9 ** 3), 1 / (1 - 0.999 ** 3)].map(fround) as [number, number, number, number, number, number];
        lib.fns.adam_update(pP, pG, pM, pV, n, ...scalars);
        const summedAdam = lib.fns.adam_update_keep(pP2, pG, pM2, pV2, pB, n, ...scalars);
        expect(A.read(pP2, n)).toEqual(A.read(pP, n));
        expect(A.read(pM2, n)).toEqual(A.read(pM, n));
        expect(A.read(pV2, n)).toEqual(A.read(pV, n));
        expect(A.read(pB, n)).toEqual(newP);
        expect(Math.abs(summedAdam - A.read(pP, n).reduce((a, b) => a + b, 0))).toBeLessThan(1e-5 * Math.max(1, n));
        if (n > 0) {
          A.view(pG, n)[n >> 1] = NaN;
          expect(Number.isFinite(lib.fns.sgd_update_keep(pP2, pG, pB, n, lr))).toBe(false);
        }
      }
    });

    it("scale_add: a·A + b·B with two roundings (JavaScript's bits in f64), in place too; scale: P·s; sum: finite exactly when every element is", () => {
      const random = rng(13);
      const fround = precision === "f32" ? Math.fround : (x: number) => x;
      for (const n of [0, 1, 2, 3, 5, 7, 8, 9, 17, 1003]) {
        const A = new Arena(lib, n % 2);
        const pA = A.alloc(n), pB = A.alloc(n), pD = A.alloc(n + 1);
        const Av = A.fill(pA, n, random), Bv = A.fill(pB, n, random);
        const sentinel = A.fill(pD, n + 1, random)[n]!;
        const [a, b] = [fround(0.3), fround(1 / 3)] as [number, number];
        lib.fns.scale_add(pD, pA, pB, n, a, b);
        const want = Av.map((x, i) => fround(fround(fround(a * x) + fround(b * Bv[i]!))));
        expect(A.read(pD, n)).toEqual(want);
        expect(A.read(pD + n * ELEMENT_BYTES[precision], 1)[0]).toBe(sentinel);
        lib.fns.scale_add(pA, pA, pB, n, 1, b); // D = A: the reduction's later passes
        expect(A.read(pA, n)).toEqual(Av.map((x, i) => fround(x + fround(b * Bv[i]!))));
        lib.fns.scale(pD, n, 1 / 3);
        expect(A.read(pD, n)).toEqual(want.map((x) => fround(x * fround(1 / 3))));
        expect(A.read(pD + n * ELEMENT_BYTES[precision], 1)[0]).toBe(sentinel);
        const values = A.read(pB, n);
        const total = lib.fns.sum(pB, n);
        expect(Math.abs(total - values.reduce((s, x) => s + x, 0))).toBeLessThan(1e-5 * Math.max(1, n));
        if (n > 0) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            A.view(pB, n)[n - 1 - (n >> 1)] = bad;
            expect(Number.isFinite(lib.fns.sum(pB, n))).toBe(false);
            A.view(pB, n).set(values);
          }
          expect(Number.isFinite(lib.fns.sum(pB, n))).toBe(true);
        }
      }
    });

    it("other blockings compute the same (smaller and larger tiles, other loop orders)", async () => {
      const variants: Partial<KernelBlocking>[] = [
        { forwardRows: [1], forwardOuts: [1], forwardUnroll: 1, dataRows: [1], dataCols: [1], dataUnroll: 1, weightOuts: [1], weightCols: [1], inlineTiles: false },
        { forwardRows: [3, 2, 1], forwardOuts: [3, 1], forwardUnroll: 4, forwardOuter: "rows", dataRows: [3, 1], dataCols: [3, 2, 1], dataUnroll: 4, weightOuts: [3, 2, 1], weightCols: [3, 1], weightOuter: "outs" },
        { forwardUnroll: 2, dataUnroll: 2, inlineTiles: false },
      ];
      const random = rng(9);
      for (const v of variants) {
        const other = await instantiate(precision, { ...DEFAULT_BLOCKING[precision], ...v });
        for (const [rows, m, k] of [[7, 5, 17], [32, 10, 128], [2, 9, 3]] as const) {
          const A = new Arena(other);
          const pX = A.alloc(rows * k), pW = A.alloc(m * k), pb = A.alloc(m), pY = A.alloc(rows * m), pDX = A.alloc(rows * k), pdW = A.alloc(m * k), pdb = A.alloc(m);
          const X = A.fill(pX, rows * k, random), W = A.fill(pW, m * k, random), b = A.fill(pb, m, random);
          const dW0 = A.fill(pdW, m * k, random), db0 = A.fill(pdb, m, random);
          other.fns.dense_forward(pX, pW, pb, pY, rows, m, k, 0);
          const f = refForward(X, W, b, rows, m, k, false);
          expect(worst(A.read(pY, rows * m), f.Y, f.mag)).toBeLessThan(tol);
          const Y = A.read(pY, rows * m);
          other.fns.dense_backward_data(pY, pW, pDX, rows, m, k, 0);
          const d = refData(Y, W, null, rows, m, k);
          expect(worst(A.read(pDX, rows * k), d.DX, d.mag)).toBeLessThan(tol);
          other.fns.dense_backward_weight(pY, pX, pdW, pdb, rows, m, k);
          const w = refWeight(Y, X, dW0, db0, rows, m, k);
          expect(worst(A.read(pdW, m * k), w.dW, w.magW)).toBeLessThan(tol);
          expect(worst(A.read(pdb, m), w.db, w.magb)).toBeLessThan(tol);
        }
      }
    });
  });
}

describe("wasm kernels: the generator", () => {
  it("rejects blockings it cannot tile with", () => {
    expect(() => kernelsWat("f64", { ...DEFAULT_BLOCKING.f64, forwardRows: [4, 2] })).toThrow(/ending in 1/);
    expect(() => kernelsWat("f64", { ...DEFAULT_BLOCKING.f64, dataUnroll: 3 })).toThrow(/power of two/);
  });
  it("gives the same text for the same arguments, different text per precision", () => {
    expect(kernelsWat("f32")).toBe(kernelsWat("f32"));
    expect(kernelsWat("f32")).not.toBe(kernelsWat("f64"));
  });
});
