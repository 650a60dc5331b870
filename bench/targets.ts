/**
 * `npm run bench:targets`: which target should `nnc train` pick? The module's sgdStep compiled
 * for ts and for wasm, timed side by side in interleaved rounds (bench/harness.ts) on the
 * networks A–D at batch sizes 1, 2, 4, 8, 16 and 32; samples/s per target and the paired ratio
 * wasm ÷ ts per cell. From the ratios: for each network whose wasm module runs a dense layer as a
 * kernel (a looped layer: its emitted code calls kernels.dense_forward), the smallest batch from
 * which wasm is faster at that batch and every larger one. Writes bench/results/targets.md.
 *
 * "Faster" has to beat the noise of the shared machine, which this sweep measures itself: for a
 * batch of one, sgdStep runs the module's private sampleSgdStep, and where the two targets emit
 * that function identically (no kernel in it), the batch-1 cell times the same code twice. The
 * largest such ratio (or its inverse) is the noise factor; wasm is faster where its median ratio
 * exceeds it.
 *
 *   node --expose-gc dist/bench/targets.js [--quick] [--only B,C]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { compile, VERSION } from "../compiler/pipeline.js";
import { TARGETS, type Target } from "../compiler/target.js";
import {
  batchesOf,
  checkFinite,
  fail,
  fmtRange,
  fmtRate,
  fmtRatio,
  inKernelMemory,
  loadInstance,
  log,
  makeData,
  maxRelDiff,
  median,
  NETWORKS,
  nncStep,
  nowMs,
  pairedRatios,
  ROOT,
  table,
  timeInterleaved,
  type Contestant,
  type Network,
  type Timing,
} from "./harness.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const onlyArg = args.indexOf("--only");
const ONLY = onlyArg >= 0 ? new Set((args[onlyArg + 1] ?? "").toUpperCase().split(",")) : null;

const BATCHES = [1, 2, 4, 8, 16, 32];
// The warm-up of bench/run.ts (TurboFan needs up to ~0.5 s of the other core for B's unrolled
// sampleGradient under load; wasm tiers up from Liftoff to TurboFan), shorter loops and fewer rounds.
const TIMING = QUICK ? { warmupMs: 100, loopMs: 40 } : { warmupMs: 1500, loopMs: 150 };
const ROUNDS = QUICK ? 3 : 7;
/** θ after three sgdSteps, wasm against ts, relative to each tensor's largest entry */
const REL_TOLERANCE = 1e-10;

/** the text of the module's one-sample SGD step (what sgdStep runs for count = 1) */
function oneSampleStep(source: string): string | null {
  const start = source.indexOf("\nfunction sampleSgdStep(");
  const end = source.indexOf("\n}\n", start);
  return start < 0 || end < 0 ? null : source.slice(start, end);
}

interface Cell {
  network: string;
  batch: number;
  timings: Record<Target, Timing>;
  /** wasm ÷ ts per round */
  ratios: number[];
}

