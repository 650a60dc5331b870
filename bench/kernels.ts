/**
 * The WebAssembly SIMD kernels' benchmark (`npm run bench:kernels`): GFLOP/s of every kernel on
 * the layers of C = 784-128-10 and D = 784-256-256-10 at rows = 32, in f64 and f32; the training
 * step's GEMMs (forward of every layer, backward data of every layer but the first, weight
 * gradient of every layer); the same GEMMs as scalar JavaScript float64 loops, side by side; and
 * the machine's WebAssembly SIMD peak (independent mul+add chains held in registers).
 * Writes bench/results/kernels.md. Method: docs/performance.md, "WebAssembly kernels".
 *
 *   node dist/bench/kernels.js [--quick] [--blocking '{"forwardRows":[3,1]}']
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assembleWat } from "../compiler/codegen/wasm/assemble.js";
import {
  DEFAULT_BLOCKING,
  ELEMENT_BYTES,
  KERNEL_MEMORY_MODULE,
  KERNEL_MEMORY_NAME,
  kernelsWat,
  type KernelBlocking,
  type KernelFunctions,
  type Precision,
} from "../compiler/codegen/wasm/kernels.js";
import { compile } from "../compiler/pipeline.js";
import { loadModule } from "../runtime/load-module.js";
import { mulberry32 } from "../runtime/random.js";
import { ownCallSite } from "./call-site.js";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "./tfjs.js";

const QUICK = process.argv.includes("--quick");
const blockingArg = process.argv.indexOf("--blocking");
const BLOCKING_OVERRIDE: Partial<KernelBlocking> = blockingArg > 0 ? JSON.parse(process.argv[blockingArg + 1]!) : {};
const ROUNDS = QUICK ? 3 : 9;
const LOOP_MS = QUICK ? 40 : 120;
const WARMUP_MS = QUICK ? 100 : 600;
const ROWS = 32;
const NETS = [
  { name: "C", sizes: [784, 128, 10] },
  { name: "D", sizes: [784, 256, 256, 10] },
];

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "..", "..");
const log = (s: string) => process.stderr.write(s + "\n");

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

// ── scalar JavaScript float64 GEMMs (the fair baseline) ─────────────────────────────────────

/**
 * Y[r, i] = Σ_j X[r, j] W[i, j] + b[i], relu'd: four samples per pass over a W row (each W
 * element loaded once for four products), two partial sums per sample (8 independent chains);
 * 1.4× the plain one-sample four-partial-sum dot product on 784→128 in a quick test.
 */
function jsForward(X: Float64Array, W: Float64Array, b: Float64Array, Y: Float64Array, rows: number, m: number, k: number, relu: boolean): void {
  const k2 = k & ~1;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = r * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
    for (let i = 0; i < m; i++) {
      const wo = i * k;
      let a0 = 0, a1 = 0, b0 = 0, b1 = 0, c0 = 0, c1 = 0, d0 = 0, d1 = 0;
      let j = 0;
      for (; j < k2; j += 2) {
        const w0 = W[wo + j]!, w1 = W[wo + j + 1]!;
        a0 += X[x0 + j]! * w0; a1 += X[x0 + j + 1]! * w1;
        b0 += X[x1 + j]! * w0; b1 += X[x1 + j + 1]! * w1;
        c0 += X[x2 + j]! * w0; c1 += X[x2 + j + 1]! * w1;
        d0 += X[x3 + j]! * w0; d1 += X[x3 + j + 1]! * w1;
      }
      if (j < k) {
        const w = W[wo + j]!;
        a0 += X[x0 + j]! * w; b0 += X[x1 + j]! * w; c0 += X[x2 + j]! * w; d0 += X[x3 + j]! * w;
      }
      const bi = b[i]!;
      const z0 = a0 + a1 + bi, z1 = b0 + b1 + bi, z2 = c0 + c1 + bi, z3 = d0 + d1 + bi;
      Y[r * m + i] = relu && z0 < 0 ? 0 : z0;
      Y[(r + 1) * m + i] = relu && z1 < 0 ? 0 : z1;
      Y[(r + 2) * m + i] = relu && z2 < 0 ? 0 : z2;
      Y[(r + 3) * m + i] = relu && z3 < 0 ? 0 : z3;
    }
  }
  for (; r < rows; r++) {
    const xo = r * k;
    for (let i = 0; i < m; i++) {
      const wo = i * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j + 4 <= k; j += 4) {
        s0 += X[xo + j]! * W[wo + j]!;
        s1 += X[xo + j + 1]! * W[wo + j + 1]!;
        s2 += X[xo + j + 2]! * W[wo + j + 2]!;
        s3 += X[xo + j + 3]! * W[wo + j + 3]!;
      }
      for (; j < k; j++) s0 += X[xo + j]! * W[wo + j]!;
      const z = s0 + s1 + (s2 + s3) + b[i]!;
      Y[r * m + i] = relu && z < 0 ? 0 : z;
    }
  }
}

