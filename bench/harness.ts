/**
 * What the benchmarks share (bench/run.ts, bench/targets.ts): the networks A–D and their
 * synthetic data, the nnc training step, interleaved timing with paired ratios, the heap
 * measurement, and table formatting. One place for each rule; docs/performance.md describes them.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { loadModule, type CompiledModule } from "../runtime/load-module.js";
import { createOptimizer } from "../runtime/optimizers/index.js";
import { mulberry32 } from "../runtime/random.js";
import { ownCallSite } from "./call-site.js";
import type { NetworkSpec } from "./generic.js";

// ── the networks

export interface Network {
  readonly id: string;
  readonly file: string;
  readonly spec: NetworkSpec;
  /** the .nn layer names, in order (parameters `${name}.W`, `${name}.b`) */
  readonly layerNames: readonly string[];
  readonly batchSizes: readonly number[];
}

export const NETWORKS: readonly Network[] = [
  { id: "A", file: "a.nn", spec: { sizes: [2, 4, 1], hidden: ["tanh"], output: "sigmoid-binary-cross-entropy" }, layerNames: ["h", "o"], batchSizes: [1] },
  { id: "B", file: "b.nn", spec: { sizes: [64, 32, 10], hidden: ["relu"], output: "softmax-cross-entropy" }, layerNames: ["h", "y"], batchSizes: [1, 32] },
  { id: "C", file: "c.nn", spec: { sizes: [784, 128, 10], hidden: ["relu"], output: "softmax-cross-entropy" }, layerNames: ["h", "y"], batchSizes: [1, 32] },
  { id: "D", file: "d.nn", spec: { sizes: [784, 256, 256, 10], hidden: ["relu", "relu"], output: "softmax-cross-entropy" }, layerNames: ["h1", "h2", "y"], batchSizes: [32] },
];

export const POOL = 256; // samples in the synthetic data set, cycled through batch by batch
export const LR = 0.01;
export const SEED = 1;

const here = dirname(fileURLToPath(import.meta.url));
/** the repository root: these files run as dist/bench/*.js */
export const ROOT = [resolve(here, "..", ".."), resolve(here, "..")].find((r) => existsSync(join(r, "bench", "models")));
if (ROOT === undefined) throw new Error(`bench: cannot find bench/models above ${here}`);

export const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

// ── small utilities

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export function fail(msg: string): never {
  process.stderr.write(`\nbench: FAILED: ${msg}\n`);
  process.exit(1);
}

// ── data: a fixed synthetic pool, cut into batches (views: nothing is copied per step)

export interface Data {
  readonly x: Float64Array;
  readonly t: Float64Array;
}

/** one batch: views of the pool's rows (the shape of tfjs.ts's TfBatch) */
export type Batch = Data;

export function makeData(net: Network): Data {
  const nx = net.spec.sizes[0]!;
  const ny = net.spec.sizes[net.spec.sizes.length - 1]!;
  const random = mulberry32(12345);
  const x = new Float64Array(POOL * nx);
  const t = new Float64Array(POOL * ny);
  for (let n = 0; n < POOL; n++) {
    if (ny === 1) {
      // XOR-like: the label is whether the two coordinates have different signs
      for (let j = 0; j < nx; j++) x[n * nx + j] = 2 * random() - 1;
      t[n] = x[n * nx]! * x[n * nx + 1]! < 0 ? 1 : 0;
    } else {
      // pixel-like inputs in [0, 1), a random class one-hot
      for (let j = 0; j < nx; j++) x[n * nx + j] = random();
      t[n * ny + Math.floor(random() * ny)] = 1;
    }
  }
  return { x, t };
}

export function batchesOf(net: Network, data: Data, count: number): Batch[] {
  const nx = net.spec.sizes[0]!;
  const ny = net.spec.sizes[net.spec.sizes.length - 1]!;
  const out: Batch[] = [];
  for (let k = 0; k + count <= POOL; k += count)
    out.push({ x: data.x.subarray(k * nx, (k + count) * nx), t: data.t.subarray(k * ny, (k + count) * ny) });
  return out;
}

// ── timing
//
// All implementations of one network/batch cell are warmed up, then timed in interleaved rounds:
// each round runs one loop of every implementation in turn. On a shared 2-core machine the load
// from other processes drifts over seconds; interleaving exposes every implementation to the same
// drift, and the ratios are taken per round (paired) before the median.

