/**
 * Name resolution, shape checking and lowering to IR, in one walk over the statements: every
 * expression is checked and turned into graph nodes as it is visited, so shapes are known exactly
 * where the diagnostics need them. Errors are reported and replaced by a poison value (`null`), so
 * one mistake does not cascade into others. The graph is only used when there were no errors.
 */
import { Diagnostics } from "../diagnostics/diagnostic.js";
import { LineMap, type Span } from "../diagnostics/span.js";
import type { Graph, NodeId } from "../ir/graph.js";
import { newGraph } from "../optimize/new-graph.js";
import { broadcastShapes, matmulShape, MAX_RANK, numel, showShape, type Shape } from "../ir/shape.js";
import type { Arg, Binary, Call, Expr, Ident, Program, Stmt } from "../syntax/ast.js";
import { ACTIVATIONS, BUILTINS, RELU_LIKE, type Builtin } from "./builtins.js";
import type { InitSpec, Model, OutputInfo, ParamInfo, TargetDomain, TensorInfo } from "./model.js";
import { checkTrainBlock } from "./train-block.js";
import { conv2dLayer, IMAGE_FUNCTIONS, imageCall, sliceOrIndex } from "./image.js";
import { reachable } from "../ir/walk.js";

/** Sizes beyond which the emitted code or the memory it needs would not be reasonable. */
export const LIMITS = { maxDimension: 1 << 24, maxElements: 1 << 26 };

type Kind = "input" | "target" | "param" | "const" | "value";
const KIND_NAMES: Record<Kind, string> = { input: "an input", target: "a target", param: "a parameter", const: "a constant", value: "a value" };
interface Sym {
  readonly kind: Kind;
  readonly node: NodeId | null;
  readonly span: Span;
}

export interface ElaborateOptions {
  /** the model name when the file has no `model` line (the file's stem) */
  readonly defaultName: string;
  /** --set name=value overrides of `const` declarations */
  readonly set?: Readonly<Record<string, number>>;
}

export function elaborate(program: Program, source: string, diags: Diagnostics, options: ElaborateOptions): Model | null {
  return new Elaborator(program, source, diags, options).run();
}

class Elaborator {
  /** the model's graph */
  readonly graph: Graph = newGraph();
  /** the graph as seen from the statement being lowered: what it builds is stamped with that statement */
  g: Graph = this.graph;
  readonly env = new Map<string, Sym>();
  readonly lines: LineMap;
  readonly inputs: TensorInfo[] = [];
  readonly targets: TensorInfo[] = [];
  readonly params: ParamInfo[] = [];
  readonly consts: Record<string, number> = {};
  /** names defined by equations/layers that appear later in the file, for "used before defined" */
  readonly later = new Set<string>();
  hasDropout = false;
  /** per target, the domains its losses require (Builtin.target) */
  readonly targetDomains: Record<string, TargetDomain[]> = {};

  constructor(
    readonly program: Program,
    readonly source: string,
    readonly diags: Diagnostics,
    readonly options: ElaborateOptions,
  ) {
    this.lines = new LineMap(source);
  }

  line(span: Span): number {
    return this.lines.lineCol(span.start).line;
  }

  stamp(stmt: Stmt, defines: string | null): void {
    const text = this.source.slice(stmt.span.start, stmt.span.end).split("\n")[0]!.trim();
    this.g = this.graph.at({ line: this.line(stmt.span), text, defines });
  }

