/**
 * The convolution row of `npm run bench` (and `node dist/bench/conv-row.js [--quick]` alone):
 * examples/mnist-cnn.nn at batch 32, one training step (forward, backward, SGD update: the module's
 * sgdStep) of nnc's ts and wasm modules against the same network in TensorFlow.js on its WASM
 * backend (XNNPACK; bench/tfjs-cnn.ts), in interleaved rounds with paired ratios (harness.ts).
 * Before timing, tfjs's gradient on the first batch is checked against nnc's (float32 against
 * float64), so both compute the same network from the same parameters.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../compiler/pipeline.js";
import { loadModule, type CompiledModule } from "../runtime/load-module.js";
import { mulberry32 } from "../runtime/random.js";
import { fail, fmtRange, fmtRate, fmtRatio, loadInstance, log, LR, median, pairedRatios, POOL, ROOT, SEED, table, timeInterleaved, type Contestant } from "./harness.js";
import { createTfCnnTrainer, type CnnSpec } from "./tfjs-cnn.js";
import { useBackend } from "./tfjs.js";

export const CNN_FILE = "examples/mnist-cnn.nn";
export const CNN_BATCH = 32;
/** examples/mnist-cnn.nn, layer by layer (checked against the compiled module's parameters) */
export const MNIST_CNN: CnnSpec = {
  input: [1, 28, 28],
  layers: [
    { kind: "conv", name: "c1", filters: 8, kernel: 3, stride: 1, pads: [1, 1, 1, 1], relu: true },
    { kind: "maxpool", k: 2 },
    { kind: "conv", name: "c2", filters: 16, kernel: 3, stride: 1, pads: [1, 1, 1, 1], relu: true },
    { kind: "maxpool", k: 2 },
    { kind: "dense", name: "h", out: 64, relu: true },
    { kind: "dense", name: "y", out: 10, relu: false },
  ],
  classes: 10,
};
const TF_TOLERANCE = 1e-3; // relative to the largest gradient entry of each tensor, as the dense rows

export type ConvImpl = "nnc" | "nnc-wasm" | "tfjs-wasm";
export interface ConvRow {
  readonly impl: ConvImpl;
  readonly samplesPerSec: number;
  /** nnc ÷ tfjs-wasm (tfjs-wasm's own row: 1), median of the per-round ratios, and their range */
  readonly ratio: number;
  readonly ratios: number[];
}

interface Step {
  readonly params: Record<string, Float64Array>;
  step(i: number): void;
  gradient(i: number, grad: Record<string, Float64Array>): number;
}

function nncCnnStep(m: CompiledModule, xs: Float64Array[], ts: Float64Array[]): Step {
  const [input] = Object.keys(m.meta.inputs) as [string];
  const [target] = Object.keys(m.meta.targets) as [string];
  const params = m.createParams() as Record<string, Float64Array>;
  m.initParams(params, SEED);
  const grad = m.createParams() as Record<string, Float64Array>;
  const batches = xs.map((x, j) => ({ inputs: { [input]: x }, targets: { [target]: ts[j]! } }));
  return {
    params,
    step: (i) => {
      const b = batches[i % batches.length]!;
      m.sgdStep(params, b.inputs, b.targets, CNN_BATCH, LR, grad);
    },
    gradient: (i, g) => {
      const b = batches[i % batches.length]!;
      return m.gradientBatch(params, b.inputs, b.targets, CNN_BATCH, g);
    },
  };
}

function checkSpec(m: CompiledModule): void {
  let C = MNIST_CNN.input[0];
  for (const l of MNIST_CNN.layers) {
    if (l.kind !== "conv") continue;
    const shape = m.meta.params[`${l.name}.W`];
    if (JSON.stringify(shape) !== JSON.stringify([l.filters, C, l.kernel, l.kernel])) fail(`${CNN_FILE}: ${l.name}.W is [${shape}], the benchmark's tfjs network expects [${l.filters}, ${C}, ${l.kernel}, ${l.kernel}]`);
    C = l.filters;
  }
}

