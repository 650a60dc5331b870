/**
 * Pass 4, lanes: whether the function processes up to FunctionSpec.maxLanes samples per call, the
 * lane loop inside each row loop, so that a weight row is fetched once for all of them
 * (docs/performance.md). It pays only where there are loops over per-sample values; per-sample
 * values then live in buffers with one row per lane (a local cannot outlive the lane loop that
 * computes it), which is why a function with much unrolled per-sample work stays out of it.
 */
import type { Laned, Swept } from "./facts.js";
import { numel } from "../ir/shape.js";

/**
 * Lane mode is not used when the unrolled per-sample work exceeds this: with `--unroll 512`,
 * network B's sampleGradient in lane mode ran 20× slower (V8 did not optimize it).
 */
const MAX_UNROLLED_LANE_WORK = 1024;

export function chooseLanes(f: Swept): Laned {
  const { spec, graph: g } = f;
  const perSample = new Uint8Array(g.nodes.length);
  for (const id of f.reach) {
    const node = g.node(id);
    perSample[id] = node.op === "input" || node.op === "target" || node.op === "dropout_mask" || node.inputs.some((i) => perSample[i] === 1) ? 1 : 0;
  }
  const max = spec.maxLanes ?? 0;
  const laneMode =
    max > 1 &&
    !spec.random &&
    spec.samples.length > 0 &&
    spec.sinks.every((s) => s.kind !== "return" || spec.lossCell !== undefined) &&
    ([...f.stored].some((id) => perSample[id] === 1 && !f.unrolled.get(id)) || spec.sinks.some((s) => !f.sinkUnrolled.get(s))) &&
    unrolledSampleWork(f, perSample) <= MAX_UNROLLED_LANE_WORK;
  return { ...f, perSample, lanes: laneMode ? max : 0 };
}

/** The unrolled per-sample work: in lane mode its locals would become per-lane buffer accesses. */
function unrolledSampleWork(f: Swept, perSample: Uint8Array): number {
  const g = f.graph;
  let w = 0;
  for (const id of f.stored) if (perSample[id] === 1 && f.unrolled.get(id)) w += numel(g.shape(id)) * f.work[id]!;
  for (const s of f.spec.sinks) if (f.sinkUnrolled.get(s)) w += numel(g.shape(s.node)) * (f.stored.has(s.node) ? 1 : f.work[s.node]!);
  return w;
}