/** one implementation of a cell; `impl` names it (unique within the cell) */
export interface Contestant<K extends string = string> {
  readonly impl: K;
  /** called (and awaited) before its warm-up and before each of its loops, e.g. to select a tfjs backend */
  readonly prepare: () => Promise<void>;
  readonly step: (i: number) => void;
  /** waits until the step's results exist (tfjs); nnc and generic are synchronous */
  readonly sync: () => void;
  readonly settings: { readonly warmupMs: number; readonly loopMs: number };
}

export interface Timing {
  /** median samples per second over the loops */
  readonly samplesPerSec: number;
  readonly min: number;
  readonly max: number;
  readonly loops: number;
  readonly stepsPerLoop: number;
  readonly warmupSteps: number;
  readonly warmupMs: number;
  /** samples per second of each loop, one per round */
  readonly perLoop: number[];
}

export async function timeInterleaved<K extends string>(contestants: readonly Contestant<K>[], batch: number, rounds: number): Promise<Map<K, Timing>> {
  const state = new Map<K, { i: number; stepsPerLoop: number; warmupSteps: number; warmupMs: number; perLoop: number[] }>();
  for (const c of contestants) {
    await c.prepare();
    let i = 0;
    const w0 = nowMs();
    while (i < 5 || nowMs() - w0 < c.settings.warmupMs) c.step(i++);
    c.sync();
    const warmupMs = nowMs() - w0;
    const stepsPerLoop = Math.max(1, Math.round((i / warmupMs) * c.settings.loopMs));
    state.set(c.impl, { i, stepsPerLoop, warmupSteps: i, warmupMs, perLoop: [] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of contestants) {
      const st = state.get(c.impl)!;
      await c.prepare();
      gc?.();
      const t0 = nowMs();
      for (let s = 0; s < st.stepsPerLoop; s++) c.step(st.i++);
      c.sync();
      const seconds = (nowMs() - t0) / 1000;
      st.perLoop.push((st.stepsPerLoop * batch) / seconds);
    }
  }
  const out = new Map<K, Timing>();
  for (const [impl, st] of state)
    out.set(impl, {
      samplesPerSec: median(st.perLoop),
      min: Math.min(...st.perLoop),
      max: Math.max(...st.perLoop),
      loops: rounds,
      stepsPerLoop: st.stepsPerLoop,
      warmupSteps: st.warmupSteps,
      warmupMs: st.warmupMs,
      perLoop: st.perLoop,
    });
  return out;
}

/** of ÷ against, round by round (both timed in the same interleaved rounds): the paired ratios */
export function pairedRatios(of: Timing, against: Timing): number[] {
  return of.perLoop.map((x, r) => x / against.perLoop[r]!);
}

// ── heap allocated per call (with --expose-gc)

export interface HeapResult {
  /** calls in the short and the long run (long = 5 × short) */
  readonly calls: readonly [number, number];
  /** median over 3 trials of (Δlong − Δshort) / (long − short): fixed costs of the measurement cancel */
  readonly bytesPerCall: number;
  /** each trial's [Δ heapUsed short, Δ heapUsed long], in bytes */
  readonly trials: [number, number][];
  /** garbage collections that started during the timed calls: with any, the deltas are lower bounds */
  readonly gcsDuring: number;
}

/**
 * Bytes allocated per call of an already warmed-up function: heapUsed after − before a run of n
 * calls (gc() twice before), for n and 5n calls; the slope is the allocation per call.
 */
export async function heapPerCall(call: (i: number) => void, calls: number): Promise<HeapResult | null> {
  if (gc === undefined) return null;
  const gcStarts: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcStarts.push(e.startTime);
  });
  observer.observe({ entryTypes: ["gc"] });
  const windows: [number, number][] = [];
  const measure = (n: number): number => {
    gc!();
    gc!();
    const t0 = performance.now();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) call(i);
    const after = process.memoryUsage().heapUsed;
    windows.push([t0, performance.now()]);
    return after - before;
  };
  const short = calls;
  const long = 5 * calls;
  const trials: [number, number][] = [];
  for (let k = 0; k < 3; k++) trials.push([measure(short), measure(long)]);
  await new Promise((r) => setTimeout(r, 20)); // let the observer deliver
  observer.disconnect();
  const gcsDuring = gcStarts.filter((s) => windows.some(([t0, t1]) => s > t0 && s < t1)).length;
  return {
    calls: [short, long],
    bytesPerCall: median(trials.map(([d1, d2]) => (d2 - d1) / (long - short))),
    trials,
    gcsDuring,
  };
}