/** DX[r, j] = Σ_i D[r, i] W[i, j]: a W row axpy'd into DX row, four rows of W at a time. */
function jsBackwardData(D: Float64Array, W: Float64Array, DX: Float64Array, rows: number, m: number, k: number): void {
  DX.fill(0, 0, rows * k);
  for (let r = 0; r < rows; r++) {
    const xo = r * k, dO = r * m;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const d0 = D[dO + i]!, d1 = D[dO + i + 1]!, d2 = D[dO + i + 2]!, d3 = D[dO + i + 3]!;
      const w0 = i * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
      for (let j = 0; j < k; j++) DX[xo + j] = DX[xo + j]! + (d0 * W[w0 + j]! + d1 * W[w1 + j]! + d2 * W[w2 + j]! + d3 * W[w3 + j]!);
    }
    for (; i < m; i++) {
      const d = D[dO + i]!, wo = i * k;
      for (let j = 0; j < k; j++) DX[xo + j] = DX[xo + j]! + d * W[wo + j]!;
    }
  }
}

/** dW[i, j] += Σ_r D[r, i] X[r, j], db[i] += Σ_r D[r, i]: four samples per read-modify-write of a dW row (nnc's blocked sweep). */
function jsBackwardWeight(D: Float64Array, X: Float64Array, dW: Float64Array, db: Float64Array, rows: number, m: number, k: number): void {
  for (let i = 0; i < m; i++) {
    const wo = i * k;
    let r = 0, sb = 0;
    for (; r + 4 <= rows; r += 4) {
      const d0 = D[r * m + i]!, d1 = D[(r + 1) * m + i]!, d2 = D[(r + 2) * m + i]!, d3 = D[(r + 3) * m + i]!;
      sb += d0 + d1 + d2 + d3;
      const x0 = r * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      for (let j = 0; j < k; j++) dW[wo + j] = dW[wo + j]! + (d0 * X[x0 + j]! + d1 * X[x1 + j]! + d2 * X[x2 + j]! + d3 * X[x3 + j]!);
    }
    for (; r < rows; r++) {
      const d = D[r * m + i]!, xo = r * k;
      sb += d;
      for (let j = 0; j < k; j++) dW[wo + j] = dW[wo + j]! + d * X[xo + j]!;
    }
    db[i] = db[i]! + sb;
  }
}

// ── the peak: independent mul+add chains in registers ───────────────────────────────────────

/**
 * `peak_N(iters)`: N vector accumulators, each updated `a = a*c + d` per iteration (a dependent
 * mul then add on the chain, N chains independent), c and d in registers; no memory access in
 * the loop. Flops per iteration: N · 2 · lanes.
 */