  run(): Model | null {
    const { program, diags } = this;
    let name = this.options.defaultName;
    let modelSeen = false;
    const set = { ...(this.options.set ?? {}) };

    // Pass 1: declarations, usable anywhere in the file.
    for (const s of program.statements) {
      if (s.kind === "model") {
        if (modelSeen) diags.error("NN2006", s.name.span);
        modelSeen = true;
        name = s.name.name;
      } else if (s.kind === "equation" || s.kind === "layer") {
        this.later.add(s.name.name);
      }
    }
    for (const s of program.statements) {
      this.stamp(s, null);
      switch (s.kind) {
        case "input":
        case "target": {
          const shape = this.dims(s.dims, s.name);
          if (!this.declare(s.name, s.kind, null)) break;
          const node = shape ? this.g.raw(s.kind, [], { ref: s.name.name, shape }) : null;
          if (node !== null) this.g.nameIt(node, s.name.name);
          this.env.set(s.name.name, { kind: s.kind, node, span: s.name.span });
          if (shape && node !== null) (s.kind === "input" ? this.inputs : this.targets).push({ name: s.name.name, shape, node, line: this.line(s.span) });
          break;
        }
        case "param": {
          const shape = this.dims(s.dims, s.name);
          const init = s.init ? this.init(s.init) : { kind: "zeros" as const };
          if (!this.declare(s.name, "param", null)) break;
          this.addParam(s.name.name, s.name.span, shape, init, this.line(s.span));
          break;
        }
        case "const": {
          let v = this.constant(s.value, s.name.name);
          if (Object.hasOwn(set, s.name.name)) {
            v = set[s.name.name]!;
            delete set[s.name.name];
          }
          if (!this.declare(s.name, "const", null)) break;
          this.env.set(s.name.name, { kind: "const", node: v === null ? null : this.g.c(v), span: s.name.span });
          if (v !== null) this.consts[s.name.name] = v;
          break;
        }
      }
    }
    for (const unknown of Object.keys(set)) diags.error("NN2016", null, unknown);

    // Pass 2: equations and layers in order, then outputs and the loss.
    const values: OutputInfo[] = [];
    let loss: NodeId | null = null;
    let lossSeen = false;
    let lossText = "";
    const outputs: OutputInfo[] = [];
    let train = {};
    for (const s of program.statements) {
      switch (s.kind) {
        case "equation":
        case "layer": {
          this.stamp(s, s.name.name);
          const v = s.kind === "equation" ? this.expr(s.value) : this.layer(s.name, s.value);
          this.later.delete(s.name.name);
          if (!this.declare(s.name, "value", v)) break;
          if (v !== null) {
            this.g.nameIt(v, s.name.name);
            values.push({ name: s.name.name, node: v });
          }
          break;
        }
        case "loss": {
          this.stamp(s, "loss");
          if (lossSeen) {
            diags.error("NN2005", s.span);
            break;
          }
          lossSeen = true;
          lossText = this.g.stamp.origin!.text;
          const v = this.expr(s.value);
          if (v !== null && this.g.shape(v).length !== 0) diags.error("NN3006", s.value.span, showShape(this.g.shape(v)));
          else loss = v;
          break;
        }
        case "output":
          for (const id of s.names) {
            const sym = this.lookup(id);
            if (sym === null || sym.node === null) continue;
            const target = this.targetOf(sym.node);
            if (target !== null) this.diags.error("NN2020", id.span, id.name, target);
            else outputs.push({ name: id.name, node: sym.node });
          }
          break;
        case "train":
          train = checkTrainBlock(s, diags);
          break;
      }
    }
    if (!lossSeen) diags.error("NN2004", null);
    // the default output: the last equation that predict() can compute
    if (!program.statements.some((s) => s.kind === "output")) {
      const last = values.filter((v) => this.targetOf(v.node) === null).pop();
      if (last !== undefined) outputs.push(last);
    }
    if (diags.hasErrors || loss === null) return null;
    this.g.nameIt(loss, "L");
    this.warnUnused(loss, outputs);
    return {
      name,
      graph: this.graph,
      inputs: this.inputs,
      targets: this.targets,
      params: this.params,
      outputs,
      loss,
      lossText,
      consts: this.consts,
      train,
      hasDropout: this.hasDropout,
      targetDomains: this.targetDomains,
    };
  }

