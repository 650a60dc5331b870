/**
 * The names a function binds before its body: its arguments and its parameters' aliases, taken
 * before any name from the source (an input may be called lr or n), and the lane loop's names,
 * taken after the storage's. Their order is the output's: a later name gets the suffix on a clash.
 */
import type { NameTable } from "../codegen/names.js";
import type { FunctionSpec } from "./input.js";
import type { Bindings, Schedule } from "./types.js";

export function nameBindings(spec: FunctionSpec, names: NameTable): Bindings {
  names.reserve("params");
  if (spec.grad) names.reserve("grad");
  const hessian = spec.hessian === true;
  if (hessian) names.reserve("v");
  const accumulator = hessian ? names.reserve("out") : "grad";
  const random = spec.random ? names.reserve("random") : null;
  const lr = spec.update === true ? names.reserve("lr") : null;
  const sampleIndex = spec.samples.length > 0 ? names.reserve("n") : "n";
  const samples = spec.samples.map((s) => ({ name: s.name, array: names.fresh(s.name), shape: s.shape }));
  const outputs = spec.sinks.flatMap((s) => (s.kind === "output" ? [{ name: s.name, array: names.fresh(`${s.name}Out`) }] : []));
  const params = new Map(spec.params.map((p) => [p.name, names.fresh(p.name)] as const));
  const directions = new Map(hessian ? spec.params.map((p) => [p.name, names.fresh(`v_${p.name}`)] as const) : []);
  return { samples, sampleIndex, lr, outputs, random, params, directions, accumulator };
}

export function nameLaneLoop(count: number, names: NameTable): Schedule["lanes"] {
  if (count === 0) return null;
  return { count, arg: names.fresh("lanes"), lane: names.fresh("s") };
}
