/**
 * The derivation as text: the backward equations of the loss as written (Plan.explained), in the
 * notation of the lecture notes. Values the user named print as their names, adjoints as
 * ∂L/∂name; everything else is written out inline. `nnc explain` prints these equations, and the
 * emitted code carries the same text in the comment above each backward block: one source, so a
 * reviewer reads in the module exactly what `explain` prints.
 */
import type { Graph, NodeId } from "../ir/graph.js";
import type { Shape } from "../ir/shape.js";
import type { Gradient } from "./plan.js";
import type { Sink } from "./sinks.js";

export interface Derivations {
  /**
   * The adjoints of named forward values, grouped by the statement they come from, by `.nn` line
   * (in the order the reverse sweep made them): `∂L/∂h_z = 𝟙[h > 0] ⊙ ∂L/∂h`.
   */
  readonly statements: ReadonlyMap<number, { readonly text: string; readonly equations: readonly string[] }>;
  /** each parameter's whole gradient (the sum over its uses), in the model's order */
  readonly params: readonly { readonly name: string; readonly shape: Shape; readonly equation: string }[];
}

/**
 * The second-order derivation: the tangents along v (R{x} = ∂x(θ + εv)/∂ε at ε = 0) the tangent
 * sweep built over the forward and the backward graph of the loss as written, and each
 * parameter's part of H·v = R{∂L/∂θ} (Plan.hessian). `nnc explain --hessian` prints it; the
 * tangent blocks of the emitted Hessian-vector functions carry the same text.
 */
export interface HessianDerivations {
  /** the tangents of named forward values, by `.nn` line: `R{h} = 𝟙[h > 0] ⊙ (v_W x + v_b)` */
  readonly forward: ReadonlyMap<number, { readonly text: string; readonly equations: readonly string[] }>;
  /** the tangents of the adjoints of named forward values, by `.nn` line: `R{∂L/∂h} = …` */
  readonly backward: ReadonlyMap<number, { readonly text: string; readonly equations: readonly string[] }>;
  /** each parameter's part of H·v */
  readonly params: readonly { readonly name: string; readonly shape: Shape; readonly equation: string }[];
}

/** The tangent sweep's result on the loss as written: the nodes from `firstTangent` on are its. */
export interface Tangent extends Gradient {
  readonly firstTangent: NodeId;
  /** H·v = R{∂L/∂θ} for every parameter, in the model's order */
  readonly hv: readonly NodeId[];
}

export function deriveHessian(t: Tangent, params: readonly { readonly name: string; readonly shape: Shape }[]): HessianDerivations {
  const printer = new MathPrinter(t.graph, t.firstBackward, t.firstTangent);
  const forward = new Map<number, { text: string; equations: string[] }>();
  const backward = new Map<number, { text: string; equations: string[] }>();
  for (let id = t.firstTangent; id < t.graph.nodes.length; id++) {
    const n = t.graph.node(id);
    const of = n.name === null || n.origin === null ? null : printer.tangentOf(n.name);
    if (of === null) continue;
    const into = n.backward ? backward : forward;
    const s = into.get(n.origin!.line) ?? { text: n.origin!.text, equations: [] };
    s.equations.push(`R{${of}} = ${printer.bounded(() => printer.expr(id, true))}`);
    into.set(n.origin!.line, s);
  }
  return {
    forward,
    backward,
    params: params.map((p, k) => {
      const text = printer.bounded(() => {
        const named = printer.expr(t.hv[k]!);
        return named === `R{∂L/∂${p.name}}` ? printer.expr(t.hv[k]!, true) : named;
      });
      return { name: p.name, shape: p.shape, equation: `(H·v)_${p.name} = ${text}` };
    }),
  };
}

/** What the comments above the tangent blocks of a Hessian-vector function show, by `.nn` line (see derivationComments). */
export function tangentComments(d: HessianDerivations, g: Graph, sinks: readonly Sink[]): { readonly forward: ReadonlyMap<number, readonly string[]>; readonly backward: ReadonlyMap<number, readonly string[]> } {
  const forward = new Map<number, string[]>();
  const backward = new Map<number, string[]>();
  for (const [line, s] of d.forward) forward.set(line, [...s.equations]);
  for (const [line, s] of d.backward) backward.set(line, [...s.equations]);
  for (const sink of sinks) {
    if (sink.kind !== "accumulate") continue;
    const n = g.node(sink.node);
    if (n.origin === null) continue;
    const into = n.backward ? backward : forward;
    const { equation } = d.params.find((p) => p.name === sink.param)!;
    const list = into.get(n.origin.line) ?? [];
    if (!list.includes(equation)) list.push(equation);
    into.set(n.origin.line, list);
  }
  return { forward, backward };
}

