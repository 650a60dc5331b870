/**
 * `npm run bench:hessian`: the cost of a Hessian-vector product against a gradient, per network.
 * On the networks A–D of docs/performance.md (ts target, f64), at batch sizes 1 and 32, the
 * module's gradientBatch and hessianVectorProductBatch are timed side by side in interleaved
 * rounds (bench/harness.ts); the ratio H·v time ÷ gradient time is the median of the per-round
 * ratios. Forward-over-reverse H·v runs the forward and backward pass and their tangents, so
 * the expectation is 2–4×. Writes bench/results/hessian.md.
 *
 *   node --expose-gc dist/bench/hessian.js [--quick] [--only B,C]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { compile, VERSION } from "../compiler/pipeline.js";
import { ownCallSite } from "./call-site.js";
import {
  batchesOf,
  checkFinite,
  fail,
  fmtRange,
  fmtRate,
  loadInstance,
  log,
  makeData,
  NETWORKS,
  pairedRatios,
  ROOT,
  SEED,
  table,
  timeInterleaved,
  type Contestant,
} from "./harness.js";
import { mulberry32 } from "../runtime/random.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const onlyArg = args.indexOf("--only");
const ONLY = onlyArg >= 0 ? new Set((args[onlyArg + 1] ?? "").toUpperCase().split(",")) : null;
const BATCHES = [1, 32];
const TIMING = QUICK ? { warmupMs: 100, loopMs: 40 } : { warmupMs: 1500, loopMs: 200 };
const ROUNDS = QUICK ? 3 : 9;

type Impl = "gradient" | "hvp";
const rows: string[][] = [];
for (const net of NETWORKS) {
  if (ONLY !== null && !ONLY.has(net.id)) continue;
  const source = readFileSync(join(ROOT!, "bench", "models", net.file), "utf8");
  const r = await compile(source, { file: net.file });
  if (r.js === null) fail(`${net.file} does not compile`);
  const m = await loadInstance(r.js);
  const data = makeData(net);
  for (const count of BATCHES) {
    const batches = batchesOf(net, data, count);
    const params = m.createParams() as Record<string, Float64Array>;
    m.initParams(params, SEED);
    const grad = m.createParams() as Record<string, Float64Array>;
    const out = m.createParams() as Record<string, Float64Array>;
    const v = m.createParams() as Record<string, Float64Array>;
    const random = mulberry32(7);
    for (const a of Object.values(v)) for (let i = 0; i < a.length; i++) a[i] = random() - 0.5;
    const inputs = batches.map((b) => ({ x: b.x }));
    const targets = batches.map((b) => ({ t: b.t }));
    const nb = batches.length;
    const gradient = ownCallSite<(i: number) => void>(
      "(m, params, inputs, targets, count, grad, nb) => (i) => { const j = i % nb; m.gradientBatch(params, inputs[j], targets[j], count, grad); }",
    )(m, params, inputs, targets, count, grad, nb);
    const hvp = ownCallSite<(i: number) => void>(
      "(m, params, inputs, targets, count, v, out, nb) => (i) => { const j = i % nb; m.hessianVectorProductBatch(params, inputs[j], targets[j], count, v, out); }",
    )(m, params, inputs, targets, count, v, out, nb);
    const contestants: Contestant<Impl>[] = [
      { impl: "gradient", prepare: async () => {}, step: gradient, sync: () => {}, settings: TIMING },
      { impl: "hvp", prepare: async () => {}, step: hvp, sync: () => {}, settings: TIMING },
    ];
    log(`${net.id} batch ${count}…`);
    const t = await timeInterleaved(contestants, count, ROUNDS);
    checkFinite(`${net.id}/${count}`, "hvp", Object.values(out));
    const g = t.get("gradient")!;
    const h = t.get("hvp")!;
    // time ratio = inverse throughput ratio, round by round
    const ratios = pairedRatios(g, h);
    rows.push([net.id, `${net.spec.sizes.join("-")}`, String(count), fmtRate(g.samplesPerSec), fmtRate(h.samplesPerSec), fmtRange(ratios)]);
  }
}
const header = ["net", "sizes", "batch", "gradient samples/s", "H·v samples/s", "H·v time ÷ gradient time (range)"];
const { text, markdown } = table(header, rows, ["l", "l", "r", "r", "r", "r"]);
process.stdout.write(`\n${text}`);
const meta = `nnc ${VERSION}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, load ${loadavg().map((x) => x.toFixed(2)).join(" ")}${QUICK ? ", --quick" : ""}`;
mkdirSync(join(ROOT!, "bench", "results"), { recursive: true });
writeFileSync(join(ROOT!, "bench", "results", "hessian.md"), `# Hessian-vector product ÷ gradient (npm run bench:hessian)\n\n${meta}\n\n${markdown}`);
