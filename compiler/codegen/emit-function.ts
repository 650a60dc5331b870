/**
 * One function of the module: scheduled (compiler/schedule/: what is stored where, in which mode,
 * by which pattern), then printed as TypeScript (codegen/ts/). emit-module.ts calls this per
 * function.
 */
import { scheduleFunction } from "../schedule/schedule.js";
import type { FunctionSpec, ModuleContext } from "../schedule/input.js";
import type { Schedule } from "../schedule/types.js";
import { printFunction, type EmittedFunction } from "./ts/function.js";
import type { Lang } from "./lang.js";

export type { FunctionSpec, ModuleContext } from "../schedule/input.js";
export type { EmittedFunction } from "./ts/function.js";
export type { Sink } from "../plan/sinks.js";
export { num } from "./ts/expressions.js";

/** The function's code, and the schedule it was printed from (`nnc explain --schedule`). */
export function emitFunction(spec: FunctionSpec, mod: ModuleContext, lang: Lang = "ts"): EmittedFunction & { readonly schedule: Schedule } {
  const schedule = scheduleFunction(spec, mod);
  return { ...printFunction(schedule, lang), schedule };
}