  warnUnused(loss: NodeId, outputs: readonly OutputInfo[]): void {
    const used = reachable(this.g, [loss, ...outputs.map((o) => o.node)]);
    for (const p of this.params) if (!used[p.node]) this.diags.warning("NN2012", this.env.get(p.name)?.span ?? null, p.name);
    const inLoss = reachable(this.g, [loss]);
    if (!this.params.some((p) => inLoss[p.node])) this.diags.warning("NN2018", null);
  }


  /** The name of a target the node depends on, or null. */
  targetOf(id: NodeId): string | null {
    const deps = reachable(this.g, [id]);
    return this.targets.find((t) => deps[t.node])?.name ?? null;
  }


  /** Registers a name; false (and a diagnostic) if it is taken. */
  declare(id: Ident, kind: Kind, node: NodeId | null): boolean {
    // `__proto__` would set the prototype of the objects the module builds from these names
    if (id.name === "__proto__") this.diags.error("NN2019", id.span, id.name);
    const prev = this.env.get(id.name);
    if (prev !== undefined) {
      if (kind === "value" && prev.kind !== "value") this.diags.error("NN2003", id.span, id.name, KIND_NAMES[prev.kind]);
      else this.diags.error("NN2002", id.span, id.name);
      return false;
    }
    if (kind === "value") this.env.set(id.name, { kind, node, span: id.span });
    return true;
  }

  addParam(name: string, span: Span, shape: Shape | null, init: InitSpec | null, line: number): NodeId | null {
    const node = shape ? this.g.raw("param", [], { ref: name, shape }) : null;
    if (node !== null) this.g.nameIt(node, name);
    this.env.set(name, { kind: "param", node, span });
    if (shape && node !== null && init) this.params.push({ name, shape, node, init, line });
    return node;
  }

  lookup(id: { name: string; span: Span }): Sym | null {
    const sym = this.env.get(id.name);
    if (sym !== undefined) return sym;
    if (this.later.has(id.name)) this.diags.error("NN2014", id.span, id.name);
    else if (id.name.includes(".") && !this.env.has(id.name.split(".")[0]!)) this.diags.error("NN2001", id.span, id.name.split(".")[0]!);
    else if (id.name.includes(".")) this.diags.error("NN2015", id.span, id.name.split(".")[0]!);
    else this.diags.error("NN2001", id.span, id.name);
    return null;
  }

  /** `[4, 2]` → [4, 2]; dims must be positive integer constants. */
  dims(dims: readonly Expr[], name: Ident): Shape | null {
    if (dims.length > MAX_RANK) {
      this.diags.error("NN3011", dims[MAX_RANK]!.span, dims.length);
      return null;
    }
    const shape: number[] = [];
    for (const d of dims) {
      const v = this.constant(d, name.name);
      if (v === null) return null;
      if (!Number.isInteger(v) || v <= 0) {
        this.diags.error("NN3010", d.span, String(v));
        return null;
      }
      if (v > LIMITS.maxDimension) {
        this.diags.error("NN5002", d.span, name.name, v, LIMITS.maxDimension);
        return null;
      }
      shape.push(v);
    }
    if (numel(shape) > LIMITS.maxElements) {
      this.diags.error("NN5002", name.span, name.name, numel(shape), LIMITS.maxElements);
      return null;
    }
    return shape;
  }

  /** A compile-time constant scalar, or null (reported). */
  constant(e: Expr, what: string): number | null {
    const v = this.expr(e);
    if (v === null) return null;
    if (!this.g.isConst(v) || this.g.shape(v).length !== 0) {
      this.diags.error("NN2013", e.span, what);
      return null;
    }
    return this.g.node(v).num;
  }