export function derive(explained: Gradient, params: readonly { readonly name: string; readonly shape: Shape }[]): Derivations {
  const { graph: g, grads, firstBackward } = explained;
  const printer = new MathPrinter(g, firstBackward);
  const statements = new Map<number, { text: string; equations: string[] }>();
  for (let id = firstBackward; id < g.nodes.length; id++) {
    const n = g.node(id);
    if (n.name === null || !n.name.startsWith("d") || n.origin === null) continue;
    const of = n.name.slice(1);
    if (!printer.forwardNames.has(of)) continue;
    const line = n.origin.line;
    const s = statements.get(line) ?? { text: n.origin.text, equations: [] };
    s.equations.push(`∂L/∂${of} = ${printer.bounded(() => printer.expr(id, true))}`);
    statements.set(line, s);
  }
  return {
    statements,
    params: params.map((p, k) => {
      const text = printer.bounded(() => {
        const named = printer.expr(grads[k]!);
        return named === `∂L/∂${p.name}` ? printer.expr(grads[k]!, true) : named;
      });
      const equation = `∂L/∂${p.name} = ${text}`;
      return { name: p.name, shape: p.shape, equation };
    }),
  };
}

/**
 * What the comment above each backward block of a function shows, by `.nn` line: the equations of
 * the statement, and the whole gradient of each parameter the function accumulates in that block
 * (the statement of its accumulate sink's term), each equation once. A function that computes part
 * of a sum (the per-sample terms, the regularizer, dropout's training mode) shows the whole
 * derivation it is part of, as `nnc explain` prints it. The updates sampleSgdStep defers until
 * nothing reads θ any more come after the backward blocks and show no equation (the gradient
 * function's blocks show them).
 */
export function derivationComments(d: Derivations, g: Graph, sinks: readonly Sink[]): ReadonlyMap<number, readonly string[]> {
  const out = new Map<number, string[]>();
  for (const [line, s] of d.statements) out.set(line, [...s.equations]);
  for (const sink of sinks) {
    if (sink.kind !== "accumulate") continue;
    const line = g.node(sink.node).origin?.line;
    if (line === undefined) continue;
    const { equation } = d.params.find((p) => p.name === sink.param)!;
    const list = out.get(line) ?? [];
    if (!list.includes(equation)) list.push(equation);
    out.set(line, list);
  }
  return out;
}

/** The longest right-hand side printed, in characters (the longest in the tests' models has 300). */
export const MAX_EQUATION = 1000;
/** The deepest expression printed, in nested operations. */
const MAX_DEPTH = 256;

class TooLong extends Error {}

class MathPrinter {
  readonly forwardNames = new Set<string>();
  /** printed text by node (id, or −1 − id for a node expanded at the top) */
  private readonly printed = new Map<number, string>();
  private depth = 0;
  constructor(
    readonly g: Graph,
    readonly firstBackward: number,
    /** the nodes from here on are the tangent sweep's (none by default) */
    readonly firstTangent = Infinity,
  ) {
    for (let id = 0; id < firstBackward; id++) {
      const n = g.node(id);
      if (n.name !== null) this.forwardNames.add(n.name);
    }
  }

  /**
   * A node as math; `top` expands a named node instead of printing its name. Throws TooLong for
   * text longer than MAX_EQUATION or nested deeper than MAX_DEPTH (each level adds a character, so
   * a deep expression is a long one): a sum of 5000 uses would otherwise print megabytes, and a
   * chain of 2000 products overflow the stack. Memoized: each node is printed once.
   */
  expr(id: NodeId, top = false): string {
    const key = top ? -1 - id : id;
    const known = this.printed.get(key);
    if (known !== undefined) return known;
    if (this.depth >= MAX_DEPTH) throw new TooLong();
    this.depth++;
    let text: string;
    try {
      text = this.print(id, top);
    } finally {
      this.depth--;
    }
    if (text.length > MAX_EQUATION) throw new TooLong();
    this.printed.set(key, text);
    return text;
  }