export async function benchConvolution(settings: { js: { warmupMs: number; loopMs: number }; tfjs: { warmupMs: number; loopMs: number }; rounds: number }): Promise<ConvRow[]> {
  const source = readFileSync(join(ROOT!, CNN_FILE), "utf8");
  const modules: CompiledModule[] = [];
  for (const target of ["ts", "wasm"] as const) {
    const r = await compile(source, { file: CNN_FILE, target, emit: "memory" });
    if (r.js === null) fail(`${CNN_FILE} does not compile for ${target}:\n${r.diagnostics.list.map((d) => `  ${d.code}: ${d.message}`).join("\n")}`);
    modules.push(target === "ts" ? await loadModule(r.js) : await loadInstance(r.js));
  }
  const [ts, wasm] = modules as [CompiledModule, CompiledModule];
  checkSpec(ts);
  // pixel-like inputs in [0, 1), a random class one-hot; batches are views of the pool
  const random = mulberry32(12345);
  const nx = 28 * 28, ny = 10;
  const x = Float64Array.from({ length: POOL * nx }, () => random());
  const t = new Float64Array(POOL * ny);
  for (let n = 0; n < POOL; n++) t[n * ny + Math.floor(random() * ny)] = 1;
  const count = Math.floor(POOL / CNN_BATCH);
  const xs = Array.from({ length: count }, (_, j) => x.subarray(j * CNN_BATCH * nx, (j + 1) * CNN_BATCH * nx));
  const tsb = Array.from({ length: count }, (_, j) => t.subarray(j * CNN_BATCH * ny, (j + 1) * CNN_BATCH * ny));
  const nnc = nncCnnStep(ts, xs, tsb);
  const nncWasm = nncCnnStep(wasm, xs, tsb);
  await useBackend("wasm");
  const tfjs = createTfCnnTrainer(MNIST_CNN, nnc.params, xs.map((b, j) => ({ x: b, t: tsb[j]! })), CNN_BATCH, LR);

  // the same network: tfjs's gradient (float32) against nnc's on the first batch, both targets' alike
  const grads = [ts, wasm].map((m) => m.createParams() as Record<string, Float64Array>);
  const losses = [nnc.gradient(0, grads[0]!), nncWasm.gradient(0, grads[1]!)];
  const tf = tfjs.gradient(0);
  for (const [name, g] of Object.entries(grads[0]!)) {
    const scale = Math.max(...g.map(Math.abs), 1e-12);
    const worst = (a: ArrayLike<number>) => Math.max(...Array.from(g, (v, i) => Math.abs(v - a[i]!))) / scale;
    if (worst(tf.grads[name]!) > TF_TOLERANCE) fail(`convolution row: tfjs's gradient of ${name} differs from nnc's by ${worst(tf.grads[name]!)} (relative)`);
    if (worst(grads[1]![name]!) > 1e-10) fail(`convolution row: the wasm module's gradient of ${name} differs from the ts module's by ${worst(grads[1]![name]!)} (relative)`);
  }
  if (Math.abs(losses[0]! - tf.loss) > TF_TOLERANCE * Math.max(1, Math.abs(tf.loss))) fail(`convolution row: loss ${losses[0]} (nnc) vs ${tf.loss} (tfjs)`);
  log(`convolution row: nnc, nnc-wasm and tfjs-wasm agree on the first batch's gradient (loss ${losses[0]!.toFixed(4)})`);

  const none = async (): Promise<void> => {};
  const contestants: Contestant<ConvImpl>[] = [
    { impl: "nnc", prepare: none, step: nnc.step, sync: () => {}, settings: settings.js },
    { impl: "nnc-wasm", prepare: none, step: nncWasm.step, sync: () => {}, settings: settings.js },
    { impl: "tfjs-wasm", prepare: () => useBackend("wasm"), step: (i) => tfjs.step(i), sync: () => tfjs.sync(), settings: settings.tfjs },
  ];
  const timings = await timeInterleaved(contestants, CNN_BATCH, settings.rounds);
  tfjs.dispose();
  const against = timings.get("tfjs-wasm")!;
  return contestants.map(({ impl }) => {
    const t = timings.get(impl)!;
    const ratios = pairedRatios(t, against);
    log(`mnist-cnn/b${CNN_BATCH} ${impl.padEnd(10)} ${fmtRate(t.samplesPerSec).padStart(8)} samples/s`);
    return { impl, samplesPerSec: t.samplesPerSec, ratio: median(ratios), ratios };
  });
}

export function convolutionTable(rows: readonly ConvRow[]): { text: string; markdown: string } {
  return table(
    ["network", "batch", "implementation", "samples/s", "÷ tfjs-wasm", "range"],
    rows.map((r) => ["mnist-cnn", String(CNN_BATCH), r.impl, fmtRate(r.samplesPerSec), fmtRatio(r.ratio), fmtRange(r.ratios)]),
    ["l", "r", "l", "r", "r", "l"],
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const quick = process.argv.includes("--quick");
  const rows = await benchConvolution({
    js: quick ? { warmupMs: 200, loopMs: 100 } : { warmupMs: 1500, loopMs: 400 },
    tfjs: quick ? { warmupMs: 200, loopMs: 100 } : { warmupMs: 2000, loopMs: 400 },
    rounds: quick ? 3 : 9,
  });
  const t = convolutionTable(rows);
  process.stdout.write(`${t.text}\n`);
  const md = `# Convolution row: mnist-cnn, batch ${CNN_BATCH}\n\nnnc (float64, ts and wasm targets, sgdStep) against TensorFlow.js on its WASM backend (float32; its convolution's weight gradient a tf.conv2d, as tfjs-backend-wasm has no Conv2DBackpropFilter), same network, same run; load average ${loadavg()[0]!.toFixed(2)} at the end (the machine is shared).\n\n${t.markdown}\n`;
  if (!quick) writeFileSync(join(ROOT!, "bench", "results", "conv-row.md"), md);
}
