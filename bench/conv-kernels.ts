/**
 * Direct convolution against im2col into the dense micro-kernels (`npm run bench:conv`), on
 * mnist-cnn's two convolution layers (1→8 and 8→16 channels, 3×3, "same", 28×28 and 14×14) at
 * rows = 32, in f64 and f32: GFLOP/s of the forward pass, the input gradient and the weight
 * gradient. im2col is timed twice: whole (the patch matrix built per sample, D transposed, the
 * gradient scattered back — in JavaScript over views of the memory) and its GEMMs alone (a lower
 * bound for any im2col, however fast its copies). Writes bench/results/conv-kernels.md; the
 * decision it supports is in docs/wasm.md, "Convolution".
 *
 *   node dist/bench/conv-kernels.js [--quick] [--blocking '{"outs":[2,1]}']
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assembleWat } from "../compiler/codegen/wasm/assemble.js";
import {
  convExportNames,
  convFunctionsWat,
  convOutputShape,
  convScratchBytes,
  DEFAULT_CONV_BLOCKING,
  type ConvBlocking,
  type ConvFunctions,
  type ConvShape,
} from "../compiler/codegen/wasm/conv.js";
import { ELEMENT_BYTES, KERNEL_MEMORY_MODULE, KERNEL_MEMORY_NAME, kernelsWat, type KernelFunctions, type Precision } from "../compiler/codegen/wasm/kernels.js";
import { mulberry32 } from "../runtime/random.js";

const QUICK = process.argv.includes("--quick");
const blockingArg = process.argv.indexOf("--blocking");
const BLOCKING: ConvBlocking = { ...DEFAULT_CONV_BLOCKING, ...(blockingArg > 0 ? (JSON.parse(process.argv[blockingArg + 1]!) as Partial<ConvBlocking>) : {}) };
const ROUNDS = QUICK ? 3 : 7;
const LOOP_MS = QUICK ? 40 : 100;
const ROWS = 32;
const LAYERS: { name: string; shape: ConvShape }[] = [
  { name: "c1", shape: { channels: 1, height: 28, width: 28, filters: 8, kernel: 3, stride: 1, pads: [1, 1, 1, 1] } },
  { name: "c2", shape: { channels: 8, height: 14, width: 14, filters: 16, kernel: 3, stride: 1, pads: [1, 1, 1, 1] } },
];
const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "..", "..");
const log = (s: string) => process.stderr.write(s + "\n");
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

interface Item {
  label: string;
  flops: number;
  run: () => void;
  times: number[];
}

async function setup(precision: Precision, items: Item[]): Promise<void> {
  const wat = [
    "(module",
    `  (import "${KERNEL_MEMORY_MODULE}" "${KERNEL_MEMORY_NAME}" (memory 0))`,
    ...LAYERS.flatMap((l) => convFunctionsWat(precision, l.shape, l.name, BLOCKING)),
    ")",
  ].join("\n");
  const memory = new WebAssembly.Memory({ initial: 1024 });
  const imports = { [KERNEL_MEMORY_MODULE]: { [KERNEL_MEMORY_NAME]: memory } };
  const conv = (await WebAssembly.instantiate(await assembleWat(wat), imports)).instance.exports as Record<string, (...a: number[]) => void>;
  const dense = (await WebAssembly.instantiate(await assembleWat(kernelsWat(precision)), imports)).instance.exports as unknown as KernelFunctions;
  const bytes = ELEMENT_BYTES[precision];
  const Arr = precision === "f64" ? Float64Array : Float32Array;
  let next = 16;
  const alloc = (n: number) => {
    const at = next;
    next = Math.ceil((at + n * bytes) / 16) * 16 + 16;
    return at;
  };
  const view = (at: number, n: number) => new Arr(memory.buffer, at, n);
  const random = mulberry32(1);
  for (const { name, shape: s } of LAYERS) {
    const { channels: C, height: H, width: W, filters: O, kernel: k, stride } = s;
    const [pt, pl] = s.pads;
    const [, OH, OW] = convOutputShape(s);
    const P = OH * OW, Ckk = C * k * k;
    const nX = ROWS * C * H * W, nY = ROWS * O * P, nW = O * Ckk;
    const pX = alloc(nX), pW = alloc(nW), pY = alloc(nY), pD = alloc(nY), pDX = alloc(nX), pdW = alloc(nW), pdb = alloc(O);
    const scratch = alloc(convScratchBytes(precision, s) / bytes);
    const pCol = alloc(P * Ckk), pDt = alloc(P * O);
    for (const [p, n] of [[pX, nX], [pW, nW], [pD, nY]] as const) view(p, n).forEach((_, i, a) => (a[i] = 2 * random() - 1));
    const n = convExportNames(name);
    const f: ConvFunctions = { forward: conv[n.forward]!, backwardData: conv[n.backwardData]!, backwardWeight: conv[n.backwardWeight]! } as ConvFunctions;
    const X = view(pX, nX), D = view(pD, nY), DX = view(pDX, nX), Col = view(pCol, P * Ckk), Dt = view(pDt, P * O);
    // patch index of every (position, column) of the patch matrix, −1 for padding: computed once
    const src = new Int32Array(P * Ckk);
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let c = 0; c < C; c++)
          for (let u = 0; u < k; u++)
            for (let v = 0; v < k; v++) {
              const y = i * stride + u - pt, x = j * stride + v - pl;
              src[(i * OW + j) * Ckk + (c * k + u) * k + v] = y < 0 || y >= H || x < 0 || x >= W ? -1 : (c * H + y) * W + x;
            }
    const im2col = (r: number) => {
      const base = r * C * H * W;
      for (let e = 0; e < src.length; e++) Col[e] = src[e]! < 0 ? 0 : X[base + src[e]!]!;
    };
    const transposeD = (r: number) => {
      const base = r * O * P;
      for (let o = 0; o < O; o++) for (let q = 0; q < P; q++) Dt[q * O + o] = D[base + o * P + q]!;
    };
    const col2im = (r: number) => {
      const base = r * C * H * W;
      DX.fill(0, base, base + C * H * W);
      for (let e = 0; e < src.length; e++) if (src[e]! >= 0) DX[base + src[e]!] = DX[base + src[e]!]! + Col[e]!;
    };
    const flops = 2 * ROWS * O * P * Ckk;
    const tag = `${name} ${C}→${O} ${H}×${W} ${precision}`;
    items.push(
      { label: `${tag} | forward | direct`, flops, times: [], run: () => f.forward(pX, pW, 0, pY, ROWS, 0, scratch) },
      { label: `${tag} | forward | im2col`, flops, times: [], run: () => { for (let r = 0; r < ROWS; r++) { im2col(r); dense.dense_forward(pW, pCol, 0, pY + r * O * P * bytes, O, P, Ckk, 0); } } },
      { label: `${tag} | forward | im2col GEMM only`, flops, times: [], run: () => { for (let r = 0; r < ROWS; r++) dense.dense_forward(pW, pCol, 0, pY + r * O * P * bytes, O, P, Ckk, 0); } },
      { label: `${tag} | weight gradient | direct`, flops, times: [], run: () => f.backwardWeight(pD, pX, pdW, pdb, ROWS, scratch) },
      { label: `${tag} | weight gradient | im2col`, flops, times: [], run: () => { for (let r = 0; r < ROWS; r++) { im2col(r); transposeD(r); dense.dense_backward_weight(pDt, pCol, pdW, pdb, P, O, Ckk); } } },
      { label: `${tag} | weight gradient | im2col GEMM only`, flops, times: [], run: () => { for (let r = 0; r < ROWS; r++) dense.dense_backward_weight(pDt, pCol, pdW, pdb, P, O, Ckk); } },
      { label: `${tag} | input gradient | direct`, flops, times: [], run: () => f.backwardData(pD, pW, pDX, ROWS, 0, scratch) },
      { label: `${tag} | input gradient | im2col`, flops, times: [], run: () => { for (let r = 0; r < ROWS; r++) { transposeD(r); dense.dense_backward_data(pDt, pW, pCol, P, O, Ckk, 0); col2im(r); } } },
      { label: `${tag} | input gradient | im2col GEMM only`, flops, times: [], run: () => { for (let r = 0; r < ROWS; r++) dense.dense_backward_data(pDt, pW, pCol, P, O, Ckk, 0); } },
    );
  }
  if (next > memory.buffer.byteLength) throw new Error("bench memory too small");
}

function timeLoop(run: () => void): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < LOOP_MS) {
    run();
    n++;
    t = performance.now();
  }
  return (t - t0) / 1000 / n;
}

async function main(): Promise<void> {
  const items: Item[] = [];
  for (const precision of ["f64", "f32"] as const) await setup(precision, items);
  const start = performance.now();
  for (const it of items) timeLoop(it.run); // warm-up (tier-up of the JavaScript, compilation of the wasm)
  for (let round = 0; round < ROUNDS; round++) for (const it of items) it.times.push(timeLoop(it.run));
  const rows = items.map((it) => {
    const t = median(it.times);
    return `| ${it.label} | ${(t * 1e6).toFixed(0)} | ${(it.flops / t / 1e9).toFixed(2)} |`;
  });
  const md = [
    "# Convolution kernels: direct against im2col (`npm run bench:conv`)",
    "",
    `${ROWS} samples per call, mnist-cnn's layers; median of ${ROWS === 32 ? ROUNDS : ROUNDS} rounds of ≈${LOOP_MS} ms loops, interleaved.`,
    `Blocking ${JSON.stringify(BLOCKING)}. ${cpus().length} × ${cpus()[0]?.model ?? "?"}, node ${process.version}, load average ${loadavg()[0]!.toFixed(2)} at the end (the machine is shared); ${((performance.now() - start) / 1000).toFixed(0)} s.`,
    "",
    "| layer | pass | method | µs per block | GFLOP/s |",
    "| --- | --- | --- | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
  const out = join(ROOT, "bench", "results", QUICK || blockingArg > 0 ? "conv-kernels-scratch.md" : "conv-kernels.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  log(md);
  log(`written to ${out}`);
}

await main();
