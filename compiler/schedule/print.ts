/**
 * The text form of a schedule, for golden files and `nnc explain --schedule`: a line for the
 * function (lanes, which parameters it uses, updates in place and adds to grad), then one line per
 * step in emission order, e.g.
 *
 *   node        h     relu          loop      buffer h_lanes_buf[8×128]  per lane
 *   accumulate  y.b   += dy_z       unrolled  per lane
 *   sweep       y.W   += dy_z ⊗ h   loop      back dh = y.Wᵀ dy_z → buffer dh_lanes_buf[8×128]  blocked 8
 *   update      y.b   −= lr·dy_z    unrolled
 *
 * A node is shown by its name (a parameter, input or target by its DSL name, a constant by its
 * value), an unnamed one as %id, its number in `nnc explain --ir`.
 */
import type { NodeId } from "../ir/graph.js";
import type { Schedule, Step, Storage } from "./types.js";

export function printSchedule(s: Schedule): string {
  const g = s.graph;
  const label = (id: NodeId): string => {
    const n = g.node(id);
    if (n.op === "param" || n.op === "input" || n.op === "target") return n.ref;
    if (n.op === "direction") return `v.${n.ref}`;
    if (n.op === "const") return String(n.num);
    return n.name ?? `%${id}`;
  };
  /** a sink's term: its label, or, unnamed, its op over its inputs' labels */
  const term = (id: NodeId): string => {
    const n = g.node(id);
    const l = label(id);
    return l !== `%${id}` ? l : `${n.op}(${n.inputs.map(label).join(", ")})`;
  };
  const storage = (st: Storage): string => {
    switch (st.kind) {
      case "scalar":
        return `scalar ${st.name}`;
      case "locals": {
        const last = st.shape.reduce((a, b) => a * b, 1) - 1;
        return last === 0 ? `locals ${st.base}_0` : `locals ${st.base}_0…${st.base}_${last}`;
      }
      case "buffer": {
        const size = st.shape.reduce((a, b) => a * b, 1);
        return `buffer ${st.name}[${st.perLane ? `${s.lanes!.count}×${size}` : size}]`;
      }
    }
  };
  const lane = (perLane: boolean) => (perLane ? ["per lane"] : []);
  const row = (step: Step): string[] => {
    switch (step.kind) {
      case "stage":
        return ["stage", label(step.node), "lanes", "loop", storage(step.storage)];
      case "dense": {
        const sum = `${step.weight} ${label(step.x)}${step.bias === null ? "" : ` + ${step.bias}`}`;
        return ["dense", label(step.node), step.relu ? `relu(${sum})` : sum, "kernel", storage(step.storage), "per lane"];
      }
      case "conv": {
        if (step.pass === "weight") return ["conv", step.weight, `+= Σ ${g.node(step.node).op}(${label(step.input)}, ${label(step.delta!)})`, "kernel", step.kernels, "per lane"];
        const what = step.pass === "data" ? `${g.node(step.node).op}(${label(step.input)}, ${step.weight})` : `conv2d(${label(step.input)}, ${step.weight})${step.bias === null ? "" : ` + ${step.bias}`}`;
        return ["conv", label(step.node), step.relu ? `relu(${what})` : what, "kernel", storage(step.storage!), step.kernels, "per lane"];
      }
      case "node":
        return ["node", label(step.node), g.node(step.node).op, step.mode, storage(step.storage), ...lane(step.perLane)];
      case "logsumexp": {
        const softmax = step.softmax === null ? [] : [`softmax ${label(step.softmax.node)} → ${storage(step.softmax.storage)}`];
        return ["logsumexp", label(step.node), `of ${label(g.node(step.node).inputs[0]!)}`, step.mode, storage(step.storage), ...softmax, ...lane(step.perLane)];
      }
      case "sweep": {
        const back = step.back === null ? [] : [`back ${label(step.back.node)} = ${step.param}ᵀ ${label(step.delta)} → ${storage(step.back.storage)}`];
        const blocked = step.kernel !== null ? [`kernel${step.kernel.bias === null ? "" : `, ${step.kernel.bias} += Σ ${label(step.delta)}`}`] : step.blocked === null ? [] : [`blocked ${step.blocked}`];
        const outer = `${label(step.delta)} ⊗ ${label(step.b)}`;
        return ["sweep", step.param, step.update ? `−= lr·${outer}` : `+= ${outer}`, "loop", ...back, ...blocked];
      }
      case "sink":
        return step.sink.kind === "accumulate"
          ? ["accumulate", step.sink.param, `+= ${term(step.sink.node)}`, step.mode, ...lane(step.perLane)]
          : ["output", step.sink.name, `= ${term(step.sink.node)}`, step.mode, ...lane(step.perLane)];
      case "update":
        return ["update", step.sink.param, `−= lr·${term(step.sink.node)}`, step.mode, ...lane(step.perLane)];
      case "return":
        return ["return", term(step.node), "", "", ...(step.cell === null ? [] : [`added to ${step.cell}[0]`]), ...lane(step.perLane)];
    }
  };
  const rows = s.steps.map(row);
  // the first four columns (what, which, of what, mode) aligned; the rest as they come
  const widths = [0, 1, 2, 3].map((c) => Math.max(0, ...rows.map((r) => (r.length > c + 1 ? r[c]!.length : 0))));
  const lines = rows.map((r) => "  " + r.map((cell, c) => (c < 4 && c < r.length - 1 ? cell.padEnd(widths[c]!) : cell)).join("  ").trimEnd());
  return [head(s), ...lines].join("\n") + "\n";
}

function head(s: Schedule): string {
  const parts = [s.spec.name];
  if (s.lanes !== null) parts.push(`lanes ${s.lanes.count}`);
  const list = (what: string, names: readonly string[]) => {
    if (names.length > 0) parts.push(`${what} ${names.join(" ")}`);
  };
  list("uses", s.usedParams);
  list("directions", s.usedDirections);
  list("in place", s.inPlace);
  list(s.bindings.accumulator, s.accumulated);
  list("placed", s.placements.map((p) => (p.grad ? `∂${p.param}` : p.param)));
  return parts.join("  ");
}
