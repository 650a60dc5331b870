/**
 * The IR: a typed graph of tensor operations. Nodes are created through `Graph.add`, which
 * (1) runs the rewrite rules of optimize/rules.ts (constant folding, algebraic identities, fusion
 * into stable forms) and (2) hash-conses, so a node that already exists is returned instead of
 * built twice (common-subexpression elimination by construction). Node ids are creation order,
 * which is a topological order: an input always has a smaller id than its user.
 * Dead code is never emitted: codegen walks only what the roots reach (see ir/walk.ts).
 *
 * Where a node came from is given explicitly: `g.at(origin, backward)` is a view of the same graph
 * whose `add`, `raw` and `c` stamp every node they create with that origin (the rewrite rules and
 * derivative rules called on the view build through it, so their nodes are stamped too). The graph
 * itself holds no "current statement".
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
  /** true for nodes made by the tangent sweep (Hessian-vector products, autodiff/tangent.ts) */
  tangent: boolean;
}

/** What a node created through a graph (or a view made by `Graph.at`) records about its making. */
export interface Stamp {
  readonly origin: Origin | null;
  /** made by the reverse sweep */
  readonly backward: boolean;
  /** made by the tangent sweep */
  readonly tangent: boolean;
}

const UNSTAMPED: Stamp = { origin: null, backward: false, tangent: false };

export type Rewriter = (g: Graph, op: OpKind, inputs: readonly NodeId[], attrs: Attrs) => NodeId | null;
export type ShapeOf = (g: Graph, op: OpKind, inputs: readonly NodeId[], attrs: Attrs) => Shape;

export class Graph {
  /** the nodes in creation order, shared by every view of the graph (see `at`) */
  readonly nodes: Node[];
  private readonly byKey: Map<string, NodeId>;
  /** what the nodes created through this object are stamped with */
  readonly stamp: Stamp;

  /** An empty graph; `view` is for `at` only: the same nodes, another stamp. */
  constructor(
    private readonly shapeOf: ShapeOf,
    private readonly rewriter: Rewriter | null,
    view?: { readonly of: Graph; readonly stamp: Stamp },
  ) {
    this.nodes = view?.of.nodes ?? [];
    this.byKey = view?.of.byKey ?? new Map();
    this.stamp = view?.stamp ?? UNSTAMPED;
  }

  /** The same graph, creating nodes that come from `origin` (and from the reverse sweep if
   * `backward`, from the tangent sweep if `tangent`). */
  at(origin: Origin | null, backward = false, tangent = false): Graph {
    return new Graph(this.shapeOf, this.rewriter, { of: this, stamp: { origin, backward, tangent } });
  }

  /** An independent copy: the same nodes under the same ids, which the copy may extend and name
   * without touching this graph. */
  copy(): Graph {
    const g = new Graph(this.shapeOf, this.rewriter);
    for (const n of this.nodes) g.nodes.push({ ...n });
    for (const [key, id] of this.byKey) g.byKey.set(key, id);
    return g;
  }

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
    this.nodes.push({ id, op, inputs, shape, num, ref, at, name: null, origin: this.stamp.origin, backward: this.stamp.backward, tangent: this.stamp.tangent });
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
