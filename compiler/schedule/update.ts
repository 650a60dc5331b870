/**
 * Pass 8, update mode (FunctionSpec.update, behind the module's sgdStep): plain SGD fused into the
 * backward pass. Each accumulate sink subtracts lr × its term from the parameter itself instead of
 * adding it to grad: a sweep does it in its own pass over W (reading each W[i, j] for Wᵀδ just
 * before it changes); every other update is deferred to the end of the function, after every other
 * step, in an order where an update comes before the updates of the parameters its own expression
 * reads (an inlined δ = Wᵀδ′ reads W).
 *
 * A parameter that a later step still reads — directly or through inlined nodes — after its update
 * (on a cycle of such reads, or in its own update's expression) cannot be updated in place: it
 * accumulates into grad instead, and the steps are laid out again without it until no read comes
 * after an update (each round moves at least one parameter, so this ends).
 */
import type { Ordered, Updated } from "./facts.js";
import { paramsRead, paramsReadBy } from "./reads.js";
import type { SinkStep, Step, UpdateStep } from "./types.js";

export function scheduleUpdates(f: Ordered): Updated {
  if (f.spec.update !== true) return { ...f, ...gradients(f, f.steps) };
  const toGrad = new Set<string>();
  for (;;) {
    const steps = withUpdates(f, toGrad);
    const late = readAfterUpdate(f, steps);
    if (late.size === 0) return { ...f, steps, ...gradients(f, steps) };
    for (const p of late) toGrad.add(p);
  }
}

/** The steps with every gradient but those of `toGrad` applied in place. */
function withUpdates(f: Ordered, toGrad: ReadonlySet<string>): Step[] {
  const steps: Step[] = [];
  const deferred: UpdateStep[] = [];
  for (const step of f.steps) {
    if (step.kind === "sweep" && !toGrad.has(step.param)) steps.push({ ...step, update: true });
    else if (step.kind === "sink" && step.sink.kind === "accumulate" && !toGrad.has(step.sink.param)) deferred.push(updateStep(step));
    else if (step.kind !== "return") steps.push(step);
  }
  steps.push(...updateOrder(f, deferred));
  const ret = f.steps.at(-1);
  if (ret?.kind === "return") steps.push(ret);
  return steps;
}

function updateStep(step: SinkStep): UpdateStep {
  if (step.sink.kind !== "accumulate") throw new Error("internal: an update of an output");
  return { kind: "update", sink: step.sink, mode: step.mode, perLane: step.perLane };
}

/**
 * The deferred updates, each before the updates of the parameters its own expression reads:
 * repeatedly the first whose parameter no remaining update reads. On a cycle the rest keep their
 * order (readAfterUpdate then finds the read).
 */
function updateOrder(f: Ordered, updates: readonly UpdateStep[]): UpdateStep[] {
  const reads = updates.map((u) => paramsRead(f.graph, f.storage, [u.sink.node]));
  const param = (k: number) => updates[k]!.sink.param;
  const left = updates.map((_, k) => k);
  const order: UpdateStep[] = [];
  while (left.length > 0) {
    const free = left.findIndex((k) => left.every((o) => o === k || param(o) === param(k) || !reads[o]!.has(param(k))));
    const at = free < 0 ? 0 : free;
    order.push(updates[left[at]!]!);
    left.splice(at, 1);
  }
  return order;
}

/**
 * The parameters some step reads after their update: an update step counts as changing its
 * parameter before it reads anything (its term may not read the parameter it changes); an update
 * sweep after it has read δ, b and W.
 */
function readAfterUpdate(f: Ordered, steps: readonly Step[]): Set<string> {
  const updated = new Set<string>();
  const late = new Set<string>();
  for (const step of steps) {
    if (step.kind === "update") updated.add(step.sink.param);
    for (const p of paramsReadBy(f.graph, f.storage, step)) if (updated.has(p)) late.add(p);
    if (step.kind === "sweep" && step.update) updated.add(step.param);
  }
  return late;
}

/** which parameters are updated in place and which accumulate into grad, in spec.params order */
function gradients(f: Ordered, steps: readonly Step[]): { inPlace: string[]; accumulated: string[] } {
  const inPlace = new Set<string>();
  const accumulated = new Set<string>();
  for (const s of steps) {
    if (s.kind === "update") inPlace.add(s.sink.param);
    else if (s.kind === "sweep") (s.update ? inPlace : accumulated).add(s.param);
    else if (s.kind === "sink" && s.sink.kind === "accumulate") accumulated.add(s.sink.param);
  }
  const names = f.spec.params.map((p) => p.name);
  return { inPlace: names.filter((p) => inPlace.has(p)), accumulated: names.filter((p) => accumulated.has(p)) };
}