async function main(): Promise<void> {
  const t00 = nowMs();
  const load0 = loadavg()[0]!;
  const networks = NETWORKS.filter((n) => ONLY === null || ONLY.has(n.id));
  log(`nnc ${VERSION} target sweep — ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, node ${process.version}, load ${load0.toFixed(2)}${QUICK ? " (quick)" : ""}`);

  const cells: Cell[] = [];
  const kernelNetworks = new Set<string>();
  /** networks whose two modules run the same code for a batch of one */
  const sameAtOne = new Set<string>();
  for (const net of networks) {
    const source = readFileSync(join(ROOT!, "bench", "models", net.file), "utf8");
    const sources = {} as Record<Target, string>;
    for (const target of TARGETS) {
      const result = await compile(source, { file: net.file, target });
      if (result.js === null) fail(`${net.file} does not compile for ${target}`);
      sources[target] = result.js;
    }
    if (/kernels\.dense_forward\(/.test(sources.wasm)) kernelNetworks.add(net.id);
    const one = oneSampleStep(sources.ts);
    if (one !== null && one === oneSampleStep(sources.wasm)) sameAtOne.add(net.id);
    const data = makeData(net);
    for (const count of BATCHES) {
      const label = `${net.id}/b${count}`;
      const batches = batchesOf(net, data, count);
      // a module instance of each target per cell, as in a program that trains at one batch size
      const steps = {} as Record<Target, ReturnType<typeof nncStep>>;
      for (const target of TARGETS) steps[target] = nncStep(await loadInstance(sources[target]), batches, count);
      if (!inKernelMemory(steps.wasm.params, steps.wasm.grad)) fail(`${label}: the wasm module's createParams arrays are not in its kernel memory`);
      for (let s = 0; s < 3; s++) for (const target of TARGETS) steps[target].step(s);
      const d = maxRelDiff(steps.wasm.params, steps.ts.params);
      if (!(d <= REL_TOLERANCE)) fail(`${label}: after 3 sgdSteps the wasm parameters differ from the ts ones by ${d} relative to scale`);
      const contestants = TARGETS.map((impl): Contestant<Target> => ({ impl, prepare: async () => {}, step: steps[impl].step, sync: () => {}, settings: TIMING }));
      const timings = Object.fromEntries(await timeInterleaved(contestants, count, ROUNDS)) as Record<Target, Timing>;
      for (const target of TARGETS) checkFinite(label, target, Object.values(steps[target].params));
      const ratios = pairedRatios(timings.wasm, timings.ts);
      cells.push({ network: net.id, batch: count, timings, ratios });
      log(`${label.padEnd(6)} ts ${fmtRate(timings.ts.samplesPerSec).padStart(8)}  wasm ${fmtRate(timings.wasm.samplesPerSec).padStart(8)} samples/s  wasm ÷ ts ${fmtRange(ratios)}`);
    }
  }

  const md = report(networks, cells, kernelNetworks, sameAtOne, load0, (nowMs() - t00) / 1000);
  process.stdout.write(`${md}\n`);
  if (QUICK || ONLY !== null) {
    log("(--quick or --only: bench/results/targets.md not written)");
    return;
  }
  mkdirSync(join(ROOT!, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT!, "bench", "results", "targets.md"), md);
  log("wrote bench/results/targets.md");
}

/**
 * The smallest batch of the sweep from which wasm is faster than ts (median paired ratio above
 * `noise`, at least 1) at that batch and at every larger one; null if it is not at the largest.
 */
function crossover(cells: readonly Cell[], noise: number): number | null {
  let from: number | null = null;
  for (const c of [...cells].sort((a, b) => b.batch - a.batch)) {
    if (!(median(c.ratios) > noise)) break;
    from = c.batch;
  }
  return from;
}

function report(
  networks: readonly Network[],
  cells: readonly Cell[],
  kernelNetworks: ReadonlySet<string>,
  sameAtOne: ReadonlySet<string>,
  load0: number,
  seconds: number,
): string {
  const of = (id: string) => cells.filter((c) => c.network === id);
  // the same code timed twice: how far from 1 the median paired ratio strays by noise alone
  const controls = cells.filter((c) => c.batch === 1 && sameAtOne.has(c.network)).map((c) => median(c.ratios));
  const noise = Math.max(1, ...controls.map((r) => Math.max(r, 1 / r)));
  const sweep = table(
    ["network", "sizes", "dense kernels", ...BATCHES.map((b) => `b${b}: wasm ÷ ts (range)`)],
    networks.map((n) => [
      n.id,
      n.spec.sizes.join("-"),
      kernelNetworks.has(n.id) ? "yes" : "no",
      ...BATCHES.map((b) => fmtRange(of(n.id).find((c) => c.batch === b)?.ratios ?? [])),
    ]),
    ["l", "l", "l", ...BATCHES.map(() => "r" as const)],
  );
  const rates = table(
    ["network", "batch", "ts samples/s", "wasm samples/s", "ts spread (min–max)", "wasm spread (min–max)", "wasm ÷ ts (range)"],
    cells.map((c) => [
      c.network,
      String(c.batch),
      fmtRate(c.timings.ts.samplesPerSec),
      fmtRate(c.timings.wasm.samplesPerSec),
      `${fmtRate(c.timings.ts.min)}–${fmtRate(c.timings.ts.max)}`,
      `${fmtRate(c.timings.wasm.min)}–${fmtRate(c.timings.wasm.max)}`,
      fmtRange(c.ratios),
    ]),
    ["l", "r", "r", "r", "l", "l", "r"],
  );
  const looped = networks.filter((n) => kernelNetworks.has(n.id));
  const from = looped.map((n) => ({ id: n.id, batch: crossover(of(n.id), noise) }));
  const perNetwork = from.map((f) => `${f.id}: ${f.batch === null ? "never in the sweep" : `from batch ${f.batch}`}`).join("; ");
  const all = from.every((f) => f.batch !== null) && from.length > 0 ? Math.max(...from.map((f) => f.batch!)) : null;
  const rule =
    all === null
      ? `wasm is not faster than ts at every batch from some size on for every network with a kernel layer (${perNetwork}).`
      : `For the networks whose wasm module runs a dense layer as a kernel (${looped.map((n) => n.id).join(", ")}), wasm's sgdStep is faster than ts's ` +
        `from batch ${all} on (${perNetwork}: the smallest batch of the sweep from which the median paired ratio wasm ÷ ts exceeds the noise factor ` +
        `${fmtRatio(noise)} at it and at every larger batch).`;
  const noiseNote =
    controls.length === 0
      ? "No network's two modules run the same code at batch 1, so no noise factor was measured: faster means a median ratio above 1."
      : `At batch 1 the two modules of ${[...sameAtOne].filter((id) => networks.some((n) => n.id === id)).join(", ")} run the same code (their ` +
        "sampleSgdStep, what sgdStep runs for one sample, is emitted identically: no kernel in it), so those cells time the same code twice; " +
        `their median ratios (${controls.map((r) => fmtRatio(r)).join(", ")}) are the noise of the comparison on this machine, and the largest ` +
        `deviation from 1, ${fmtRatio(noise)}, is the factor a ratio must exceed to count as faster.`;
  return [
    "<!-- generated by npm run bench:targets -->",
    "# ts or wasm: sgdStep samples/s by batch size",
    "",
    `Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, node ${process.version}; load average ${load0.toFixed(2)} at the start, ` +
      `${loadavg()[0]!.toFixed(2)} at the end; ${seconds.toFixed(0)} s. Per cell, a fresh module instance of each target, warm-up ` +
      `${TIMING.warmupMs} ms each, then ${ROUNDS} interleaved rounds of ≈${TIMING.loopMs} ms loops; samples/s is the median loop, the ratio ` +
      `the median of the per-round ratios (range over the rounds). Checked first: θ after three sgdSteps, wasm against ts, to ` +
      `${REL_TOLERANCE} relative.${QUICK ? " **--quick: numbers indicative only.**" : ""}`,
    "",
    "**wasm ÷ ts** (above 1: wasm faster; \"dense kernels\": the wasm module calls the dense-layer kernels, i.e. the network has a looped dense layer):",
    "",
    sweep.markdown,
    `**Rule**: ${rule}`,
    "",
    noiseNote,
    "",
    "**Samples/s**:",
    "",
    rates.markdown,
  ].join("\n");
}

main().catch((e: unknown) => {
  fail(e instanceof Error ? (e.stack ?? e.message) : String(e));
});
