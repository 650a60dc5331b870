/**
 * The convolution kernels (compiler/codegen/wasm/conv.ts) against plain JavaScript loops over the
 * definition, on random data, for mnist-cnn's layers, strided, "valid", even and odd kernels,
 * asymmetric padding, in both precisions. f32 is compared with the reference computed from the
 * float32-rounded inputs, within 1e-5 of Σ|terms| of each entry; f64 within 1e-13 of it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWat } from "../../compiler/codegen/wasm/assemble.js";
import {
  convModuleWat,
  convExportNames,
  convFunctionsWat,
  convOutputShape,
  convScratchBytes,
  DEFAULT_CONV_BLOCKING,
  type ConvBlocking,
  type ConvFunctions,
  type ConvShape,
} from "../../compiler/codegen/wasm/conv.js";
import { ELEMENT_BYTES, KERNEL_MEMORY_MODULE, KERNEL_MEMORY_NAME, type Precision } from "../../compiler/codegen/wasm/kernels.js";
import { rng } from "../helpers/random.js";

const shape = (C: number, H: number, W: number, O: number, k: number, stride: number, pads: [number, number, number, number]): ConvShape => ({
  channels: C, height: H, width: W, filters: O, kernel: k, stride, pads,
});
/** "same" by the language's rule: (k − 1)/2 each side, the odd one out at the bottom/right */
const same = (k: number): [number, number, number, number] => [Math.floor((k - 1) / 2), Math.floor((k - 1) / 2), Math.ceil((k - 1) / 2), Math.ceil((k - 1) / 2)];

const LAYERS: { name: string; shape: ConvShape }[] = [
  { name: "mnist_c1", shape: shape(1, 28, 28, 8, 3, 1, same(3)) },
  { name: "mnist_c2", shape: shape(8, 14, 14, 16, 3, 1, same(3)) },
  { name: "strided_valid", shape: shape(3, 13, 11, 5, 3, 2, [0, 0, 0, 0]) },
  { name: "even_same", shape: shape(2, 9, 10, 3, 4, 1, same(4)) },
  { name: "even_strided", shape: shape(2, 8, 8, 3, 2, 2, [0, 0, 0, 0]) },
  { name: "stride3_asym", shape: shape(3, 12, 9, 7, 5, 3, [2, 1, 0, 3]) },
  { name: "k1_stride2", shape: shape(4, 7, 7, 6, 1, 2, [0, 0, 0, 0]) },
  { name: "whole_image", shape: shape(2, 5, 5, 3, 5, 1, [0, 0, 0, 0]) },
  { name: "wide_pad", shape: shape(1, 3, 4, 2, 3, 1, [2, 2, 2, 2]) },
];

const TOL: Record<Precision, number> = { f64: 1e-13, f32: 1e-5 };

interface Lib {
  memory: WebAssembly.Memory;
  precision: Precision;
  fns: (name: string) => ConvFunctions;
}

async function instantiate(precision: Precision, blocking?: ConvBlocking): Promise<Lib> {
  const bytes = await assembleWat(convModuleWat(precision, LAYERS, blocking));
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { instance } = await WebAssembly.instantiate(bytes, { [KERNEL_MEMORY_MODULE]: { [KERNEL_MEMORY_NAME]: memory } });
  const ex = instance.exports as Record<string, (...a: number[]) => void>;
  return {
    memory,
    precision,
    fns: (name) => {
      const n = convExportNames(name);
      return { forward: ex[n.forward]!, backwardData: ex[n.backwardData]!, backwardWeight: ex[n.backwardWeight]! } as ConvFunctions;
    },
  };
}

class Arena {
  private next = 16;
  constructor(private readonly lib: Lib) {}
  alloc(n: number): number {
    const at = this.next;
    this.next = (at + n * ELEMENT_BYTES[this.lib.precision] + 15 + 16) & ~15;
    if (this.next > this.lib.memory.buffer.byteLength) throw new Error("arena full");
    return at;
  }
  view(at: number, n: number): Float64Array | Float32Array {
    return this.lib.precision === "f64" ? new Float64Array(this.lib.memory.buffer, at, n) : new Float32Array(this.lib.memory.buffer, at, n);
  }
  fill(at: number, n: number, random: () => number): Float64Array {
    const v = this.view(at, n);
    for (let i = 0; i < n; i++) v[i] = 2 * random() - 1;
    return Float64Array.from(v);
  }
  read(at: number, n: number): Float64Array {
    return Float64Array.from(this.view(at, n));
  }
}

function worst(got: Float64Array, want: Float64Array, mag: Float64Array): number {
  expect(got.length).toBe(want.length);
  let w = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(mag[i]!, 1e-300);
    w = Math.max(w, Number.isNaN(e) ? Infinity : e);
  }
  return w;
}

