/**
 * Statements over the elements of a tensor, and lanes: unrolled element by element or as nested
 * loops with constant bounds (the current mode); in lane mode the lane loop goes inside the
 * outermost loop, and per-lane values are read at the lane's row of their buffer.
 */
import { numel, type Shape } from "../../ir/shape.js";
import type { BufferStorage, Storage } from "../../schedule/types.js";
import { add, flat, flatConst, indices, type Ix } from "./indexing.js";
import type { Printer } from "./printer.js";

/**
 * Runs over every element of `shape`, unrolled or as nested loops in the current mode: `value`
 * gives the element's expression (pushing any statements it needs to its sink), `store` its
 * statement. `perLane`: the statements run once per lane, the lane loop inside the outermost loop.
 */
export function forEachElement(
  p: Printer,
  out: string[],
  shape: Shape,
  value: (sink: string[], idx: Ix[]) => string,
  store: (idx: Ix[], v: string) => string,
  perLane: boolean,
): void {
  if (perLane && p.laneOffsets === null) {
    if (p.unrolled || shape.length === 0) {
      out.push(
        ...inLaneLoop(p, () => {
          const body: string[] = [];
          forEachElement(p, body, shape, value, store, false);
          return body;
        }),
      );
      return;
    }
    const i = p.loopVar(p.depth);
    p.depth += 1;
    const inner = inLaneLoop(p, () => {
      const body: string[] = [];
      const vars = shape.slice(1).map((_, d) => p.loopVar(p.depth + d));
      p.depth += vars.length;
      const v = value(body, [i, ...vars]);
      body.push(store([i, ...vars], v));
      p.depth -= vars.length;
      return wrapLoops(vars, shape.slice(1), body);
    });
    p.depth -= 1;
    out.push(...wrapLoops([i], [shape[0]!], inner));
    return;
  }
  if (p.unrolled || shape.length === 0) {
    for (const idx of indices(shape)) {
      const v = value(out, idx);
      out.push(store(idx, v));
    }
    return;
  }
  const vars = shape.map((_, d) => p.loopVar(p.depth + d));
  p.depth += shape.length;
  const body: string[] = [];
  const v = value(body, vars);
  body.push(store(vars, v));
  p.depth -= shape.length;
  out.push(...wrapLoops(vars, shape, body));
}

/** `for (lanes)` around the statements `gen` makes, with the sample offsets they read. */
export function inLaneLoop(p: Printer, gen: () => string[]): string[] {
  const outer = p.laneOffsets;
  p.laneOffsets = new Map();
  const body = gen();
  const offsets = [...p.laneOffsets.values()];
  p.laneOffsets = outer;
  const s = p.schedule.lanes!.lane;
  return [`for (let ${s} = 0; ${s} < ${p.schedule.lanes!.arg}; ${s}++) {`, ...offsets, ...body, "}"];
}

export function wrapLoops(vars: readonly string[], dims: Shape, body: string[]): string[] {
  let lines = body;
  for (let d = dims.length - 1; d >= 0; d--) {
    const v = vars[d]!;
    lines = [`for (let ${v} = 0; ${v} < ${dims[d]}; ${v}++) {`, ...lines, "}"];
  }
  return lines;
}

/** The statement that stores `v` as element `idx` of a stored value. */
export function store(p: Printer, st: Storage, idx: Ix[], v: string): string {
  switch (st.kind) {
    case "scalar":
      return `const ${st.name} = ${v};`;
    case "locals":
      return `const ${st.base}_${flatConst(st.shape, idx)} = ${v};`;
    case "buffer":
      return `${st.name}[${bufferIndex(p, st, idx)}] = ${v};`;
  }
}

/** Element `idx` of a stored value. */
export function read(p: Printer, st: Storage, idx: readonly Ix[]): string {
  switch (st.kind) {
    case "scalar":
      return st.name;
    case "locals":
      return `${st.base}_${flatConst(st.shape, idx)}`;
    case "buffer":
      return `${st.name}[${bufferIndex(p, st, idx)}]`;
  }
}

/** The index of element `idx` in a buffer: in a per-lane buffer, in the current lane's row. */
export function bufferIndex(p: Printer, st: BufferStorage, idx: readonly Ix[]): Ix {
  if (!st.perLane) return flat(st.shape, idx);
  if (p.laneOffsets === null) throw new Error("internal: a per-lane buffer read outside a lane loop");
  const size = numel(st.shape);
  const f = flat(st.shape, idx);
  if (typeof p.lane === "number") return typeof f === "number" ? p.lane * size + f : p.lane === 0 ? f : `${f} + ${p.lane * size}`;
  return add(size === 1 ? p.lane : `${p.lane} * ${size}`, f);
}

/** The offset of the current lane's sample in a sample array, declared by the lane's block. */
export function laneOffset(p: Printer, arr: string, offset: string, size: number): string {
  const n = p.schedule.bindings.sampleIndex;
  const lane = p.lane;
  if (typeof lane === "string") {
    p.laneOffsets!.set(offset, `const ${offset} = (${n} + ${lane}) * ${size};`);
    return offset;
  }
  const key = `${arr}:${lane}`;
  let name = p.constLaneOffsets.get(key);
  if (name === undefined) {
    name = p.names.fresh(`${offset}_${lane}`);
    p.constLaneOffsets.set(key, name);
  }
  p.laneOffsets!.set(name, `const ${name} = ${lane === 0 ? n : `(${n} + ${lane})`} * ${size};`);
  return name;
}
