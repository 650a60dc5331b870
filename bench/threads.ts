/**
 * `npm run bench:threads` (and the threads row of `npm run bench`): training steps of network C
 * (784-128-10, MNIST-sized) at batch 128 on one thread and on 2 (train({ threads }),
 * runtime/threads/pool.ts), both targets, timed in interleaved rounds with paired ratios
 * (harness.ts), 16 steps a call on both sides. One thread is the step `nnc train` runs for plain
 * SGD (the module's sgdStep); 2 threads are the pool's run of 16 steps: sharded gradients, then
 * each thread's reduction and update of its slice of the parameters, the threads meeting at
 * barriers between the steps.
 * Before timing, the two ways' parameters after the same steps are compared (they differ by
 * rounding only). Results: a table on stderr and bench/results/threads.md.
 *
 * Options: --quick (short loops), --threads N (the second column; default 2), --rows-json (the rows
 * as JSON on stdout, for `npm run bench`, which measures them in a process of their own).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { compile } from "../compiler/pipeline.js";
import type { Target } from "../compiler/target.js";
import { loadedFrom, type CompiledModule } from "../runtime/load-module.js";
import { ShardPool } from "../runtime/threads/pool.js";
import type { ParamSet } from "../runtime/types.js";
import { fmtRange, fmtRate, fmtRatio, loadInstance, log, LR, makeData, median, NETWORKS, pairedRatios, POOL, ROOT, SEED, table, timeInterleaved, type Contestant } from "./harness.js";

const BATCH = 128;
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const threadsArg = args.indexOf("--threads");
const THREADS = threadsArg >= 0 ? Number(args[threadsArg + 1]) : 2;
const SETTINGS = QUICK ? { warmupMs: 200, loopMs: 100 } : { warmupMs: 1500, loopMs: 600 };
const ROUNDS = QUICK ? 3 : 11;

export interface ThreadsRow {
  readonly target: Target;
  readonly threads: number;
  readonly one: number;
  readonly many: number;
  /** many ÷ one, median of the per-round ratios, and their range */
  readonly ratio: number;
  readonly ratios: number[];
  /** largest relative difference of the parameters after the same steps */
  readonly agreement: number;
}

interface Way {
  readonly params: ParamSet;
  step(i: number): void;
  close(): void;
}

/** Steps timed per call: `nnc train` hands the threads runs of this many steps (ShardPool.trainSteps). */
const RUN = 16;

/** The steps `nnc train` runs for SGD on one thread: sgdStep on the batch's rows (views), RUN of them a call. */
function oneThread(mod: CompiledModule, x: Float64Array, t: Float64Array): Way {
  const params = mod.createParams();
  mod.initParams(params, SEED);
  const grad = mod.createParams();
  const batches = [0, 1].map((j) => ({ inputs: { x: x.subarray(j * BATCH * 784, (j + 1) * BATCH * 784) }, targets: { t: t.subarray(j * BATCH * 10, (j + 1) * BATCH * 10) } }));
  const step = (s: number) => void mod.sgdStep(params, batches[s % 2]!.inputs, batches[s % 2]!.targets, BATCH, LR, grad);
  return {
    params,
    step: (i) => {
      for (let s = 0; s < RUN; s++) step(i * RUN + s);
    },
    close: () => {},
  };
}

/** The steps of train({ threads }), RUN a call: the shards' gradients, then the shards' SGD update of their slices. */
function pooled(mod: CompiledModule, x: Float64Array, t: Float64Array, threads: number): Way {
  const pool = new ShardPool(mod, { count: POOL, inputs: { x }, targets: { t } }, null, threads, BATCH, loadedFrom(mod)!, { name: "sgd", args: { lr: LR } });
  mod.initParams(pool.params, SEED);
  for (let i = 0; i < POOL; i++) pool.order[i] = i;
  const run = Array.from({ length: RUN }, (_, s) => ({ start: (s % 2) * BATCH, count: BATCH, lr: LR }));
  return { params: pool.params, step: () => void pool.trainSteps(run, 0), close: () => pool.close() };
}

