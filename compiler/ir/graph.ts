/**
 * The IR: a typed graph of tensor operations. Nodes are created through `Graph.add`, which
 * (1) runs the rewrite rules of optimize/rules.ts (constant folding, algebraic identities, fusion
 * into stable forms) and (2) hash-conses, so a node that already exists is returned instead of
 * built twice (common-subexpression elimination by construction). Node ids are creation order,
 * which is a topological order: an input always has a smaller id than its user.
 * Dead code is never emitted: codegen walks only what the roots reach (see ir/walk.ts).
 */
import type { OpKind } from "./op-kinds.js";
import { type Shape } from "./shape.js";

export type NodeId = number;

/** Where a node came from, for comments in the emitted code and for `nnc explain`. */
export interface Origin {
  /** 1-based line of the .nn statement */
  readonly line: number;
  /** the statement's source text, trimmed to one line */
  readonly text: string;
  /** the name the statement defines, if any (equation or layer) */
  readonly defines: string | null;
}

export interface Attrs {
  /** const: the value of every element; pow: the exponent; leaky_relu/elu: alpha; dropout: p */
  readonly num?: number;
  /** input/target/param: the DSL name */
  readonly ref?: string;
  /** index/unindex: the position */
  readonly at?: readonly number[];
  /** unindex/broadcast/const/dropout_mask: the output shape */
  readonly shape?: Shape;
}

export interface Node {
  readonly id: NodeId;
  readonly op: OpKind;
  readonly inputs: readonly NodeId[];
  readonly shape: Shape;
  readonly num: number;
  readonly ref: string;
  readonly at: readonly number[];
  /** a readable name: the user's, or derived from it (dz for the adjoint of z) */
  name: string | null;
  origin: Origin | null;
  /** true for nodes made by the reverse sweep */
  backward: boolean;
}

export type Rewriter = (g: Graph, op: OpKind, inputs: readonly NodeId[], attrs: Attrs) => NodeId | null;
export type ShapeOf = (g: Graph, op: OpKind, inputs: readonly NodeId[], attrs: Attrs) => Shape;

export class Graph {
  readonly nodes: Node[] = [];
  private readonly byKey = new Map<string, NodeId>();
  /** origin stamped on nodes created from now on */
  origin: Origin | null = null;
  backward = false;

  constructor(
    private readonly shapeOf: ShapeOf,
    private readonly rewriter: Rewriter | null,
  ) {}

  node(id: NodeId): Node {
    const n = this.nodes[id];
    if (n === undefined) throw new Error(`internal: no node ${id}`);
    return n;
  }

  shape(id: NodeId): Shape {
    return this.node(id).shape;
  }

  /** Create (or find) a node, after the rewrite rules had their say. */
  add(op: OpKind, inputs: readonly NodeId[], attrs: Attrs = {}): NodeId {
    if (this.rewriter !== null) {
      const r = this.rewriter(this, op, inputs, attrs);
      if (r !== null) return r;
    }
    return this.raw(op, inputs, attrs);
  }

  /** Create (or find) a node exactly as asked, without rewriting. */
  raw(op: OpKind, inputs: readonly NodeId[], attrs: Attrs = {}): NodeId {
    const shape = this.shapeOf(this, op, inputs, attrs);
    const num = attrs.num ?? 0;
    const ref = attrs.ref ?? "";
    const at = attrs.at ?? [];
    const key = `${op}(${inputs.join(",")})[${shape.join(",")}]${num}|${ref}|${at.join(",")}`;
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    if ((op === "add" || op === "mul") && inputs.length === 2) {
      const swapped = this.byKey.get(`${op}(${inputs[1]},${inputs[0]})[${shape.join(",")}]${num}|${ref}|${at.join(",")}`);
      if (swapped !== undefined) return swapped;
    }
    const id = this.nodes.length;
    this.nodes.push({ id, op, inputs, shape, num, ref, at, name: null, origin: this.origin, backward: this.backward });
    this.byKey.set(key, id);
    return id;
  }

  /** Give a node a readable name unless it has one (the first name wins: the user's). */
  nameIt(id: NodeId, name: string): void {
    const n = this.node(id);
    if (n.name === null && n.op !== "const") n.name = name;
  }

  /** A uniform constant tensor. */
  c(value: number, shape: Shape = []): NodeId {
    return this.raw("const", [], { num: value, shape });
  }

  isConst(id: NodeId, value?: number): boolean {
    const n = this.node(id);
    return n.op === "const" && (value === undefined || n.num === value);
  }
}
