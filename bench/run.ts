/**
 * `npm run bench`: training-step throughput of nnc's emitted modules (both targets, ts and wasm)
 * against a hand-written generic JavaScript MLP (bench/generic.ts) and TensorFlow.js (CPU and WASM
 * backends), on the networks A–D of docs/performance.md and the CNN of examples/mnist-cnn.nn
 * (bench/conv-row.ts), in one run. Also: compile time and emitted size per network and target,
 * and the heap allocated per call of nnc's sgdStep and gradientBatch.
 *
 * One training step = forward + backward + plain SGD update on one batch. In each network/batch
 * cell every implementation is warmed up, then all are timed in interleaved rounds (one loop of a
 * fixed number of steps each per round, gc() before each loop when node runs with --expose-gc);
 * samples/s is the median over the rounds, ratios the median of the per-round ratios. Results: a
 * table on stdout, bench/results/latest.json and bench/results/latest.md.
 *
 * Options: --quick (short loops, for checking the harness), --only A,B (networks; CNN: the convolution row).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { compile, VERSION } from "../compiler/pipeline.js";
import { TARGETS as COMPILE_TARGETS, type Target } from "../compiler/target.js";
import { loadModule, type CompiledModule } from "../runtime/load-module.js";
import { GenericMLP } from "./generic.js";
import {
  adamStep,
  batchesOf,
  checkFinite,
  fail,
  fmtRange,
  fmtRate,
  fmtRatio,
  gc,
  heapPerCall,
  inKernelMemory,
  loadInstance,
  log,
  LR,
  makeData,
  maxAbs,
  maxAbsDiff,
  maxRelDiff,
  median,
  NETWORKS,
  nncStep,
  nowMs,
  pairedRatios,
  POOL,
  ROOT,
  SEED,
  table,
  timeInterleaved,
  type AdamStep,
  type AdamWay,
  type Batch,
  type Contestant,
  type HeapResult,
  type Network,
  type Timing,
} from "./harness.js";
import { benchConvolution, convolutionTable } from "./conv-row.js";
import { threadsInOwnProcess, threadsTable } from "./threads.js";
import { backendInfo, createTfTrainer, numTensors, useBackend, type TfBackend, type TfTrainer } from "./tfjs.js";

// ── configuration

/**
 * "nnc" is the module's sgdStep: the SGD update fused into the backward pass for a batch of one
 * (what `nnc train` runs for `optimizer sgd`). "nnc-wasm" is the same step of the module compiled
 * with `target: "wasm"` (dense layers of the batch functions as WebAssembly SIMD kernels), its
 * params and grad made by its own createParams, so that they live in the kernels' memory.
 * "nnc-split" is gradientBatch followed by the same update loop as the generic code's, the path
 * every other optimizer takes; it is informational, as is "generic+skip", the generic code
 * skipping zero-δ rows (see generic.ts).
 */
const IMPLS = ["nnc", "nnc-wasm", "nnc-wasm-f32", "nnc-split", "generic", "generic+skip", "tfjs-cpu", "tfjs-wasm"] as const;
type Impl = (typeof IMPLS)[number];

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const onlyArg = args.indexOf("--only");
const ONLY = onlyArg >= 0 ? new Set((args[onlyArg + 1] ?? "").toUpperCase().split(",")) : null;

// Timing settings: JavaScript implementations and tfjs (slower per step: longer loops).
// The JavaScript warm-up is long because TurboFan needs 0.1–0.5 s (idle–loaded machine, on the
// other core) to compile network B's large unrolled sampleGradient, which runs slower until then.
const JS_TIMING = QUICK ? { warmupMs: 100, loopMs: 50 } : { warmupMs: 1500, loopMs: 250 };
// tfjs keeps speeding up for ~2 s of steps (its many small functions get optimized one by one).
const TF_TIMING = QUICK ? { warmupMs: 100, loopMs: 50 } : { warmupMs: 2000, loopMs: 300 };
/** timed rounds per cell; each round runs one loop of every implementation */
const ROUNDS = QUICK ? 3 : 9;
const COMPILE_REPEATS = QUICK ? 1 : 3;
const GRAD_TOLERANCE = 1e-10; // generic vs nnc, absolute, float64
/** relative to the largest entry of each tensor: nnc-wasm vs nnc (the kernels sum in another order), Adam fused vs split */
const REL_TOLERANCE = 1e-10;
const TF_TOLERANCE = 1e-3; // tfjs (float32) vs nnc, relative to the largest gradient entry of the tensor

/**
 * Adam, fused against split, on both targets: "fused" is the module's optimizerStep (gradient and
 * update in one call), "split" is gradientBatch followed by the runtime's Adam update
 * (runtime/optimizers/adam.ts). The issue's target for fused ÷ split, where it sets one.
 */
const ADAM_CELLS: readonly { network: string; batch: number; target: number | null }[] = [
  { network: "B", batch: 1, target: 1.5 },
  { network: "B", batch: 32, target: 1 },
  { network: "C", batch: 32, target: null },
];
type AdamImpl = `${Target} ${AdamWay}`;
const ADAM_IMPLS: readonly AdamImpl[] = ["ts fused", "ts split", "wasm fused", "wasm split"];