// ── module instances

let instances = 0;

/**
 * A module instance of its own: its own compiled code and, on the wasm target, its own memory
 * and createParams arena (which holds a few parameter sets only). loadModule imports the
 * module's JavaScript from a data: URL, which the loader caches, so each instance gets a distinct
 * trailing comment.
 */
export function loadInstance(js: string): Promise<CompiledModule> {
  return loadModule(`${js}\n// instance ${++instances}\n`);
}

/**
 * Whether all these arrays are views of one module's kernel memory (createParams' arena) rather
 * than plain arrays: a wasm module's createParams falls back to plain arrays, which every call
 * then copies in and out, when its arena is full.
 */
export function inKernelMemory(...sets: readonly Record<string, Float64Array>[]): boolean {
  const arrays = sets.flatMap((s) => Object.values(s));
  const buffer = arrays[0]?.buffer;
  return buffer !== undefined && arrays.every((a) => a.buffer === buffer && buffer.byteLength > a.byteLength);
}

// ── verification

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d; // NaN propagates as "not ≤"
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * The largest difference between two parameter-shaped sets, each tensor's relative to the largest
 * entry of that tensor in `ref` (the scale of the tensor): for comparing results that are summed
 * in another order.
 */
export function maxRelDiff(a: Record<string, Float64Array>, ref: Record<string, Float64Array>): number {
  let worst = 0;
  for (const [name, r] of Object.entries(ref)) {
    const got = a[name];
    const d = got === undefined ? Infinity : maxAbsDiff(got, r) / Math.max(maxAbs(r), 1e-300);
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

export function checkFinite(label: string, impl: string, arrays: readonly Float64Array[]): void {
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) fail(`${label} ${impl}: parameters became non-finite during timing`);
}

// ── the nnc step

export interface NncStep {
  readonly params: Record<string, Float64Array>;
  readonly grad: Record<string, Float64Array>;
  /** sgdStep */
  step(i: number): void;
  /** gradientBatch, then sgdUpdate */
  splitStep(i: number): void;
  gradientOnly(i: number): void;
}

export function nncStep(m: CompiledModule, batches: readonly Batch[], count: number): NncStep {
  // the benchmark compiles f64 modules (no --precision): their arrays are Float64Arrays
  const params = m.createParams() as Record<string, Float64Array>;
  m.initParams(params, SEED);
  const grad = m.createParams() as Record<string, Float64Array>;
  const pairs = Object.keys(params).map((k) => [params[k]!, grad[k]!] as const);
  const inputs = batches.map((b) => ({ x: b.x }));
  const targets = batches.map((b) => ({ t: b.t }));
  const nb = batches.length;
  const gradientOnly = ownCallSite<(i: number) => void>(
    "(m, params, inputs, targets, count, grad, nb) => (i) => { const j = i % nb; m.gradientBatch(params, inputs[j], targets[j], count, grad); }",
  )(m, params, inputs, targets, count, grad, nb);
  const step = ownCallSite<(i: number) => void>(
    "(m, params, inputs, targets, count, lr, grad, nb) => (i) => { const j = i % nb; m.sgdStep(params, inputs[j], targets[j], count, lr, grad); }",
  )(m, params, inputs, targets, count, LR, grad, nb);
  const splitStep = ownCallSite<(i: number) => void>(
    "(m, params, inputs, targets, count, grad, nb, update, pairs, lr) => (i) => { const j = i % nb; m.gradientBatch(params, inputs[j], targets[j], count, grad); update(pairs, lr); }",
  )(m, params, inputs, targets, count, grad, nb, sgdUpdate, pairs, LR);
  return { params, grad, step, splitStep, gradientOnly };
}

/**
 * θ ← θ − lr·g over the module's parameter arrays, written like GenericMLP.sgd (lr an argument,
 * the length hoisted, no destructuring). The first version, a destructuring loop reading the
 * module-level LR inside the step closure, ran at 1.7 ns per element on C's sizes against 1.2 ns for
 * GenericMLP.sgd (this one: 1.1 ns), which charged nnc's step alone for the slower update.
 */
export function sgdUpdate(pairs: readonly (readonly [Float64Array, Float64Array])[], lr: number): void {
  for (let k = 0; k < pairs.length; k++) {
    const pair = pairs[k]!;
    const p = pair[0];
    const g = pair[1];
    const n = p.length;
    for (let q = 0; q < n; q++) p[q]! -= lr * g[q]!;
  }
}

// ── Adam, fused and split

/** Adam's learning rate in the benchmarks; β₁, β₂ and ε take their defaults (0.9, 0.999, 1e-8) */
export const ADAM_LR = 0.001;

export type AdamWay = "fused" | "split";

/**
 * One Adam step of module `m`, one of two ways, on parameters of its own (createParams,
 * initParams(SEED)). "fused" is the module's optimizerStep with its createOptimizerState({ name:
 * "adam", lr }): the gradient and the update in one call. "split" is gradientBatch followed by the
 * runtime's Adam (runtime/optimizers/adam.ts), a separate pass over the parameters.
 */
export function adamStep(m: CompiledModule, batches: readonly Batch[], count: number, way: AdamWay): AdamStep {
  // the benchmark compiles f64 modules (no --precision): their arrays are Float64Arrays
  const params = m.createParams() as Record<string, Float64Array>;
  m.initParams(params, SEED);
  const grad = m.createParams() as Record<string, Float64Array>;
  const inputs = batches.map((b) => ({ x: b.x }));
  const targets = batches.map((b) => ({ t: b.t }));
  const nb = batches.length;
  if (way === "fused") {
    const state = m.createOptimizerState({ name: "adam", lr: ADAM_LR });
    const step = ownCallSite<(i: number) => void>(
      "(m, params, state, inputs, targets, count, grad, nb) => (i) => { const j = i % nb; m.optimizerStep(params, state, inputs[j], targets[j], count, grad); }",
    )(m, params, state, inputs, targets, count, grad, nb);
    return { params, moduleArrays: [params, grad, state.buffers.m! as Record<string, Float64Array>, state.buffers.v! as Record<string, Float64Array>], step };
  }
  const optimizer = createOptimizer({ name: "adam", args: { lr: ADAM_LR } }, params);
  const step = ownCallSite<(i: number) => void>(
    "(m, params, optimizer, inputs, targets, count, grad, nb, lr) => (i) => { const j = i % nb; m.gradientBatch(params, inputs[j], targets[j], count, grad); optimizer.step(params, grad, lr); }",
  )(m, params, optimizer, inputs, targets, count, grad, nb, ADAM_LR);
  return { params, moduleArrays: [params, grad], step };
}

export interface AdamStep {
  readonly params: Record<string, Float64Array>;
  /** the parameter-shaped sets made by the module's createParams (params, grad, the fused step's m and v) */
  readonly moduleArrays: readonly Record<string, Float64Array>[];
  step(i: number): void;
}

// ── report formatting

export function fmtRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (x >= 100) return `${x.toFixed(0)}×`;
  if (x >= 10) return `${x.toFixed(1)}×`;
  return `${x.toFixed(2)}×`;
}

/** the median of paired per-round ratios and their range: "1.92× (1.78–1.97×)" */
export function fmtRange(rs: readonly number[]): string {
  if (rs.length === 0) return "–";
  return `${fmtRatio(median(rs))} (${fmtRatio(Math.min(...rs)).replace("×", "")}–${fmtRatio(Math.max(...rs))})`;
}

export function table(header: readonly string[], body: readonly (readonly string[])[], align: readonly ("l" | "r")[]): { text: string; markdown: string } {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  const pad = (s: string, c: number): string => (align[c] === "r" ? s.padStart(widths[c]!) : s.padEnd(widths[c]!));
  const text = [header.map(pad).join("  "), widths.map((w) => "─".repeat(w)).join("  "), ...body.map((r) => r.map(pad).join("  "))].join("\n");
  const cell = (s: string): string => s.replace(/\|/g, "\\|");
  const markdown = [
    `| ${header.map(cell).join(" | ")} |`,
    `| ${align.map((a) => (a === "r" ? "---:" : "---")).join(" | ")} |`,
    ...body.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
  return { text: `${text}\n`, markdown: `${markdown}\n` };
}