function relDiff(a: ParamSet, b: ParamSet): number {
  let worst = 0;
  for (const k of Object.keys(a)) {
    let scale = 0, diff = 0;
    for (let i = 0; i < a[k]!.length; i++) {
      scale = Math.max(scale, Math.abs(b[k]![i]!));
      diff = Math.max(diff, Math.abs(a[k]![i]! - b[k]![i]!));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

export async function benchThreads(threads = THREADS): Promise<ThreadsRow[]> {
  const net = NETWORKS.find((n) => n.id === "C")!;
  const source = readFileSync(join(ROOT!, "bench", "models", net.file), "utf8");
  const { x, t } = makeData(net);
  const rows: ThreadsRow[] = [];
  for (const target of ["ts", "wasm"] as const) {
    const r = await compile(source, { file: net.file, target });
    // a module instance per way: their wasm arenas stay apart
    const one = oneThread(await loadInstance(r.js!), x, t);
    const many = pooled(await loadInstance(r.js!), x, t, threads);
    try {
      one.step(0);
      many.step(0);
      const agreement = relDiff(many.params, one.params);
      const contestants: Contestant<"one" | "many">[] = [
        { impl: "one", prepare: async () => {}, step: one.step, sync: () => {}, settings: SETTINGS },
        { impl: "many", prepare: async () => {}, step: many.step, sync: () => {}, settings: SETTINGS },
      ];
      const timing = await timeInterleaved(contestants, BATCH * RUN, ROUNDS);
      const ratios = pairedRatios(timing.get("many")!, timing.get("one")!);
      rows.push({ target, threads, one: timing.get("one")!.samplesPerSec, many: timing.get("many")!.samplesPerSec, ratio: median(ratios), ratios, agreement });
      log(`  C batch ${BATCH} ${target}: 1 thread ${fmtRate(timing.get("one")!.samplesPerSec)}/s, ${threads} threads ${fmtRate(timing.get("many")!.samplesPerSec)}/s, ${fmtRange(ratios)}`);
    } finally {
      many.close();
    }
  }
  return rows;
}

export function threadsTable(rows: readonly ThreadsRow[]): { text: string; markdown: string } {
  return table(
    ["network", "batch", "target", "1 thread (samples/s)", "threads", "N threads (samples/s)", "speed-up (range)", "params rel. diff"],
    rows.map((r) => ["C", String(BATCH), r.target, fmtRate(r.one), String(r.threads), fmtRate(r.many), fmtRange(r.ratios), r.agreement.toExponential(1)]),
    ["l", "r", "l", "r", "r", "r", "r", "r"],
  );
}

/**
 * The rows of benchThreads, measured in a process of its own (`npm run bench`'s threads row): in
 * the sweep's process the heap the other rows leave (tfjs's among them) keeps V8's helper threads
 * sweeping during the timed loops, and they take the second core that two threads need — the row
 * read 1.2× there against 1.6–1.8× alone, one thread unchanged.
 */
export function threadsInOwnProcess(quick: boolean): ThreadsRow[] {
  const script = join(dirname(fileURLToPath(import.meta.url)), "threads.js");
  const r = spawnSync(process.execPath, ["--expose-gc", script, "--rows-json", ...(quick ? ["--quick"] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`bench/threads.js ended with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout) as ThreadsRow[];
}

async function main(): Promise<void> {
  if (args.includes("--rows-json")) {
    process.stdout.write(JSON.stringify(await benchThreads()));
    return;
  }
  log(`bench:threads — ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  const rows = await benchThreads();
  const { text, markdown } = threadsTable(rows);
  process.stdout.write(`${text}\n`);
  const header = `# Threads: a training step of network C, batch ${BATCH}, 1 vs ${THREADS} threads\n\n${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end; ${ROUNDS} interleaved rounds, speed-up the median of the per-round ratios.\n\n`;
  if (!QUICK) writeFileSync(join(ROOT!, "bench", "results", "threads.md"), header + markdown + "\n");
}

if (process.argv[1]?.endsWith("threads.js")) await main();
