/**
 * The state of printing one scheduled function as TypeScript: where the printer is (the current
 * mode, loop depth, lane) and the temporaries it has named so far. Nothing here decides what is
 * computed or stored: that is the Schedule's. Names come from a child of the schedule's table, in
 * the order the statements are printed.
 */
import type { Graph } from "../../ir/graph.js";
import type { Shape } from "../../ir/shape.js";
import type { NameTable } from "../names.js";
import type { Schedule } from "../../schedule/types.js";

export class Printer {
  readonly g: Graph;
  readonly names: NameTable;
  /** loop variables by nesting depth: i, j, k, … */
  private readonly loopVars: string[] = [];
  /** the loop nesting depth of the statement being printed */
  depth = 0;
  /** the mode of the step being printed: every index a constant (true), or loops */
  unrolled = true;
  /** the lane being printed: the lane loop's variable, or a constant in a blocked sweep */
  lane: string | number;
  /** inside a lane loop (or a blocked sweep): the declarations of the sample offsets its body reads, by name */
  laneOffsets: Map<string, string> | null = null;
  /** names of the per-lane sample offsets of the blocked sweeps, by array and lane */
  readonly constLaneOffsets = new Map<string, string>();
  /** the sample arrays by DSL name, with the name of the offset of sample n in them once one is read */
  readonly samples = new Map<string, { readonly array: string; readonly shape: Shape; offset: string | null }>();
  /** the output arrays by output name */
  readonly outputs: ReadonlyMap<string, string>;
  /** the local alias of each grad array the function writes, in order of first use */
  readonly gradAlias = new Map<string, string>();
  private readonly used: ReadonlySet<string>;

  constructor(readonly schedule: Schedule) {
    this.g = schedule.graph;
    this.names = schedule.names.child();
    this.lane = schedule.lanes?.lane ?? "s";
    for (const a of schedule.bindings.samples) this.samples.set(a.name, { array: a.array, shape: a.shape, offset: null });
    this.outputs = new Map(schedule.bindings.outputs.map((o) => [o.name, o.array]));
    this.used = new Set(schedule.usedParams);
  }

  loopVar(depth: number): string {
    while (this.loopVars.length <= depth) this.loopVars.push(this.names.fresh("ijklmnpq"[this.loopVars.length] ?? "r"));
    return this.loopVars[depth]!;
  }

  /** the parameter's array (the schedule says which ones the function binds) */
  param(name: string): string {
    if (!this.used.has(name)) throw new Error(`internal: parameter '${name}' is used but not in the schedule's usedParams`);
    return this.schedule.bindings.params.get(name)!;
  }

  /** the direction v[name] of a Hessian-vector product */
  direction(name: string): string {
    if (!this.schedule.usedDirections.includes(name)) throw new Error(`internal: direction '${name}' is used but not in the schedule's usedDirections`);
    return this.schedule.bindings.directions.get(name)!;
  }

  /** the local alias of grad[param] (out[param] for a Hessian-vector product), declared in the function's head once something writes it */
  grad(param: string): string {
    let alias = this.gradAlias.get(param);
    if (alias === undefined) {
      alias = this.names.fresh(this.schedule.spec.hessian === true ? `Hv_${param}` : `d${param}`);
      this.gradAlias.set(param, alias);
    }
    return alias;
  }
}