function peakWat(precision: Precision, chains: readonly number[]): string {
  const v = precision === "f64" ? "f64x2" : "f32x4";
  const t = precision;
  const fns = chains.map((N) => {
    const locals = Array.from({ length: N }, (_, i) => `(local $a${i} v128)`).join(" ");
    const init = Array.from({ length: N }, (_, i) => `(local.set $a${i} (${v}.splat (${t}.const ${1 + i / 64})))`).join("\n    ");
    const body = Array.from({ length: N }, (_, i) => `(local.set $a${i} (${v}.add (${v}.mul (local.get $a${i}) (local.get $c)) (local.get $d)))`).join("\n      ");
    let sum = "(local.get $a0)";
    for (let i = 1; i < N; i++) sum = `(${v}.add ${sum} (local.get $a${i}))`;
    return `  (func (export "peak_${N}") (param $n i32) (result ${t}) (local $c v128) (local $d v128) ${locals}
    (local.set $c (${v}.splat (${t}.const 0.999)))
    (local.set $d (${v}.splat (${t}.const 0.001)))
    ${init}
    (loop $L
      ${body}
      (br_if $L (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (${v}.extract_lane 0 ${sum}))`;
  });
  return `(module\n${fns.join("\n")}\n)\n`;
}

// ── the workloads ─────────────────────────────────────────────────────────────────────────────

interface Item {
  id: string;
  group: string;
  flops: number;
  run: () => void;
}

interface Layer {
  m: number;
  k: number;
}

const layersOf = (sizes: number[]): Layer[] => sizes.slice(1).map((m, l) => ({ m, k: sizes[l]! }));
const gemmFlops = (l: Layer) => 2 * ROWS * l.m * l.k;

/** the flops of a step's GEMMs: forward of every layer, data of all but the first, weight of every layer */
const stepFlops = (layers: Layer[]) => layers.reduce((s, l, i) => s + gemmFlops(l) * (i === 0 ? 2 : 3), 0);

async function wasmItems(precision: Precision, blocking: KernelBlocking): Promise<Item[]> {
  const bytes = await assembleWat(kernelsWat(precision, blocking));
  const memory = new WebAssembly.Memory({ initial: 256 }); // 16 MiB
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), { [KERNEL_MEMORY_MODULE]: { [KERNEL_MEMORY_NAME]: memory } });
  const K = instance.exports as unknown as KernelFunctions;
  const eb = ELEMENT_BYTES[precision];
  let next = 64;
  const random = mulberry32(precision === "f64" ? 11 : 12);
  const alloc = (n: number) => {
    const at = next;
    next = (next + n * eb + 63) & ~63;
    const view = precision === "f64" ? new Float64Array(memory.buffer, at, n) : new Float32Array(memory.buffer, at, n);
    for (let i = 0; i < n; i++) view[i] = 2 * random() - 1;
    return at;
  };
  const items: Item[] = [];
  for (const net of NETS) {
    const layers = layersOf(net.sizes);
    const L = layers.map((l) => ({ ...l, X: alloc(ROWS * l.k), W: alloc(l.m * l.k), b: alloc(l.m), Y: alloc(ROWS * l.m), D: alloc(ROWS * l.m), DX: alloc(ROWS * l.k), dW: alloc(l.m * l.k), db: alloc(l.m) }));
    L.forEach((l, i) => {
      const shape = `${l.k}→${l.m}`;
      const relu = i + 1 < L.length ? 1 : 0;
      items.push({ id: `${precision} ${net.name} forward ${shape}`, group: `${precision} forward`, flops: gemmFlops(l), run: () => K.dense_forward(l.X, l.W, l.b, l.Y, ROWS, l.m, l.k, relu) });
      if (i > 0) items.push({ id: `${precision} ${net.name} backward_data ${shape}`, group: `${precision} backward_data`, flops: gemmFlops(l), run: () => K.dense_backward_data(l.D, l.W, l.DX, ROWS, l.m, l.k, 0) });
      items.push({ id: `${precision} ${net.name} backward_weight ${shape}`, group: `${precision} backward_weight`, flops: gemmFlops(l), run: () => K.dense_backward_weight(l.D, l.X, l.dW, l.db, ROWS, l.m, l.k) });
    });
    items.push({
      id: `${precision} ${net.name} step`,
      group: `${precision} step`,
      flops: stepFlops(layers),
      run: () => {
        for (let i = 0; i < L.length; i++) {
          const l = L[i]!;
          K.dense_forward(l.X, l.W, l.b, l.Y, ROWS, l.m, l.k, i + 1 < L.length ? 1 : 0);
        }
        for (let i = L.length - 1; i >= 0; i--) {
          const l = L[i]!;
          K.dense_backward_weight(l.D, l.X, l.dW, l.db, ROWS, l.m, l.k);
          if (i > 0) K.dense_backward_data(l.D, l.W, l.DX, ROWS, l.m, l.k, 0);
        }
      },
    });
  }
  // keep the accumulating gradients bounded: the timing loops add into dW thousands of times
  return items;
}