  init(e: Expr): InitSpec | null {
    const name = e.kind === "name" ? e.name : e.kind === "call" ? e.callee.name : null;
    const args = e.kind === "call" ? e.args : [];
    const spec: Record<string, readonly string[]> = {
      zeros: [],
      constant: ["c"],
      normal: ["mean", "std"],
      uniform: ["lo", "hi"],
      lecun: [],
      xavier: [],
      he: [],
    };
    if (name === null || !Object.hasOwn(spec, name)) {
      this.diags.error("NN2010", e.span, name ?? this.source.slice(e.span.start, e.span.end));
      return null;
    }
    const names = spec[name]!;
    const vals = this.bindArgs(name, names.map((n) => ({ name: n, constant: {} })), args, e.span);
    if (vals === null) return null;
    const nums = vals.map((v) => (typeof v === "number" ? v : NaN));
    switch (name) {
      case "zeros":
      case "lecun":
      case "xavier":
      case "he":
        return { kind: name };
      case "constant":
        return { kind: "constant", value: nums[0]! };
      case "normal":
        return { kind: "normal", mean: nums[0]!, std: nums[1]! };
      default:
        return { kind: "uniform", lo: nums[0]!, hi: nums[1]! };
    }
  }

  /**
   * Matches call arguments to a signature: positional first, then keywords. Constant arguments come
   * back as numbers, tensor arguments as Expr (evaluated by the caller). null when reported.
   */
  bindArgs(fn: string, spec: readonly { name: string; constant?: { default?: number } }[], args: readonly Arg[], span: Span): (number | Expr)[] | null {
    const bound: (Expr | undefined)[] = new Array(spec.length).fill(undefined);
    let ok = true;
    let positional = 0;
    for (const a of args) {
      if (a.name === null) {
        if (positional >= spec.length) {
          this.diags.error("NN2008", a.span, fn, plural(spec.length, "argument"), args.length);
          return null;
        }
        bound[positional++] = a.value;
      } else {
        const i = spec.findIndex((s) => s.name === a.name!.name);
        if (i < 0) {
          this.diags.error("NN2009", a.name.span, a.name.name, fn);
          ok = false;
        } else if (bound[i] !== undefined) {
          this.diags.error("NN2017", a.name.span, a.name.name);
          ok = false;
        } else bound[i] = a.value;
      }
    }
    if (!ok) return null;
    const out: (number | Expr)[] = [];
    for (let i = 0; i < spec.length; i++) {
      const s = spec[i]!;
      const e = bound[i];
      if (e === undefined) {
        if (s.constant?.default !== undefined) {
          out.push(s.constant.default);
          continue;
        }
        const required = spec.filter((x) => x.constant?.default === undefined).length;
        this.diags.error("NN2008", span, fn, required === spec.length ? plural(required, "argument") : `${required} to ${spec.length} arguments`, args.length);
        return null;
      }
      if (s.constant) {
        const v = this.constant(e, `${fn}(${s.name})`);
        if (v === null) return null;
        out.push(v);
      } else out.push(e);
    }
    return out;
  }

  withinLimits(what: string, n: number, span: Span): boolean {
    if (n <= LIMITS.maxElements) return true;
    this.diags.error("NN5002", span, what, n, LIMITS.maxElements);
    return false;
  }