/** The targets of the performance issue: nnc / other ≥ value. */
const TARGETS: readonly { network: string; batch: number; against: Impl; ratio: number }[] = [
  { network: "A", batch: 1, against: "generic", ratio: 2 },
  { network: "B", batch: 1, against: "generic", ratio: 2 },
  { network: "B", batch: 32, against: "generic", ratio: 1.5 },
  { network: "C", batch: 1, against: "generic", ratio: 1.5 },
  { network: "C", batch: 32, against: "generic", ratio: 1.5 },
  { network: "D", batch: 32, against: "generic", ratio: 1.5 },
  { network: "A", batch: 1, against: "tfjs-cpu", ratio: 1000 },
  { network: "B", batch: 1, against: "tfjs-cpu", ratio: 50 },
  { network: "A", batch: 1, against: "tfjs-wasm", ratio: 1 },
  { network: "B", batch: 1, against: "tfjs-wasm", ratio: 1 },
  { network: "B", batch: 32, against: "tfjs-wasm", ratio: 1 },
  { network: "C", batch: 1, against: "tfjs-wasm", ratio: 1 },
  { network: "C", batch: 32, against: "tfjs-wasm", ratio: 1 },
  { network: "D", batch: 32, against: "tfjs-wasm", ratio: 1 },
];

// ── verification

function copyParamsToGeneric(net: Network, params: Record<string, Float64Array>, g: GenericMLP): void {
  net.layerNames.forEach((name, l) => {
    g.W[l]!.set(params[`${name}.W`]!);
    g.b[l]!.set(params[`${name}.b`]!);
  });
}

// ── Adam, fused and split

/** fused ÷ split on one target, round by round */
function adamRatios(a: AdamRow, target: Target): number[] {
  return pairedRatios(a.timings[`${target} fused`], a.timings[`${target} split`]);
}

/**
 * Adam's four steps of one cell (ts and wasm, fused and split), each on parameters of its own (a
 * wasm instance of its own each), first checked — three steps from the same θ, fused and split
 * must agree — then timed in interleaved rounds.
 */
async function timeAdam(net: Network, count: number, batches: readonly Batch[], tsModule: CompiledModule, wasmSource: string, target: number | null): Promise<AdamRow> {
  const label = `${net.id}/b${count} adam`;
  const steps = new Map<AdamImpl, AdamStep>();
  for (const impl of ADAM_IMPLS) {
    const [t, way] = impl.split(" ") as [Target, AdamWay];
    const step = adamStep(t === "ts" ? tsModule : await loadInstance(wasmSource), batches, count, way);
    if (t === "wasm" && !inKernelMemory(...step.moduleArrays)) fail(`${label}: the wasm module's createParams arrays are not in its kernel memory`);
    steps.set(impl, step);
  }
  const fusedVsSplit = {} as Record<Target, number>;
  for (const t of COMPILE_TARGETS) {
    const fused = steps.get(`${t} fused`)!;
    const split = steps.get(`${t} split`)!;
    for (let i = 0; i < 3; i++) {
      fused.step(i);
      split.step(i);
    }
    fusedVsSplit[t] = maxRelDiff(fused.params, split.params);
    if (!(fusedVsSplit[t] <= REL_TOLERANCE)) fail(`${label} ${t}: after 3 steps the fused step's parameters differ from the split one's by ${fusedVsSplit[t]} relative to scale`);
  }
  const contestants = ADAM_IMPLS.map((impl): Contestant<AdamImpl> => ({ impl, prepare: async () => {}, step: steps.get(impl)!.step, sync: () => {}, settings: JS_TIMING }));
  const timings = await timeInterleaved(contestants, count, ROUNDS);
  for (const impl of ADAM_IMPLS) {
    const t = timings.get(impl)!;
    checkFinite(label, impl, Object.values(steps.get(impl)!.params));
    log(`${label} ${impl.padEnd(10)} ${fmtRate(t.samplesPerSec).padStart(8)} samples/s  (${t.loops} loops × ${t.stepsPerLoop} steps, min ${fmtRate(t.min)}, max ${fmtRate(t.max)})`);
  }
  return { network: net.id, batch: count, target, timings: Object.fromEntries(timings) as Record<AdamImpl, Timing>, fusedVsSplit };
}

function checkShapes(net: Network, m: CompiledModule): void {
  const s = net.spec.sizes;
  const expected: Record<string, number[]> = {};
  net.layerNames.forEach((name, l) => {
    expected[`${name}.W`] = [s[l + 1]!, s[l]!];
    expected[`${name}.b`] = [s[l + 1]!];
  });
  const got = JSON.stringify(m.meta.params);
  if (got !== JSON.stringify(expected))
    fail(`network ${net.id}: the module's parameters ${got} are not the spec's ${JSON.stringify(expected)}`);
}

interface Verification {
  network: string;
  batch: number;
  genericMaxGradDiff: number;
  genericLossDiff: number;
  genericMaxParamDiffAfter3Steps: number;
  /** nnc-wasm against nnc: gradientBatch on three batches, θ after three sgdSteps (relative to each tensor's largest entry) */
  wasm: { maxRelGradDiff: number; relLossDiff: number; maxRelParamDiffAfter3Steps: number };
  tfjs: Record<string, { maxRelGradDiff: number; lossDiff: number }>;
}