function jsItems(): Item[] {
  const random = mulberry32(13);
  const arr = (n: number) => Float64Array.from({ length: n }, () => 2 * random() - 1);
  const items: Item[] = [];
  for (const net of NETS) {
    const layers = layersOf(net.sizes);
    const L = layers.map((l) => ({ ...l, X: arr(ROWS * l.k), W: arr(l.m * l.k), b: arr(l.m), Y: arr(ROWS * l.m), D: arr(ROWS * l.m), DX: arr(ROWS * l.k), dW: arr(l.m * l.k), db: arr(l.m) }));
    L.forEach((l, i) => {
      const shape = `${l.k}→${l.m}`;
      const relu = i + 1 < L.length;
      items.push({ id: `js ${net.name} forward ${shape}`, group: "js forward", flops: gemmFlops(l), run: () => jsForward(l.X, l.W, l.b, l.Y, ROWS, l.m, l.k, relu) });
      if (i > 0) items.push({ id: `js ${net.name} backward_data ${shape}`, group: "js backward_data", flops: gemmFlops(l), run: () => jsBackwardData(l.D, l.W, l.DX, ROWS, l.m, l.k) });
      items.push({ id: `js ${net.name} backward_weight ${shape}`, group: "js backward_weight", flops: gemmFlops(l), run: () => jsBackwardWeight(l.D, l.X, l.dW, l.db, ROWS, l.m, l.k) });
    });
    items.push({
      id: `js ${net.name} step`,
      group: "js step",
      flops: stepFlops(layers),
      run: () => {
        for (let i = 0; i < L.length; i++) {
          const l = L[i]!;
          jsForward(l.X, l.W, l.b, l.Y, ROWS, l.m, l.k, i + 1 < L.length);
        }
        for (let i = L.length - 1; i >= 0; i--) {
          const l = L[i]!;
          jsBackwardWeight(l.D, l.X, l.dW, l.db, ROWS, l.m, l.k);
          if (i > 0) jsBackwardData(l.D, l.W, l.DX, ROWS, l.m, l.k);
        }
      },
    });
  }
  return items;
}

/**
 * The current scalar JavaScript: nnc's own emitted module for the network (bench/models/c.nn,
 * d.nn; float64, default options), `gradientBatch` on one batch of 32. It computes the whole
 * gradient (activations, softmax, loss too), but its work is counted as the step's GEMM flops
 * alone, which flatters it slightly.
 */