  layer(name: Ident, e: Expr): NodeId | null {
    if (e.kind === "call" && e.callee.name === "conv2d") return conv2dLayer(this, name, e);
    // pooling, flatten and concat have no parameters: as a layer they are the expression (§11)
    if (e.kind === "call" && IMAGE_FUNCTIONS.has(e.callee.name)) return this.expr(e);
    if (e.kind !== "call" || e.callee.name !== "dense") {
      this.diags.error("NN1004", e.span, "'dense(input, units, activation)' or 'conv2d(input, filters, kernel, activation)'", describe(e, this.source));
      return null;
    }
    const vals = this.bindArgs("dense", [{ name: "input" }, { name: "units", constant: {} }, { name: "activation" }, { name: "init" }], withDefaultInit(e), e.span);
    if (vals === null) return null;
    const [inputE, units, actE, initE] = vals as [Expr, number, Expr, Expr];
    const input = this.expr(inputE);
    if (actE.kind !== "name" || !(ACTIVATIONS as readonly string[]).includes(actE.name)) {
      this.diags.error("NN2011", actE.span, describe(actE, this.source), ACTIVATIONS.join(", "));
      return null;
    }
    if (!Number.isInteger(units) || units <= 0) {
      this.diags.error("NN3010", e.args[1]!.span, String(units));
      return null;
    }
    if (input === null) return null;
    const xs = this.g.shape(input);
    if (xs.length !== 1) {
      this.diags.error("NN3007", inputE.span, "dense", "a vector input", showShape(xs));
      return null;
    }
    const act = actE.name;
    let init: InitSpec | null;
    if (initE.kind === "name" && initE.name === "__default__") init = { kind: RELU_LIKE.has(act) ? "he" : "xavier" };
    else init = this.init(initE);
    if (init === null) return null;
    const line = this.line(name.span);
    if (numel([units, xs[0]!]) > LIMITS.maxElements) {
      this.diags.error("NN5002", e.span, `${name.name}.W`, units * xs[0]!, LIMITS.maxElements);
      return null;
    }
    const W = this.addParam(`${name.name}.W`, name.span, [units, xs[0]!], init, line)!;
    const b = this.addParam(`${name.name}.b`, name.span, [units], { kind: "zeros" }, line)!;
    const z = this.g.add("add", [this.g.add("matmul", [W, input]), b]);
    this.g.nameIt(z, `${name.name}_z`);
    return this.activate(act, z);
  }

  activate(act: string, z: NodeId): NodeId {
    const f: Builtin | undefined = BUILTINS[act];
    return f!.lower(this.g, [z], f!.args.slice(1).map((a) => a.constant?.default ?? 0));
  }

  expr(e: Expr): NodeId | null {
    const { g, diags } = this;
    switch (e.kind) {
      case "number":
        return g.c(e.value);
      case "string":
        diags.error("NN3012", e.span, this.source.slice(e.span.start, e.span.end)); // a string literal quotes itself
        return null;
      case "error":
        return null;
      case "name": {
        const sym = this.lookup(e);
        return sym?.node ?? null;
      }
      case "unary": {
        const a = this.expr(e.operand);
        if (a === null) return null;
        return e.op === "-" ? g.add("neg", [a]) : a;
      }
      case "binary": {
        if (e.op === "^") {
          const a = this.expr(e.left);
          const k = this.constant(e.right, "^");
          if (a === null || k === null) return null;
          return g.add("pow", [a], { num: k });
        }
        // `a + b + c + …` is a left-leaning chain as deep as it is long (the parser builds it
        // iteratively): walk its spine in a loop, so a 5000-term line cannot overflow the stack.
        const spine: Binary[] = [e];
        for (let l = e.left; l.kind === "binary" && l.op !== "^"; l = l.left) spine.push(l);
        let a = this.expr(spine[spine.length - 1]!.left);
        for (let i = spine.length - 1; i >= 0; i--) a = this.binary(spine[i]!, a);
        return a;
      }
      case "range":
        diags.error("NN3021", e.span);
        return null;
      case "index": {
        const a = this.expr(e.target);
        if (a === null) return null;
        if (e.indices.some((i) => i.kind === "range")) return sliceOrIndex(this, e, a);
        const shape = g.shape(a);
        if (e.indices.length !== shape.length) {
          diags.error("NN3005", e.span, e.indices.length, showShape(shape));
          return null;
        }
        const at: number[] = [];
        for (let i = 0; i < e.indices.length; i++) {
          const ie = e.indices[i]!;
          const v = this.expr(ie);
          if (v === null) return null;
          if (!g.isConst(v) || g.shape(v).length !== 0 || !Number.isInteger(g.node(v).num) || g.node(v).num < 0) {
            diags.error("NN3009", ie.span);
            return null;
          }
          const k = g.node(v).num;
          if (k >= shape[i]!) {
            diags.error("NN3004", ie.span, k, shape[i]!);
            return null;
          }
          at.push(k);
        }
        return g.add("index", [a], { at });
      }
      case "call":
        return this.call(e);
    }
  }

