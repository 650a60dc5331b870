/**
 * Scheduling one function: the passes in order, each from the facts so far to new facts
 * (facts.ts), then the Schedule (types.ts) a printer consumes. Names are taken as the passes go,
 * in the order the output depends on: bindings, storage, the lane loop.
 */
import { nameBindings, nameLaneLoop } from "./bindings.js";
import type { FunctionSpec, ModuleContext } from "./input.js";
import { chooseLanes } from "./lanes.js";
import { denseKernels } from "./kernels.js";
import { materialize } from "./materialize.js";
import { chooseModes } from "./mode.js";
import { directionsUsed, paramsUsed } from "./reads.js";
import { fuseSoftmax } from "./softmax.js";
import { orderSteps } from "./steps.js";
import { assignStorage } from "./storage.js";
import { findSweeps } from "./sweeps.js";
import type { Schedule } from "./types.js";
import { scheduleUpdates } from "./update.js";

export function scheduleFunction(spec: FunctionSpec, mod: ModuleContext): Schedule {
  const names = mod.names.child();
  const bindings = nameBindings(spec, names); // arguments and parameter aliases
  const materialized = materialize({ spec, graph: spec.graph }); // stored or inlined
  const moded = chooseModes(materialized, mod.unroll); // unrolled or loops
  const swept = findSweeps(moded); // dense backward sweeps
  const laned = chooseLanes(swept); // samples per call
  const kerneled = denseKernels(laned, mod.target); // dense layers as WebAssembly kernels
  const stored = assignStorage(kerneled, names, mod); // scalar, locals, buffer, per-lane buffer
  const fused = fuseSoftmax(stored); // softmax from its log-sum-exp
  const ordered = orderSteps(fused); // the steps in emission order
  const f = scheduleUpdates(ordered); // update mode: in place or into grad, in which order
  const lanes = nameLaneLoop(f.lanes, names);
  return {
    spec,
    graph: f.graph,
    file: mod.file,
    precision: mod.precision,
    names,
    bindings,
    lanes,
    storage: f.storage,
    usedParams: paramsUsed(f),
    usedDirections: directionsUsed(f),
    inPlace: f.inPlace,
    accumulated: f.accumulated,
    steps: f.steps,
    placements: f.placements,
  };
}