async function nncItems(): Promise<Item[]> {
  const items: Item[] = [];
  for (const net of NETS) {
    const file = join(ROOT, "bench", "models", `${net.name.toLowerCase()}.nn`);
    const r = await compile(readFileSync(file, "utf8"), { file });
    if (!r.js) throw new Error(`${file} does not compile`);
    const m = await loadModule(r.js);
    const params = m.createParams();
    m.initParams(params, 1);
    const grad = m.createParams();
    const [xName] = Object.keys(m.meta.inputs) as [string];
    const [tName] = Object.keys(m.meta.targets) as [string];
    const nx = net.sizes[0]!, ny = net.sizes[net.sizes.length - 1]!;
    const random = mulberry32(14);
    const x = Float64Array.from({ length: ROWS * nx }, () => random());
    const t = new Float64Array(ROWS * ny);
    for (let n = 0; n < ROWS; n++) t[n * ny + Math.floor(random() * ny)] = 1;
    const run = ownCallSite<() => void>("(m, params, inputs, targets, rows, grad) => () => { m.gradientBatch(params, inputs, targets, rows, grad); }")(
      m, params, { [xName]: x }, { [tName]: t }, ROWS, grad,
    );
    items.push({ id: `nnc ${net.name} step`, group: "nnc step", flops: stepFlops(layersOf(net.sizes)), run });
  }
  return items;
}

/**
 * The same step's GEMMs with TensorFlow.js on its WASM backend (XNNPACK, SIMD, one thread;
 * float32), in tfjs's own layout and calls — the ones its autodiff makes for a dense layer:
 * kernels Wk = Wᵀ stored [in, out] as tf.layers.dense stores them, forward
 * `tf.fused.matMul({a: X, b: Wk, bias, activation})` (what tf.layers.dense calls), ∂Wk =
 * `tf.matMul(X, D, true)`, ∂b = `tf.sum(D, 0)`, ∂X = `tf.matMul(D, Wk, false, true)`, inside
 * `tf.tidy`. (Storing W as [out, in] instead makes tfjs transpose on every call: its forward then
 * runs ~10× slower, measured while writing this; that layout would be unfair to it.)
 */
async function tfjsItems(): Promise<Item[]> {
  await useBackend("wasm");
  const items: Item[] = [];
  for (const net of NETS) {
    const layers = layersOf(net.sizes);
    const L = layers.map((l) => ({
      X: tf.randomUniform([ROWS, l.k], -1, 1, "float32", 21),
      Wk: tf.randomUniform([l.k, l.m], -1, 1, "float32", 22),
      b: tf.randomUniform([l.m], -1, 1, "float32", 23),
      D: tf.randomUniform([ROWS, l.m], -1, 1, "float32", 24),
    }));
    items.push({
      id: `tfjs ${net.name} step`,
      group: "tfjs step",
      flops: stepFlops(layers),
      run: () =>
        // the backend runs each kernel when it is called (synchronously); tidy disposes the results
        tf.tidy(() => {
          L.forEach((l, i) => tf.fused.matMul({ a: l.X, b: l.Wk, bias: l.b, activation: i + 1 < L.length ? "relu" : "linear" }));
          for (let i = L.length - 1; i >= 0; i--) {
            const l = L[i]!;
            tf.matMul(l.X, l.D, true, false);
            tf.sum(l.D, 0);
            if (i > 0) tf.matMul(l.D, l.Wk, false, true);
          }
        }),
    });
  }
  return items;
}

const PEAK_CHAINS = [8, 10, 12, 14];
const PEAK_ITERS = 1 << 16;

async function peakItems(precision: Precision): Promise<Item[]> {
  const bytes = await assembleWat(peakWat(precision, PEAK_CHAINS), "peak.wat");
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), {});
  const lanes = precision === "f64" ? 2 : 4;
  let sink = 0;
  return PEAK_CHAINS.map((N) => {
    const f = instance.exports[`peak_${N}`] as (n: number) => number;
    return {
      id: `${precision} peak ${N} chains`,
      group: `${precision} peak`,
      flops: PEAK_ITERS * N * 2 * lanes,
      run: () => {
        sink += f(PEAK_ITERS);
        if (sink === 42) log("");
      },
    };
  });
}

// ── timing ────────────────────────────────────────────────────────────────────────────────────