  /** One non-`^` binary operation whose left operand is already lowered (null: poisoned). */
  binary(e: Binary, a: NodeId | null): NodeId | null {
    const { g, diags } = this;
    const b = this.expr(e.right);
    if (a === null || b === null || e.op === "^") return null;
    const sa = g.shape(a), sb = g.shape(b);
    if (e.op === "@") {
      if (sa.length !== 2) {
        diags.error("NN3002", e.left.span, showShape(sa));
        return null;
      }
      if (matmulShape(sa, sb) === null) {
        diags.error("NN3003", e.opSpan, showShape(sa), showShape(sb), sa[1]!, sb.length === 0 ? "(scalar)" : sb[0]!);
        return null;
      }
      return g.add("matmul", [a, b]);
    }
    if (broadcastShapes(sa, sb) === null) {
      diags.error("NN3001", e.opSpan, showShape(sa), showShape(sb), e.op);
      return null;
    }
    if (e.op === "/" && g.isConst(b, 0) && g.isConst(a)) diags.error("NN3014", e.right.span);
    const op = ({ "+": "add", "-": "sub", "*": "mul", "/": "div" } as const)[e.op];
    return g.add(op, [a, b]);
  }

  call(e: Call): NodeId | null {
    const name = e.callee.name;
    if (name === "dense") {
      this.diags.error("NN1004", e.span, "'layer NAME = dense(…)'", "'dense' in an expression");
      return null;
    }
    if (IMAGE_FUNCTIONS.has(name)) return imageCall(this, e);
    const f = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
    if (f === undefined) {
      this.diags.error("NN2007", e.callee.span, name);
      return null;
    }
    const vals = this.bindArgs(name, f.args, e.args, e.span);
    if (vals === null) return null;
    const nodes: NodeId[] = [];
    const exprs: Expr[] = [];
    const nums: number[] = [];
    let ok = true;
    f.args.forEach((spec, i) => {
      const v = vals[i]!;
      if (spec.constant) nums.push(v as number);
      else {
        const node = this.expr(v as Expr);
        if (node === null) ok = false;
        else {
          nodes.push(node);
          exprs.push(v as Expr);
        }
      }
    });
    if (!ok) return null;
    const bad = f.check(nodes.map((n) => this.g.shape(n)));
    if (bad !== null) {
      this.diags.error("NN3007", exprs[bad.argIndex]!.span, name, bad.expected, showShape(this.g.shape(nodes[bad.argIndex]!)));
      return null;
    }
    if (name === "dropout") {
      if (!(nums[0]! >= 0 && nums[0]! < 1)) {
        this.diags.error("NN3013", e.span, name, nums[0]!);
        return null;
      }
      this.hasDropout = true;
    }
    if (f.target !== undefined) {
      // only a target given as is: `0.9 * t + 0.05` (label smoothing) is the user's own business
      const target = this.targets.find((tt) => tt.node === nodes[f.target!.arg]);
      if (target !== undefined) {
        const list = (this.targetDomains[target.name] ??= []);
        if (!list.includes(f.target.domain)) list.push(f.target.domain);
      }
    }
    return f.lower(this.g, nodes, nums);
  }
}

/** dense(x, n, act) with no init: a marker the layer code replaces by he or xavier. */
function withDefaultInit(call: Call): readonly Arg[] {
  const hasInit = call.args.some((a) => a.name?.name === "init") || call.args.length >= 4;
  if (hasInit) return call.args;
  return [...call.args, { name: { name: "init", span: call.span }, value: { kind: "name", name: "__default__", span: call.span }, span: call.span }];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function describe(e: Expr, source: string): string {
  return `'${source.slice(e.span.start, e.span.end).split("\n")[0]}'`;
}