  private print(id: NodeId, top: boolean): string {
    const g = this.g;
    const n = g.node(id);
    if (!top && n.name !== null) {
      const tangent = id >= this.firstTangent ? this.tangentOf(n.name) : null;
      if (tangent !== null) return `R{${tangent}}`;
      if (id >= this.firstBackward && n.name.startsWith("d") && this.forwardNames.has(n.name.slice(1))) return `∂L/∂${n.name.slice(1)}`;
      if (id < this.firstBackward) return n.name;
    }
    const a = (k: number) => this.wrap(n.inputs[k]!);
    switch (n.op) {
      case "const":
        return String(n.num);
      case "input":
      case "target":
      case "param":
        return n.ref;
      case "direction":
        return `v_${n.ref}`;
      case "neg":
        return `−${a(0)}`;
      case "add":
        return `${this.expr(n.inputs[0]!)} + ${this.expr(n.inputs[1]!)}`;
      case "sub":
        return `${this.expr(n.inputs[0]!)} − ${a(1)}`;
      case "mul":
        return [0, 1].some((k) => g.shape(n.inputs[k]!).length === 0 || g.isConst(n.inputs[k]!)) ? `${a(0)}·${a(1)}` : `${a(0)} ⊙ ${a(1)}`;
      case "div":
        return `${a(0)} / ${a(1)}`;
      case "pow":
        return `${a(0)}^${n.num}`;
      case "matmul":
        return `${a(0)} ${a(1)}`;
      case "transpose":
        return `${a(0)}ᵀ`;
      case "outer":
        return `${a(0)} ${a(1)}ᵀ`;
      case "sum":
        return `Σ ${a(0)}`;
      case "broadcast":
        return `${a(0)}·𝟙`;
      case "index":
        return `${a(0)}[${n.at.join(", ")}]`;
      case "unindex":
        return `e[${n.at.join(", ")}]·${a(0)}`;
      case "gt_select":
        return `𝟙[${this.expr(n.inputs[0]!)} > ${this.expr(n.inputs[1]!)}] ${this.selected(n.inputs[2]!, n.inputs[3]!)}`;
      case "ge_select":
        return `𝟙[${this.expr(n.inputs[0]!)} ≥ ${this.expr(n.inputs[1]!)}] ${this.selected(n.inputs[2]!, n.inputs[3]!)}`;
      case "sigmoid":
        return `σ(${this.expr(n.inputs[0]!)})`;
      case "leaky_relu":
      case "elu":
        return `${n.op}(${this.expr(n.inputs[0]!)}, ${n.num})`;
      // the convolution's backward pass (ir/ops.ts): δ_in = full-corr(δ, rot180(W)), ∂W = corr(x, δ) summed over positions
      case "conv2d":
        return `conv2d(${this.expr(n.inputs[0]!)}, ${this.expr(n.inputs[1]!)}${convNote(n.at)})`;
      case "conv2d_backward_input":
        return `full-corr(${this.expr(n.inputs[0]!)}, rot180(${this.expr(n.inputs[1]!)})${convNote(n.at)})`;
      case "conv2d_backward_weight":
        return `corr(${this.expr(n.inputs[0]!)}, ${this.expr(n.inputs[1]!)}${convNote(n.at)})`;
      case "maxpool_backward":
        return `${this.wrap(n.inputs[1]!)} at argmax${n.at[0]}×${n.at[0]}(${this.expr(n.inputs[0]!)})`;
      case "maxpool_gather":
        return `${this.wrap(n.inputs[1]!)}[argmax${n.at[0]}×${n.at[0]}(${this.expr(n.inputs[0]!)})]`;
      case "avgpool_backward":
        return `spread${n.at[0]}×${n.at[0]}(${this.expr(n.inputs[0]!)}) / ${n.at[0]! * n.at[0]!}`;
      case "maxpool":
      case "avgpool":
        return `${n.op}${n.at[0]}×${n.at[0]}(${this.expr(n.inputs[0]!)})`;
      case "slice":
        return `${a(0)}[${sliceNote(n.at)}]`;
      case "unslice":
        return `scatter[${sliceNote(n.at)}](${this.expr(n.inputs[0]!)})`;
      case "reshape":
        return `${a(0)} as [${n.shape.join(", ")}]`;
      default:
        return `${n.op}(${n.inputs.map((i) => this.expr(i)).join(", ")})`;
    }
  }

  /** what a tangent node's name `R_x` is the tangent of, as math (x, ∂L/∂x), or null for another name */
  tangentOf(name: string): string | null {
    if (!name.startsWith("R_")) return null;
    const of = name.slice(2);
    if (this.forwardNames.has(of)) return of;
    if (of.startsWith("d") && this.forwardNames.has(of.slice(1))) return `∂L/∂${of.slice(1)}`;
    return null;
  }

  /** `print()`, or for an expression too long to read a note that says so */
  bounded(print: () => string): string {
    try {
      return print();
    } catch (e) {
      if (!(e instanceof TooLong)) throw e;
      return `(an expression of more than ${MAX_EQUATION} characters: nnc explain --ir shows it as a graph)`;
    }
  }

  selected(x: NodeId, y: NodeId): string {
    if (this.g.isConst(y, 0)) return `⊙ ${this.wrap(x)}`;
    if (this.g.isConst(x, 0)) return `(else ${this.expr(y)})`;
    return `? ${this.wrap(x)} : ${this.wrap(y)}`;
  }

  wrap(id: NodeId): string {
    const s = this.expr(id);
    return /^[\p{L}\p{N}_.∂/\[\], ·ᵀ{}]*$/u.test(s) && !/[ ]/.test(s) ? s : `(${s})`;
  }
}

/** ", stride 2, pad 1" for a convolution's attributes that are not the defaults */
function convNote(at: readonly number[]): string {
  const [stride, top, left, bottom, right] = at;
  const pad = top === left && left === bottom && bottom === right ? `${top}` : `${top},${left},${bottom},${right}`;
  return `${stride !== 1 ? `, stride ${stride}` : ""}${pad !== "0" ? `, pad ${pad}` : ""}`;
}

/** `0, 0:14, :`-style text of a slice's attributes (ir/conv.ts) */
function sliceNote(at: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i + 2 < at.length; i += 3) parts.push(at[i + 2] === 1 ? `${at[i]}` : `${at[i]}:${at[i + 1]}`);
  return parts.join(", ");
}