function timeLoop(run: () => void, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) run();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const start = performance.now();
  const load0 = loadavg()[0]!;
  log(`kernels bench — ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, node ${process.version}, load ${load0.toFixed(2)}${QUICK ? " (quick)" : ""}`);
  const blocking = (p: Precision): KernelBlocking => ({ ...DEFAULT_BLOCKING[p], ...BLOCKING_OVERRIDE });
  const items = [
    ...(await peakItems("f64")),
    ...(await peakItems("f32")),
    ...(await wasmItems("f64", blocking("f64"))),
    ...(await wasmItems("f32", blocking("f32"))),
    ...jsItems(),
    ...(await nncItems()),
    ...(await tfjsItems()),
  ];
  // warm-up: V8 compiles wasm with Liftoff first and tiers hot functions up to TurboFan; JS
  // likewise from Ignition/Sparkplug to TurboFan. Each item runs WARMUP_MS (twice over, the
  // second pass sets the loop length at the optimized speed).
  const reps = new Map<string, number>();
  for (let pass = 0; pass < 2; pass++)
    for (const it of items) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < WARMUP_MS / 2) {
        it.run();
        n++;
      }
      reps.set(it.id, Math.max(1, Math.round((n * LOOP_MS) / (WARMUP_MS / 2))));
    }
  log(`warm-up done in ${((performance.now() - start) / 1000).toFixed(1)} s; ${ROUNDS} rounds of ${items.length} loops of ≈${LOOP_MS} ms`);
  const rates = new Map<string, number[]>(items.map((it) => [it.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const it of items) {
      const n = reps.get(it.id)!;
      const s = timeLoop(it.run, n);
      rates.get(it.id)!.push((it.flops * n) / s / 1e9);
    }
    log(`round ${round + 1}/${ROUNDS}`);
  }
  const gf = (id: string) => median(rates.get(id)!);
  const range = (id: string) => {
    const r = rates.get(id)!;
    return `${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}`;
  };
  const paired = (a: string, b: string) => {
    const ra = rates.get(a)!, rb = rates.get(b)!;
    return median(ra.map((x, i) => x / rb[i]!));
  };
  const peak = (p: Precision) => Math.max(...PEAK_CHAINS.map((N) => gf(`${p} peak ${N} chains`)));
  const f = (x: number) => x.toFixed(2);

  const lines: string[] = [];
  lines.push("# WebAssembly kernels: GFLOP/s at rows = 32", "");
  lines.push(
    `Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, node ${process.version}; load average ${load0.toFixed(2)} at the start, ` +
      `${loadavg()[0]!.toFixed(2)} at the end; ${((performance.now() - start) / 1000).toFixed(0)} s. ` +
      `Median of ${ROUNDS} interleaved rounds of ≈${LOOP_MS} ms loops after warm-up (Liftoff → TurboFan); ratios paired per round.` +
      (QUICK ? " **--quick: numbers indicative only.**" : ""),
    "",
  );
  if (Object.keys(BLOCKING_OVERRIDE).length) lines.push(`Blocking override: \`${JSON.stringify(BLOCKING_OVERRIDE)}\``, "");
  lines.push("**Peak** (independent `a = a·c + d` chains of v128 mul then add, in registers, no memory access):", "");
  lines.push("| precision | " + PEAK_CHAINS.map((N) => `${N} chains`).join(" | ") + " | peak |", "| --- |" + PEAK_CHAINS.map(() => " ---: |").join("") + " ---: |");
  for (const p of ["f64", "f32"] as const) lines.push(`| ${p} | ` + PEAK_CHAINS.map((N) => f(gf(`${p} peak ${N} chains`))).join(" | ") + ` | **${f(peak(p))}** |`);
  lines.push("");
  lines.push("**Per kernel and layer** (GFLOP/s; × JS = wasm ÷ scalar JavaScript float64, paired; % peak of its precision):", "");
  lines.push("| net | kernel | layer (k→m) | wasm f64 | wasm f32 | JS f64 | f64 × JS | f32 × JS | f64 % peak | f32 % peak |", "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const stepRows: string[] = [];
  for (const it of items) {
    if (!it.id.startsWith("f64 ") || it.group.includes("peak")) continue;
    const rest = it.id.slice(4); // "C forward 784→128" | "C step"
    const [net, kernel, shape] = rest.split(" ") as [string, string, string | undefined];
    const a = `f64 ${rest}`, b = `f32 ${rest}`, j = `js ${rest}`;
    const row = `| ${net} | ${kernel === "step" ? "**step GEMMs**" : kernel} | ${shape ?? "all"} | ${f(gf(a))} | ${f(gf(b))} | ${f(gf(j))} | ${f(paired(a, j))}× | ${f(paired(b, j))}× | ${((100 * gf(a)) / peak("f64")).toFixed(0)} % | ${((100 * gf(b)) / peak("f32")).toFixed(0)} % |`;
    if (kernel === "step") stepRows.push(row);
    else lines.push(row);
  }
  lines.push(...stepRows, "");
  lines.push("**Training step's GEMMs** (GFLOP/s, min–max over the rounds):", "");
  lines.push(
    "| net | GFLOP | wasm f64 | wasm f32 | JS f64 GEMMs | nnc gradientBatch | tfjs-wasm f32 |",
    "| --- | ---: | --- | --- | --- | --- | --- |",
  );
  for (const net of NETS) {
    const a = `f64 ${net.name} step`, b = `f32 ${net.name} step`, j = `js ${net.name} step`, n = `nnc ${net.name} step`, w = `tfjs ${net.name} step`;
    const flops = stepFlops(layersOf(net.sizes));
    lines.push(
      `| ${net.name} ${net.sizes.join("-")} | ${(flops / 1e9).toFixed(4)} | **${f(gf(a))}** (${range(a)}) | **${f(gf(b))}** (${range(b)}) | ${f(gf(j))} (${range(j)}) | ${f(gf(n))} (${range(n)}) | ${f(gf(w))} (${range(w)}) |`,
    );
  }
  lines.push("", "**Ratios** (paired per round; the issue's targets: f64 ≥ 2× the current scalar JavaScript and ≥ 2.5× tfjs-wasm, f32 ≥ 4× tfjs-wasm):", "");
  lines.push(
    "| net | f64 ÷ JS GEMMs | f32 ÷ JS GEMMs | f64 ÷ nnc | f32 ÷ nnc | f64 ÷ tfjs-wasm | f32 ÷ tfjs-wasm | f32 ÷ f64 |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const net of NETS) {
    const a = `f64 ${net.name} step`, b = `f32 ${net.name} step`, j = `js ${net.name} step`, n = `nnc ${net.name} step`, w = `tfjs ${net.name} step`;
    lines.push(
      `| ${net.name} | ${f(paired(a, j))}× | ${f(paired(b, j))}× | ${f(paired(a, n))}× | ${f(paired(b, n))}× | ${f(paired(a, w))}× | ${f(paired(b, w))}× | ${f(paired(b, a))}× |`,
    );
  }
  lines.push(
    "",
    "\"JS f64 GEMMs\" are this file's scalar loops for exactly the wasm step's GEMMs; \"nnc gradientBatch\" is nnc's emitted " +
      "float64 module computing the whole batch gradient (GEMMs, activations, softmax, loss), its rate counted on the GEMM flops alone; " +
      "\"tfjs-wasm f32\" is the same GEMMs (plus ∂b) with TensorFlow.js 4.22's WASM backend (XNNPACK, SIMD, one thread).",
  );
  lines.push("");
  const md = lines.join("\n");
  process.stdout.write(md + "\n");
  const out = join(ROOT, "bench", "results", QUICK || Object.keys(BLOCKING_OVERRIDE).length ? "kernels-scratch.md" : "kernels.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  log(`wrote ${out}`);
}

await main();