/**
 * The definition, one (sample, filter, output position, channel, tap) at a time: calls
 * visit(xIndex, wIndex, yIndex) for every product X[x]·W[w] that enters Y[y].
 */
function eachProduct(s: ConvShape, rows: number, visit: (x: number, w: number, y: number) => void): void {
  const { channels: C, height: H, width: W, filters: O, kernel: k, stride } = s;
  const [pt, pl] = s.pads;
  const [, OH, OW] = convOutputShape(s);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++)
          for (let c = 0; c < C; c++)
            for (let u = 0; u < k; u++)
              for (let v = 0; v < k; v++) {
                const y = i * stride + u - pt, x = j * stride + v - pl;
                if (y < 0 || y >= H || x < 0 || x >= W) continue;
                visit(((r * C + c) * H + y) * W + x, ((o * C + c) * k + u) * k + v, ((r * O + o) * OH + i) * OW + j);
              }
}

for (const precision of ["f64", "f32"] as const) {
  describe(`conv kernels, ${precision}`, () => {
    let lib: Lib;
    beforeAll(async () => {
      lib = await instantiate(precision);
    });
    const tol = TOL[precision];

    for (const { name, shape: s } of LAYERS) {
      it(`${name}: forward, input gradient and weight gradient match the definition`, () => {
        const random = rng(name.length * 7 + (precision === "f64" ? 1 : 2));
        const { channels: C, height: H, width: W, filters: O, kernel: k } = s;
        const [, OH, OW] = convOutputShape(s);
        const fns = lib.fns(name);
        for (const rows of [1, 3]) {
          const A = new Arena(lib);
          const nX = rows * C * H * W, nW = O * C * k * k, nY = rows * O * OH * OW;
          const pX = A.alloc(nX), pW = A.alloc(nW), pb = A.alloc(O), pY = A.alloc(nY), pD = A.alloc(nY);
          const pDX = A.alloc(nX), pdW = A.alloc(nW), pdb = A.alloc(O);
          const guard = A.alloc(16);
          const scratch = A.alloc(convScratchBytes(precision, s) / ELEMENT_BYTES[precision]);
          const X = A.fill(pX, nX, random), Wt = A.fill(pW, nW, random), b = A.fill(pb, O, random), D = A.fill(pD, nY, random);
          const DX0 = A.fill(pDX, nX, random), dW0 = A.fill(pdW, nW, random), db0 = A.fill(pdb, O, random);
          const guard0 = A.fill(guard, 16, random);
          A.fill(pY, nY, random);
          const at = `rows=${rows}`;

          // forward, with bias and relu, then without either
          for (const [bias, relu] of [[true, true], [false, false]] as const) {
            const Y = new Float64Array(nY), mag = new Float64Array(nY);
            if (bias) for (let e = 0; e < nY; e++) (Y[e] = b[Math.floor(e / (OH * OW)) % O]!), (mag[e] = Math.abs(Y[e]!));
            eachProduct(s, rows, (x, w, y) => ((Y[y] = Y[y]! + X[x]! * Wt[w]!), (mag[y] = mag[y]! + Math.abs(X[x]! * Wt[w]!))));
            if (relu) for (let e = 0; e < nY; e++) Y[e] = Math.max(Y[e]!, 0);
            fns.forward(pX, pW, bias ? pb : 0, pY, rows, relu ? 1 : 0, scratch);
            expect(worst(A.read(pY, nY), Y, mag), `${at} forward bias=${bias} relu=${relu}`).toBeLessThan(tol);
          }

          // input gradient: overwrite, then accumulate onto DX0
          for (const accumulate of [false, true]) {
            A.view(pDX, nX).set(DX0);
            const DX = accumulate ? Float64Array.from(DX0) : new Float64Array(nX);
            const mag = DX.map(Math.abs);
            eachProduct(s, rows, (x, w, y) => ((DX[x] = DX[x]! + D[y]! * Wt[w]!), (mag[x] = mag[x]! + Math.abs(D[y]! * Wt[w]!))));
            fns.backwardData(pD, pW, pDX, rows, accumulate ? 1 : 0, scratch);
            expect(worst(A.read(pDX, nX), DX, mag), `${at} input gradient accumulate=${accumulate}`).toBeLessThan(tol);
          }

          // weight gradient (accumulates), with db, then db = 0 leaves db alone
          for (const bias of [true, false]) {
            A.view(pdW, nW).set(dW0);
            A.view(pdb, O).set(db0);
            const dW = Float64Array.from(dW0), magW = dW0.map(Math.abs);
            const db = Float64Array.from(db0), magb = db0.map(Math.abs);
            eachProduct(s, rows, (x, w, y) => ((dW[w] = dW[w]! + D[y]! * X[x]!), (magW[w] = magW[w]! + Math.abs(D[y]! * X[x]!))));
            for (let e = 0; e < nY; e++) {
              const o = Math.floor(e / (OH * OW)) % O;
              db[o] = db[o]! + D[e]!;
              magb[o] = magb[o]! + Math.abs(D[e]!);
            }
            fns.backwardWeight(pD, pX, pdW, bias ? pdb : 0, rows, scratch);
            expect(worst(A.read(pdW, nW), dW, magW), `${at} weight gradient`).toBeLessThan(tol);
            if (bias) expect(worst(A.read(pdb, O), db, magb), `${at} bias gradient`).toBeLessThan(tol);
            else expect(A.read(pdb, O)).toEqual(db0);
          }
          // nothing between the tensors and the scratch was written; the inputs are unchanged
          expect(A.read(guard, 16)).toEqual(guard0);
          expect(A.read(pX, nX)).toEqual(X);
          expect(A.read(pD, nY)).toEqual(D);
          expect(A.read(pW, nW)).toEqual(Wt);
        }
      });
    }

    it("rows = 0 writes nothing", () => {
      const A = new Arena(lib);
      const s = LAYERS[2]!.shape;
      const fns = lib.fns(LAYERS[2]!.name);
      const p = A.alloc(64);
      const before = A.fill(p, 64, rng(3));
      const scratch = A.alloc(convScratchBytes(precision, s) / ELEMENT_BYTES[precision]);
      fns.forward(16, 16, 0, p, 0, 0, scratch);
      fns.backwardData(16, 16, p, 0, 0, scratch);
      fns.backwardWeight(16, 16, p, p + 8, 0, scratch);
      expect(A.read(p, 64)).toEqual(before);
    });
  });
}