// ── main

interface CompileRow {
  network: string;
  target: Target;
  sizes: readonly number[];
  params: number;
  coldMs: number;
  warmMs: number;
  loadMs: number;
  bytes: number;
  lines: number;
}

interface ThroughputRow {
  network: string;
  batch: number;
  impl: Impl;
  timing: Timing;
}

interface AdamRow {
  network: string;
  batch: number;
  /** the issue's target for fused ÷ split, if any */
  target: number | null;
  timings: Record<AdamImpl, Timing>;
  /** θ after three steps from the same start, fused against split, relative to each tensor's largest entry */
  fusedVsSplit: Record<Target, number>;
}

interface HeapRow {
  network: string;
  batch: number;
  impl: `${"nnc" | "nnc-wasm"} ${"sgdStep" | "gradientBatch"}` | "generic gradientBatch";
  heap: HeapResult | null;
}

async function main(): Promise<void> {
  const t00 = nowMs();
  const networks = NETWORKS.filter((n) => ONLY === null || ONLY.has(n.id));
  const machine = {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    exposeGc: gc !== undefined,
    /** 1-minute load average at the start and the end: above ~1 on 2 cores, other processes competed */
    loadAverage: { start: loadavg()[0]!, end: NaN },
  };
  log(`nnc ${VERSION} bench — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}${QUICK ? " (quick)" : ""}`);
  if (gc === undefined) log("note: run node with --expose-gc for gc() between loops and the heap measurement");
  if (machine.loadAverage.start > 0.5)
    log(`warning: load average ${machine.loadAverage.start.toFixed(2)} before the start: other processes compete for the ${machine.cores} cores`);

  // compile every network for both targets: time and size. The ts module is loaded once and shared
  // by nnc and nnc-split; every use of the wasm module loads an instance of its own (loadInstance:
  // its createParams arena holds a few parameter sets only).
  const modules = new Map<string, CompiledModule>();
  const wasmSources = new Map<string, string>();
  /** the wasm target in single precision (f32x4 kernels, Float32Array data): nnc-wasm-f32 */
  const wasmF32Sources = new Map<string, string>();
  const compileRows: CompileRow[] = [];
  for (const net of networks) {
    const file = join(ROOT!, "bench", "models", net.file);
    const source = readFileSync(file, "utf8");
    for (const target of COMPILE_TARGETS) {
      const times: number[] = [];
      // the module as nnc compile writes it (what the size columns measure) and as loadModule takes it
      let ts = "";
      let js = "";
      for (let r = 0; r <= COMPILE_REPEATS; r++) {
        const t0 = nowMs();
        const result = await compile(source, { file: net.file, target });
        times.push(nowMs() - t0);
        if (result.ts === null || result.js === null)
          fail(`${net.file} does not compile:\n${result.diagnostics.list.map((d) => `  ${d.code}: ${d.message}`).join("\n")}`);
        ts = result.ts;
        js = result.js;
      }
      const l0 = nowMs();
      const m = await (target === "ts" ? loadModule(js) : loadInstance(js));
      const loadMs = nowMs() - l0;
      checkShapes(net, m);
      if (target === "ts") modules.set(net.id, m);
      else wasmSources.set(net.id, js);
      const params = Object.values(m.meta.params).reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
      compileRows.push({
        network: net.id,
        target,
        sizes: net.spec.sizes,
        params,
        coldMs: times[0]!,
        warmMs: median(times.slice(1).length > 0 ? times.slice(1) : times),
        loadMs,
        bytes: Buffer.byteLength(ts, "utf8"),
        lines: ts.split("\n").length - (ts.endsWith("\n") ? 1 : 0),
      });
      log(`compiled ${net.id} (${net.spec.sizes.join("-")}) for ${target}: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
    }
    const f32 = await compile(source, { file: net.file, target: "wasm", precision: "f32", emit: "memory" });
    if (f32.js === null) fail(`${net.file} does not compile with --target wasm --precision f32`);
    wasmF32Sources.set(net.id, f32.js);
  }

  // verify: generic vs nnc to 1e-10 (gradient, loss, parameters after 3 SGD steps); tfjs vs nnc to float32 accuracy
  const verifications: Verification[] = [];
  for (const net of networks) {
    const m = modules.get(net.id)!;
    const data = makeData(net);
    for (const count of net.batchSizes) {
      const batches = batchesOf(net, data, count);
      const nnc = nncStep(m, batches, count);
      const generic = new GenericMLP(net.spec);
      const skipping = new GenericMLP(net.spec, { skipZeroDeltas: true });
      copyParamsToGeneric(net, nnc.params, generic);
      copyParamsToGeneric(net, nnc.params, skipping);
      const wasmModule = await loadInstance(wasmSources.get(net.id)!);
      const wasm = nncStep(wasmModule, batches, count);
      if (!inKernelMemory(wasm.params, wasm.grad)) fail(`network ${net.id}: the wasm module's createParams arrays are not in its kernel memory`);
      const v: Verification = {
        network: net.id,
        batch: count,
        genericMaxGradDiff: 0,
        genericLossDiff: 0,
        genericMaxParamDiffAfter3Steps: 0,
        wasm: { maxRelGradDiff: 0, relLossDiff: 0, maxRelParamDiffAfter3Steps: 0 },
        tfjs: {},
      };
      for (let b = 0; b < Math.min(3, batches.length); b++) {
        const lossN = m.gradientBatch(nnc.params, { x: batches[b]!.x }, { t: batches[b]!.t }, count, nnc.grad);
        const lossW = wasmModule.gradientBatch(wasm.params, { x: batches[b]!.x }, { t: batches[b]!.t }, count, wasm.grad);
        v.wasm.maxRelGradDiff = Math.max(v.wasm.maxRelGradDiff, maxRelDiff(wasm.grad, nnc.grad));
        v.wasm.relLossDiff = Math.max(v.wasm.relLossDiff, Math.abs(lossW - lossN) / Math.abs(lossN) || (lossW === lossN ? 0 : Infinity));
        for (const g of [generic, skipping]) {
          const lossG = g.gradientBatch(batches[b]!.x, batches[b]!.t, count);
          v.genericLossDiff = Math.max(v.genericLossDiff, Number.isNaN(lossN - lossG) ? Infinity : Math.abs(lossN - lossG));
          net.layerNames.forEach((name, l) => {
            v.genericMaxGradDiff = Math.max(v.genericMaxGradDiff, maxAbsDiff(nnc.grad[`${name}.W`]!, g.gW[l]!), maxAbsDiff(nnc.grad[`${name}.b`]!, g.gb[l]!));
          });
        }
        if (!(v.genericMaxGradDiff <= GRAD_TOLERANCE) || !(v.genericLossDiff <= GRAD_TOLERANCE))
          fail(`network ${net.id}, batch ${count}: the generic gradient differs from nnc's gradientBatch by ${v.genericMaxGradDiff} (loss by ${v.genericLossDiff}); tolerance ${GRAD_TOLERANCE}`);
        if (!(v.wasm.maxRelGradDiff <= REL_TOLERANCE) || !(v.wasm.relLossDiff <= REL_TOLERANCE))
          fail(`network ${net.id}, batch ${count}: the wasm module's gradient differs from the ts module's by ${v.wasm.maxRelGradDiff} relative to scale (loss by ${v.wasm.relLossDiff}); tolerance ${REL_TOLERANCE}`);
      }
      // three training steps each, then the parameters must still agree
      const fresh = nncStep(m, batches, count);
      copyParamsToGeneric(net, fresh.params, generic);
      copyParamsToGeneric(net, fresh.params, skipping);
      const split = nncStep(m, batches, count);
      wasmModule.initParams(wasm.params, SEED);
      for (let s = 0; s < 3; s++) {
        fresh.step(s);
        split.splitStep(s);
        wasm.step(s);
        for (const g of [generic, skipping]) {
          g.gradientBatch(batches[s % batches.length]!.x, batches[s % batches.length]!.t, count);
          g.sgd(LR);
        }
      }
      for (const g of [generic, skipping])
        net.layerNames.forEach((name, l) => {
          v.genericMaxParamDiffAfter3Steps = Math.max(v.genericMaxParamDiffAfter3Steps, maxAbsDiff(fresh.params[`${name}.W`]!, g.W[l]!), maxAbsDiff(fresh.params[`${name}.b`]!, g.b[l]!));
        });
      net.layerNames.forEach((name) => {
        for (const k of [`${name}.W`, `${name}.b`])
          v.genericMaxParamDiffAfter3Steps = Math.max(v.genericMaxParamDiffAfter3Steps, maxAbsDiff(fresh.params[k]!, split.params[k]!));
      });
      if (!(v.genericMaxParamDiffAfter3Steps <= GRAD_TOLERANCE))
        fail(`network ${net.id}, batch ${count}: after 3 SGD steps the generic parameters differ from nnc's by ${v.genericMaxParamDiffAfter3Steps}`);
      v.wasm.maxRelParamDiffAfter3Steps = maxRelDiff(wasm.params, fresh.params);
      if (!(v.wasm.maxRelParamDiffAfter3Steps <= REL_TOLERANCE))
        fail(`network ${net.id}, batch ${count}: after 3 sgdSteps the wasm module's parameters differ from the ts module's by ${v.wasm.maxRelParamDiffAfter3Steps} relative to scale`);
      // tfjs: its gradient (float32) against nnc's on the first batch
      const reference = nncStep(m, batches, count);
      const refLoss = m.gradientBatch(reference.params, { x: batches[0]!.x }, { t: batches[0]!.t }, count, reference.grad);
      for (const backend of ["cpu", "wasm"] as TfBackend[]) {
        await useBackend(backend);
        const tfTrainer = createTfTrainer(net.spec, net.layerNames, reference.params, batches, count, LR);
        const { loss, grads } = tfTrainer.gradient(0);
        tfTrainer.dispose();
        let worst = 0;
        for (const [name, g] of Object.entries(grads)) {
          const ref = reference.grad[name]!;
          worst = Math.max(worst, maxAbsDiff(g, ref) / Math.max(maxAbs(ref), 1e-6));
        }
        v.tfjs[`tfjs-${backend}`] = { maxRelGradDiff: worst, lossDiff: Math.abs(loss - refLoss) };
        if (!(worst <= TF_TOLERANCE) || !(Math.abs(loss - refLoss) <= TF_TOLERANCE * Math.max(1, Math.abs(refLoss))))
          fail(`network ${net.id}, batch ${count}: tfjs-${backend}'s gradient differs from nnc's by ${worst} (relative), loss ${loss} vs ${refLoss}`);
      }
      verifications.push(v);
      log(
        `verified ${net.id}/b${count}: generic − nnc max |Δgrad| ${v.genericMaxGradDiff.toExponential(1)}, |Δloss| ${v.genericLossDiff.toExponential(1)}, ` +
          `|Δθ| after 3 steps ${v.genericMaxParamDiffAfter3Steps.toExponential(1)}; wasm − nnc rel. Δgrad ${v.wasm.maxRelGradDiff.toExponential(1)}, ` +
          `rel. Δθ after 3 steps ${v.wasm.maxRelParamDiffAfter3Steps.toExponential(1)}; tfjs rel. Δgrad cpu ${v.tfjs["tfjs-cpu"]!.maxRelGradDiff.toExponential(1)}, wasm ${v.tfjs["tfjs-wasm"]!.maxRelGradDiff.toExponential(1)}`,
      );
    }
  }
  await useBackend("wasm");
  const wasmInfo = backendInfo();
  await useBackend("cpu");
  const cpuInfo = backendInfo();

  // throughput
  const rows: ThroughputRow[] = [];
  const heapRows: HeapRow[] = [];
  const adamRows: AdamRow[] = [];
  for (const net of networks) {
    const m = modules.get(net.id)!;
    const data = makeData(net);
    for (const count of net.batchSizes) {
      const batches = batchesOf(net, data, count);
      const label = `${net.id}/b${count}`;
      const sync = (): void => {};
      const js = async (): Promise<void> => {};

      const nnc = nncStep(m, batches, count);
      const wasm = nncStep(await loadInstance(wasmSources.get(net.id)!), batches, count);
      // the same batches rounded to float32, the f32 module's array type (nncStep types them as float64: only the values matter)
      const batches32 = batches.map((b) => ({ ...b, x: Float32Array.from(b.x), t: Float32Array.from(b.t) }) as unknown as Batch);
      const wasm32 = nncStep(await loadInstance(wasmF32Sources.get(net.id)!), batches32, count);
      if (!inKernelMemory(wasm.params, wasm.grad)) fail(`${label}: the wasm module's createParams arrays are not in its kernel memory`);
      const generics = (["generic", "generic+skip"] as const).map((impl) => {
        const g = new GenericMLP(net.spec, { skipZeroDeltas: impl === "generic+skip" });
        copyParamsToGeneric(net, nncStep(m, batches, count).params, g);
        return { impl, g };
      });
      const tfTensorsBefore = numTensors();
      const trainers = new Map<TfBackend, TfTrainer>();
      for (const backend of ["cpu", "wasm"] as TfBackend[]) {
        await useBackend(backend);
        trainers.set(backend, createTfTrainer(net.spec, net.layerNames, nncStep(m, batches, count).params, batches, count, LR));
      }
      const contestants: Contestant<Impl>[] = [
        { impl: "nnc", prepare: js, step: nnc.step, sync, settings: JS_TIMING },
        { impl: "nnc-wasm", prepare: js, step: wasm.step, sync, settings: JS_TIMING },
        { impl: "nnc-wasm-f32", prepare: js, step: wasm32.step, sync, settings: JS_TIMING },
        { impl: "nnc-split", prepare: js, step: nncStep(m, batches, count).splitStep, sync, settings: JS_TIMING },
        ...generics.map(({ impl, g }): Contestant<Impl> => ({
          impl,
          prepare: js,
          step: (i: number): void => {
            const b = batches[i % batches.length]!;
            g.gradientBatch(b.x, b.t, count);
            g.sgd(LR);
          },
          sync,
          settings: JS_TIMING,
        })),
        ...(["cpu", "wasm"] as TfBackend[]).map((backend): Contestant<Impl> => {
          const trainer = trainers.get(backend)!;
          return {
            impl: backend === "cpu" ? "tfjs-cpu" : "tfjs-wasm",
            prepare: () => useBackend(backend),
            step: (i: number) => trainer.step(i),
            sync: () => trainer.sync(),
            settings: TF_TIMING,
          };
        }),
      ];
      const timings = await timeInterleaved(contestants, count, ROUNDS);
      for (const c of contestants) {
        const t = timings.get(c.impl)!;
        rows.push({ network: net.id, batch: count, impl: c.impl, timing: t });
        log(`${label} ${c.impl.padEnd(12)} ${fmtRate(t.samplesPerSec).padStart(8)} samples/s  (${t.loops} loops × ${t.stepsPerLoop} steps, min ${fmtRate(t.min)}, max ${fmtRate(t.max)})`);
      }
      const tfTensorsLive = numTensors() - tfTensorsBefore;
      for (const backend of ["cpu", "wasm"] as TfBackend[]) {
        await useBackend(backend);
        trainers.get(backend)!.dispose();
      }
      const tfTensorsLeft = numTensors() - tfTensorsBefore;
      // the trainers' own tensors (variables, batches, the optimizer's constant) and nothing else
      if (tfTensorsLeft !== 0) fail(`${label} tfjs: ${tfTensorsLeft} tensors left after dispose (${tfTensorsLive} live before it)`);
      checkFinite(label, "nnc", Object.values(nnc.params));
      checkFinite(label, "nnc-wasm", Object.values(wasm.params));
      checkFinite(label, "nnc-wasm-f32", Object.values(wasm32.params));
      for (const { impl, g } of generics) checkFinite(label, impl, [...g.W, ...g.b]);

      // heap: short runs of ~0.05 s and long ones of ~0.25 s, after the timing (warm code)
      const heapCalls = (impl: Impl): number => Math.max(10, Math.round((timings.get(impl)!.samplesPerSec / count) * (QUICK ? 0.01 : 0.05)));
      for (const [impl, s] of [["nnc", nnc], ["nnc-wasm", wasm]] as const) {
        heapRows.push({ network: net.id, batch: count, impl: `${impl} sgdStep`, heap: await heapPerCall(s.step, heapCalls(impl)) });
        heapRows.push({ network: net.id, batch: count, impl: `${impl} gradientBatch`, heap: await heapPerCall(s.gradientOnly, heapCalls(impl)) });
      }
      const generic = generics[0]!.g;
      const genericGradient = (i: number): void => {
        const b = batches[i % batches.length]!;
        generic.gradientBatch(b.x, b.t, count);
      };
      heapRows.push({ network: net.id, batch: count, impl: "generic gradientBatch", heap: await heapPerCall(genericGradient, heapCalls("nnc")) });

      const adamCell = ADAM_CELLS.find((c) => c.network === net.id && c.batch === count);
      if (adamCell !== undefined) adamRows.push(await timeAdam(net, count, batches, m, wasmSources.get(net.id)!, adamCell.target));
    }
  }

  const totalSeconds = (nowMs() - t00) / 1000;
  machine.loadAverage.end = loadavg()[0]!;
  const report = renderReport(machine, compileRows, rows, adamRows, heapRows, verifications, totalSeconds);
  process.stdout.write(report.text);
  // the threads row (bench/threads.ts): network C at batch 128, 1 against 2 threads
  log("\nthreads: network C, batch 128, 1 vs 2 threads");
  const threadRows = ONLY === null || ONLY.has("C") ? threadsInOwnProcess(QUICK) : [];
  const threads = threadsTable(threadRows);
  if (threadRows.length > 0) process.stdout.write(`\nThreads (train({ threads }), docs/scale-out.md)\n${threads.text}\n`);
  // the convolution row (bench/conv-row.ts): examples/mnist-cnn.nn at batch 32, nnc against tfjs-wasm
  log("\nconvolution: mnist-cnn, batch 32, nnc (ts, wasm) vs tfjs-wasm");
  const convRows = ONLY === null || ONLY.has("CNN") ? await benchConvolution({ js: JS_TIMING, tfjs: TF_TIMING, rounds: ROUNDS }) : [];
  const conv = convolutionTable(convRows);
  if (convRows.length > 0) process.stdout.write(`\nConvolution (examples/mnist-cnn.nn, batch 32)\n${conv.text}\n`);

  const outDir = join(ROOT!, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    nnc: VERSION,
    quick: QUICK,
    machine,
    tfjs: { cpu: cpuInfo, wasm: wasmInfo },
    settings: { js: JS_TIMING, tfjs: TF_TIMING, rounds: ROUNDS, compileRepeats: COMPILE_REPEATS, pool: POOL, lr: LR, seed: SEED, float: { nnc: "float64", "nnc-wasm": "float64", "nnc-wasm-f32": "float32", generic: "float64", tfjs: "float32" } },
    compile: compileRows,
    throughput: rows.map((r) => ({ network: r.network, batch: r.batch, impl: r.impl, ...r.timing })),
    ratios: report.ratios,
    targets: report.targets,
    adam: adamRows.map((a) => ({
      ...a,
      fusedOverSplit: Object.fromEntries(COMPILE_TARGETS.map((t) => [t, median(adamRatios(a, t))])),
      wasmOverTsFused: median(pairedRatios(a.timings["wasm fused"], a.timings["ts fused"])),
    })),
    heap: heapRows,
    threads: threadRows,
    convolution: convRows,
    verification: verifications,
    totalSeconds,
  };
  writeFileSync(join(outDir, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  const threadsMd = threadRows.length > 0 ? `\n## Threads: network C, batch 128, 1 vs 2 threads (docs/scale-out.md)\n\n${threads.markdown}\n` : "";
  const convMd = convRows.length > 0 ? `\n## Convolution: examples/mnist-cnn.nn, batch 32 (nnc float64, tfjs-wasm float32)\n\n${conv.markdown}\n` : "";
  writeFileSync(join(outDir, "latest.md"), `${report.markdown}${threadsMd}${convMd}`);
  log(`\nwrote bench/results/latest.json and bench/results/latest.md (${totalSeconds.toFixed(0)} s in all)`);
}


// ── report


/** a paired ratio in latest.json: `of`'s samples/s ÷ `against`'s, median and range over the rounds */
interface Ratio {
  network: string;
  batch: number;
  of: Impl;
  against: Impl;
  ratio: number;
  min: number;
  max: number;
}

/** the columns of nnc-wasm's ratio table */
const WASM_AGAINST: readonly Impl[] = ["nnc", "tfjs-wasm", "generic"];
/** and of nnc-wasm-f32's (float32 like tfjs) */
const WASM_F32_AGAINST: readonly Impl[] = ["tfjs-wasm", "nnc-wasm"];

function renderReport(
  machine: { cpu: string; cores: number; node: string; loadAverage: { start: number; end: number } },
  compileRows: readonly CompileRow[],
  rows: readonly ThroughputRow[],
  adamRows: readonly AdamRow[],
  heapRows: readonly HeapRow[],
  verifications: readonly Verification[],
  totalSeconds: number,
): {
  text: string;
  markdown: string;
  ratios: Ratio[];
  targets: { network: string; batch: number; against: Impl; target: number; measured: number; met: boolean }[];
} {
  const configs = [...new Map(rows.map((r) => [`${r.network}/${r.batch}`, { network: r.network, batch: r.batch }])).values()];
  const rate = (network: string, batch: number, impl: Impl): number =>
    rows.find((r) => r.network === network && r.batch === batch && r.impl === impl)?.timing.samplesPerSec ?? NaN;
  const net = (id: string): Network => NETWORKS.find((n) => n.id === id)!;

  const throughput = table(
    ["network", "sizes", "batch", ...IMPLS.map((i) => `${i} samples/s`), "spread nnc (min–max)", "spread nnc-wasm (min–max)"],
    configs.map((c) => {
      const spread = (impl: Impl): string => {
        const t = rows.find((r) => r.network === c.network && r.batch === c.batch && r.impl === impl)!.timing;
        return `${fmtRate(t.min)}–${fmtRate(t.max)}`;
      };
      return [
        c.network,
        net(c.network).spec.sizes.join("-"),
        String(c.batch),
        ...IMPLS.map((i) => fmtRate(rate(c.network, c.batch, i))),
        spread("nnc"),
        spread("nnc-wasm"),
      ];
    }),
    ["l", "l", "r", ...IMPLS.map(() => "r" as const), "l", "l"],
  );

  // paired: nnc's loop of round r against the other's loop of the same round
  const cellRatios = (network: string, batch: number, impl: Impl, of: Impl = "nnc"): number[] => {
    const timing = (i: Impl) => rows.find((r) => r.network === network && r.batch === batch && r.impl === i)?.timing;
    const mine = timing(of);
    const theirs = timing(impl);
    return mine && theirs ? pairedRatios(mine, theirs) : [];
  };
  const ratio = (network: string, batch: number, impl: Impl): number => {
    const rs = cellRatios(network, batch, impl);
    return rs.length > 0 ? median(rs) : NaN;
  };
  const ratios: Ratio[] = [];
  /** the cell "median (range)" of of ÷ against, recorded in `ratios` */
  const ratioCell = (network: string, batch: number, of: Impl, against: Impl): string => {
    const rs = cellRatios(network, batch, against, of);
    ratios.push({ network, batch, of, against, ratio: rs.length > 0 ? median(rs) : NaN, min: Math.min(...rs), max: Math.max(...rs) });
    return fmtRange(rs);
  };
  const nncAgainst = IMPLS.filter((i) => i !== "nnc" && i !== "nnc-wasm");
  const ratioTable = table(
    ["network", "batch", ...nncAgainst.map((i) => `nnc ÷ ${i} (range)`), "nnc-split ÷ generic (range)"],
    configs.map((c) => [
      c.network,
      String(c.batch),
      ...nncAgainst.map((i) => ratioCell(c.network, c.batch, "nnc", i)),
      ratioCell(c.network, c.batch, "nnc-split", "generic"),
    ]),
    ["l", "r", ...nncAgainst.map(() => "r" as const), "r"],
  );
  const wasmRatioTable = table(
    ["network", "batch", ...WASM_AGAINST.map((i) => `nnc-wasm ÷ ${i} (range)`), ...WASM_F32_AGAINST.map((i) => `nnc-wasm-f32 ÷ ${i} (range)`)],
    configs.map((c) => [
      c.network,
      String(c.batch),
      ...WASM_AGAINST.map((i) => ratioCell(c.network, c.batch, "nnc-wasm", i)),
      ...WASM_F32_AGAINST.map((i) => ratioCell(c.network, c.batch, "nnc-wasm-f32", i)),
    ]),
    ["l", "r", ...WASM_AGAINST.map(() => "r" as const), ...WASM_F32_AGAINST.map(() => "r" as const)],
  );

  const targets = TARGETS.filter((t) => configs.some((c) => c.network === t.network && c.batch === t.batch)).map((t) => {
    const measured = ratio(t.network, t.batch, t.against);
    return { network: t.network, batch: t.batch, against: t.against, target: t.ratio, measured, met: measured >= t.ratio };
  });
  const targetTable = table(
    ["network", "batch", "nnc vs", "target", "measured", "met"],
    targets.map((t) => [t.network, String(t.batch), t.against, `≥ ${fmtRatio(t.target)}`, fmtRatio(t.measured), t.met ? "yes" : "NO"]),
    ["l", "r", "l", "r", "r", "l"],
  );

  const adamTable = table(
    [
      "network",
      "batch",
      ...ADAM_IMPLS.map((i) => `${i} samples/s`),
      ...COMPILE_TARGETS.map((t) => `${t}: fused ÷ split (range)`),
      "wasm fused ÷ ts fused (range)",
      "issue's target",
      "rel. Δθ fused − split after 3 steps (ts, wasm)",
    ],
    adamRows.map((a) => [
      a.network,
      String(a.batch),
      ...ADAM_IMPLS.map((i) => fmtRate(a.timings[i].samplesPerSec)),
      ...COMPILE_TARGETS.map((t) => fmtRange(adamRatios(a, t))),
      fmtRange(pairedRatios(a.timings["wasm fused"], a.timings["ts fused"])),
      a.target === null ? "–" : `≥ ${fmtRatio(a.target)} (met: ${COMPILE_TARGETS.map((t) => (median(adamRatios(a, t)) >= a.target! ? "yes" : "NO")).join(", ")})`,
      COMPILE_TARGETS.map((t) => a.fusedVsSplit[t].toExponential(1)).join(", "),
    ]),
    ["l", "r", ...ADAM_IMPLS.map(() => "r" as const), ...COMPILE_TARGETS.map(() => "r" as const), "r", "l", "r"],
  );

  const compileTable = table(
    ["network", "target", "sizes", "parameters", "compile cold ms", "compile warm ms", "load ms", "emitted bytes", "emitted lines"],
    compileRows.map((c) => [
      c.network,
      c.target,
      c.sizes.join("-"),
      String(c.params),
      c.coldMs.toFixed(0),
      c.warmMs.toFixed(0),
      c.loadMs.toFixed(0),
      String(c.bytes),
      String(c.lines),
    ]),
    ["l", "l", "l", "r", "r", "r", "r", "r", "r"],
  );

  const heapTable = table(
    ["network", "batch", "impl", "calls (short, long)", "bytes/call", "Δ heapUsed per trial (short/long)", "GCs during"],
    heapRows.map((h) =>
      h.heap === null
        ? [h.network, String(h.batch), h.impl, "–", "(no --expose-gc)", "–", "–"]
        : [
            h.network,
            String(h.batch),
            h.impl,
            `${h.heap.calls[0]}, ${h.heap.calls[1]}`,
            h.heap.bytesPerCall.toFixed(1),
            h.heap.trials.map(([a, b]) => `${a}/${b}`).join(", "),
            String(h.heap.gcsDuring),
          ],
    ),
    ["l", "r", "l", "r", "r", "l", "r"],
  );

  const verifyTable = table(
    [
      "network",
      "batch",
      "generic(+skip) max |Δgrad|",
      "|Δloss|",
      "|Δθ| after 3 steps",
      "nnc-wasm rel. Δgrad",
      "nnc-wasm rel. Δθ after 3 steps",
      "tfjs-cpu rel. Δgrad",
      "tfjs-wasm rel. Δgrad",
    ],
    verifications.map((v) => [
      v.network,
      String(v.batch),
      v.genericMaxGradDiff.toExponential(1),
      v.genericLossDiff.toExponential(1),
      v.genericMaxParamDiffAfter3Steps.toExponential(1),
      v.wasm.maxRelGradDiff.toExponential(1),
      v.wasm.maxRelParamDiffAfter3Steps.toExponential(1),
      v.tfjs["tfjs-cpu"]!.maxRelGradDiff.toExponential(1),
      v.tfjs["tfjs-wasm"]!.maxRelGradDiff.toExponential(1),
    ]),
    ["l", "r", "r", "r", "r", "r", "r", "r", "r"],
  );

  const head =
    `machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}; ${totalSeconds.toFixed(0)} s in all; ` +
    `load average ${machine.loadAverage.start.toFixed(2)} at the start, ${machine.loadAverage.end.toFixed(2)} at the end`;
  const sections: [string, { text: string; markdown: string }][] = [
    ["Training-step throughput (samples/s, median of the timed loops; nnc, nnc-wasm and generic float64, tfjs float32)", throughput],
    ["nnc's speed-up: median over the rounds of nnc's samples/s ÷ the other's in the same round (range over the rounds)", ratioTable],
    ["nnc-wasm's speed-up: median over the rounds of nnc-wasm's samples/s ÷ the other's in the same round (range over the rounds)", wasmRatioTable],
    ["Targets", targetTable],
    ["Adam, fused (the module's optimizerStep) against split (gradientBatch, then the runtime's Adam update), samples/s and paired ratios", adamTable],
    ["Compile time and emitted size", compileTable],
    ["Heap allocated per call (heapUsed deltas, gc() before)", heapTable],
    ["Verification before timing", verifyTable],
  ];
  const text = `\n${head}\n\n${sections.map(([title, t]) => `${title}\n\n${t.text}`).join("\n")}`;
  const markdown = `<!-- generated by npm run bench -->\n${head}\n\n${sections.map(([title, t]) => `### ${title}\n\n${t.markdown}`).join("\n")}`;
  return { text, markdown, ratios, targets };
}

main().catch((e: unknown) => {
  fail(e instanceof Error ? (e.stack ?? e.message) : String(e));
});