describe("conv kernels: blockings and the generator", () => {
  it("other blockings compute the same as the default", async () => {
    const variants: Partial<ConvBlocking>[] = [
      { outs: [1], cols: [1], weightOuts: [1], weightTaps: 1 },
      { outs: [3, 1], cols: [3, 2, 1], weightOuts: [4, 1], weightTaps: 9 },
    ];
    for (const precision of ["f64", "f32"] as const) {
      const base = await instantiate(precision);
      for (const v of variants) {
        const other = await instantiate(precision, { ...DEFAULT_CONV_BLOCKING, ...v });
        for (const { name, shape: s } of LAYERS) {
          const { channels: C, height: H, width: W, filters: O, kernel: k } = s;
          const [, OH, OW] = convOutputShape(s);
          const rows = 2, nX = rows * C * H * W, nW = O * C * k * k, nY = rows * O * OH * OW;
          const results = [base, other].map((lib) => {
            const A = new Arena(lib);
            const random = rng(5);
            const pX = A.alloc(nX), pW = A.alloc(nW), pY = A.alloc(nY), pDX = A.alloc(nX), pdW = A.alloc(nW);
            const scratch = A.alloc(convScratchBytes(precision, s) / ELEMENT_BYTES[precision]);
            A.fill(pX, nX, random), A.fill(pW, nW, random);
            A.view(pdW, nW).fill(0);
            const f = lib.fns(name);
            f.forward(pX, pW, 0, pY, rows, 0, scratch);
            f.backwardData(pY, pW, pDX, rows, 0, scratch);
            f.backwardWeight(pY, pX, pdW, 0, rows, scratch);
            return [A.read(pY, nY), A.read(pDX, nX), A.read(pdW, nW)];
          });
          for (let q = 0; q < 3; q++) {
            const [a, b] = [results[0]![q]!, results[1]![q]!];
            const scale = Math.max(...a.map(Math.abs), 1);
            for (let e = 0; e < a.length; e++) expect(Math.abs(a[e]! - b[e]!), `${name} ${JSON.stringify(v)} output ${q}`).toBeLessThan(scale * 1e3 * TOL[precision]);
          }
        }
      }
    }
  });
  it("rejects shapes and blockings it cannot generate", () => {
    const s = LAYERS[0]!.shape;
    expect(() => convFunctionsWat("f64", { ...s, kernel: 40 }, "x")).toThrow(/larger than the padded input/);
    expect(() => convFunctionsWat("f64", s, "x", { ...DEFAULT_CONV_BLOCKING, outs: [4, 2] })).toThrow(/ending in 1/);
    expect(() => convFunctionsWat("f64", s, "bad name")).toThrow(/bad name/);
  });
  it("is deterministic and differs per precision", () => {
    expect(convModuleWat("f64", LAYERS)).toBe(convModuleWat("f64", LAYERS));
    expect(convModuleWat("f32", LAYERS)).not.toBe(convModuleWat("f64", LAYERS));
  });
});
