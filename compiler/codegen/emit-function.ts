/**
 * Emits one straight-line TypeScript function from a graph: the forward values it needs, the
 * gradients it accumulates, the loss it returns.
 *
 * Scheduling, in three passes over the nodes the sinks reach:
 *  1. materialize — a node used more than once (counting through inlined users), or one that needs
 *     its input several times (log-sum-exp), is computed once into storage; every other node is
 *     inlined into its user's expression (fusing bias, activation and the matrix product).
 *  2. mode — a materialized node whose work (elements × inner reduction length) is at most the
 *     unroll threshold is emitted fully unrolled with constant indices; larger ones as loops with
 *     constant bounds.
 *  3. storage — scalars are locals; an unrolled tensor read only by unrolled code is a group of
 *     locals (z_0, z_1, …); any other tensor lives in a module-level scratch Float64Array, so the
 *     function never allocates.
 */
import type { Graph, Node, NodeId, Origin } from "../ir/graph.js";
import { OPS } from "../ir/ops.js";
import { numel, strides, type Shape } from "../ir/shape.js";
import { commentText, NameTable } from "./names.js";
import { reachable } from "../ir/walk.js";
import type { AccumulateSink, Sink } from "../plan/sinks.js";

export type { Sink } from "../plan/sinks.js";


/** What the module provides to a function emitter. */
export interface ModuleContext {
  readonly file: string;
  readonly unroll: number;
  /**
   * Module-level identifier of a scratch buffer of `size` doubles. Functions share buffers of the
   * same hint and size (they never run at the same time); within one function every value has its
   * own: `taken` holds the buffers the function already uses.
   */
  buffer(hint: string, size: number, taken: Set<string>): string;
  /** module-level identifier of the scratch object holding samples of one output (predict) */
  readonly names: NameTable;
}

export interface FunctionSpec {
  readonly name: string;
  readonly doc: string;
  readonly graph: Graph;
  readonly sinks: readonly Sink[];
  /** DSL names and shapes of the inputs and targets passed as arrays with a sample index */
  readonly samples: readonly { readonly name: string; readonly shape: Shape }[];
  readonly params: readonly { readonly name: string; readonly shape: Shape }[];
  readonly grad: boolean;
  readonly random: boolean;
  readonly returns: "number" | "void";
  /**
   * The return sink adds the loss to `${lossCell}[0]` and the function returns void: a double
   * returned across a call that is not inlined is boxed, 16 bytes of garbage per sample.
   */
  readonly lossCell?: string;
  /**
   * Process up to this many consecutive samples per call (n … n + lanes − 1, `lanes` an argument)
   * when the function has loops: each loop over the rows of a tensor runs the samples inside
   * the row, so a weight row is fetched from memory once for all of them (see docs/performance.md).
   * 0 or absent: one sample per call.
   */
  readonly maxLanes?: number;
  /**
   * Plain SGD fused into the backward pass (a `lr` argument after the sample index): each
   * accumulate sink subtracts lr × its term from the parameter itself instead of adding the term to
   * grad, once nothing later in the function reads that parameter. A parameter for which that
   * order cannot be had (it is read after its update would be emitted) still accumulates into grad,
   * and EmittedFunction.accumulated names it. See docs/generated-module.md.
   */
  readonly update?: boolean;
}

/** What emitFunction made. */
export interface EmittedFunction {
  readonly code: string;
  /** the function takes a `lanes` argument after the sample index (see FunctionSpec.maxLanes) */
  readonly lanes: boolean;
  /** with FunctionSpec.update: the parameters whose gradient still goes to grad */
  readonly accumulated: readonly string[];
}

type Ix = number | string;


/**
 * One pass over the rows of a weight matrix W[m, n] in a dense layer's backward: it adds δ bᵀ to
 * ∂W (the accumulate sink of `outer(δ, b)`) and, when the graph needs it, computes Wᵀδ (the node
 * `back` = `matmul(transpose(W), δ)`) in the same sweep, reading each row of W and ∂W once,
 * contiguously, instead of once by rows and once by columns. Rows whose δᵢ is exactly 0 (the
 * inactive units of a ReLU layer) contribute nothing and are skipped.
 */
interface Sweep {
  readonly sink: AccumulateSink;
  readonly delta: NodeId;
  readonly b: NodeId;
  /** Wᵀδ and the parameter node W, when fused */
  readonly back: NodeId | null;
  readonly weight: NodeId | null;
}

type Storage =
  | { readonly kind: "scalar"; readonly name: string }
  | { readonly kind: "locals"; readonly base: string; readonly shape: Shape }
  | { readonly kind: "buffer"; readonly name: string; readonly shape: Shape; readonly perLane: boolean };

/** ops that are views of their input: cheap to recompute at every read, never stored */
const VIEWS = new Set(["broadcast", "transpose", "index", "unindex", "dropout"]);
/** inlined expressions nest at most this many operations deep (see schedule, step 1b) */
const MAX_INLINE_DEPTH = 64;
/**
 * Lane mode is not used when the unrolled per-sample work exceeds this: with `--unroll 512`,
 * network B's sampleGradient in lane mode ran 20× slower (V8 did not optimize it).
 */
const MAX_UNROLLED_LANE_WORK = 1024;
/** a loop reduction of at least MIN_SPLIT_REDUCTION terms keeps DOT_WAYS partial sums (see reduceSplit) */
const DOT_WAYS = 4;
const MIN_SPLIT_REDUCTION = 16;
/** an unrolled sum is one chain of at most this many terms (see sumOf) */
const MAX_SUM_CHAIN = 128;
const ATOMIC = /^(?:[A-Za-z_$][\w$]*(?:\[[^\][]*\])?|\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/;

export function emitFunction(spec: FunctionSpec, mod: ModuleContext): EmittedFunction {
  // update mode: a parameter read after its in-place update is moved to grad, and the function
  // emitted again (each round moves at least one parameter, so this ends)
  const accumulated = new Set<string>(spec.update === true ? [] : spec.params.map((p) => p.name));
  for (;;) {
    const e = new FunctionEmitter(spec, mod, accumulated);
    const code = e.emit();
    if (e.readAfterUpdate.size === 0) return { code, lanes: e.laneMode, accumulated: spec.update === true ? [...accumulated] : [] };
    for (const p of e.readAfterUpdate) accumulated.add(p);
  }
}

class FunctionEmitter {
  readonly g: Graph;
  readonly names: NameTable;
  readonly reach: NodeId[] = [];
  readonly materialized = new Set<NodeId>();
  readonly unrolled = new Map<NodeId, boolean>();
  readonly storage = new Map<NodeId, Storage>();
  readonly paramAlias = new Map<string, string>();
  readonly gradAlias = new Map<string, string>();
  readonly sampleArg = new Map<string, { arr: string; offset: string | null; shape: Shape; used: boolean }>();
  readonly outputArg = new Map<string, string>();
  readonly usedParams = new Set<string>();
  readonly loopVars: string[] = [];
  readonly buffersTaken = new Set<string>();
  depth = 0;
  sampleIndex = "n";
  randomName = "random";
  /** current context: unrolled (every index constant) or loops */
  unrolledCtx = true;
  /** dense-layer backward sweeps, by the node they are emitted at (see fuseDenseBackward) */
  readonly sweeps = new Map<NodeId, Sweep>();
  /** accumulate sinks emitted by a sweep instead of on their own */
  readonly swept = new Set<Sink>();
  /** lane mode (FunctionSpec.maxLanes): the `lanes` argument and the lane loop's variable */
  laneMode = false;
  lanesArg = "lanes";
  laneVar = "s";
  /** the lane being emitted: the lane loop's variable, or a constant in a blocked sweep */
  lane: string | number = "s";
  /** 1 for the nodes that depend on the sample (everything else is the same for every lane) */
  perSample = new Uint8Array(0);
  /** inside a lane loop: the declarations of the sample offsets its body reads, by name */
  laneOffsets: Map<string, string> | null = null;
  /** names of the per-lane sample offsets of the blocked sweeps, by array and lane */
  readonly constLaneOffsets = new Map<string, string>();
  /**
   * softmax outputs exp(z − lse) computed by their logsumexp's emission from the exponentials it
   * sums (each divided by the sum), instead of calling exp again, by logsumexp node
   */
  readonly softmaxOfLse = new Map<NodeId, NodeId>();
  /** update mode: the learning-rate argument, the parameters already updated, and those read after */
  lrName = "lr";
  readonly updated = new Set<string>();
  readonly readAfterUpdate = new Set<string>();

  constructor(
    readonly spec: FunctionSpec,
    readonly mod: ModuleContext,
    /** parameters whose gradient goes to grad (all of them unless spec.update) */
    readonly accumulated: ReadonlySet<string>,
  ) {
    this.g = spec.graph;
    this.names = mod.names.child();
  }

  emit(): string {
    const { spec } = this;
    this.names.reserve("params");
    if (spec.grad) this.names.reserve("grad");
    if (spec.random) this.randomName = this.names.reserve("random");
    // before any name from the source is taken: an input may be called lr
    if (spec.update === true) this.lrName = this.names.reserve("lr");
    if (spec.samples.length > 0) this.sampleIndex = this.names.reserve("n");
    const args = ["params: Params"];
    for (const s of spec.samples) {
      const arr = this.names.fresh(s.name);
      this.sampleArg.set(s.name, { arr, offset: null, shape: s.shape, used: false });
      args.push(`${arr}: Float64Array`);
    }
    if (spec.samples.length > 0) args.push(`${this.sampleIndex}: number`);
    const lanesAt = args.length;
    if (spec.update === true) args.push(`${this.lrName}: number`);
    for (const s of spec.sinks) if (s.kind === "output") {
      const name = this.names.fresh(`${s.name}Out`);
      this.outputArg.set(s.name, name);
      args.push(`${name}: Float64Array`);
    }
    if (spec.grad) args.push("grad: Params");
    if (spec.random) args.push(`${this.randomName}: () => number`);
    for (const p of spec.params) this.paramAlias.set(p.name, this.names.fresh(p.name));

    this.schedule();
    if (this.laneMode) {
      this.lanesArg = this.names.fresh("lanes");
      this.laneVar = this.lane = this.names.fresh("s");
      args.splice(lanesAt, 0, `${this.lanesArg}: number`);
    }
    const body = this.body();
    const head: string[] = [];
    for (const s of spec.samples) {
      const a = this.sampleArg.get(s.name)!;
      if (a.offset !== null && !this.laneMode) head.push(`const ${a.offset} = ${this.sampleIndex} * ${numel(a.shape)};`);
    }
    for (const p of spec.params) if (this.usedParams.has(p.name)) head.push(`const ${this.paramAlias.get(p.name)} = params[${JSON.stringify(p.name)}];`);
    for (const [p, alias] of this.gradAlias) head.push(`const ${alias} = grad[${JSON.stringify(p)}];`);
    const doc = `/** ${spec.doc} */`;
    const returns = spec.lossCell !== undefined ? "void" : spec.returns;
    return `${doc}\nfunction ${spec.name}(${args.join(", ")}): ${returns} {\n${[...head, ...body].join("\n")}\n}\n`;
  }

  // ── scheduling ─────────────────────────────────────────────────────

  schedule(): void {
    const g = this.g;
    const n = g.nodes.length;
    const need = reachable(g, this.spec.sinks.map((s) => s.node));
    for (let id = 0; id < n; id++) if (need[id]) this.reach.push(id);

    // 1. materialize, from the sinks down: effective uses count reads through inlined users
    const uses = new Float64Array(n);
    const forced = new Set<NodeId>();
    for (const s of this.spec.sinks) {
      uses[s.node]! += 1;
      if (s.kind === "return") forced.add(s.node);
    }
    for (let k = this.reach.length - 1; k >= 0; k--) {
      const id = this.reach[k]!;
      const node = g.node(id);
      if (node.op === "logsumexp") forced.add(node.inputs[0]!);
      const leaf = OPS[node.op].kind === "leaf";
      const mat =
        node.op === "dropout_mask" ||
        (!leaf && !VIEWS.has(node.op) && (forced.has(id) || node.op === "logsumexp" || uses[id]! > 1 || isNamed(g, node)));
      if (mat) this.materialized.add(id);
      node.inputs.forEach((input, k) => {
        uses[input]! += (mat ? 1 : uses[id]!) * readsPerElement(g, node, k);
      });
    }

    // 1b. an inlined tree deeper than MAX_INLINE_DEPTH (a 5000-term `a + b + c + …` line) is cut
    // by materializing the node at the cut: the emitter recurses through inlined trees, and so do
    // prettier and every JavaScript parser that reads the emitted expression
    const depth = new Uint16Array(n);
    for (const id of this.reach) {
      const node = g.node(id);
      let d = 0;
      for (const i of node.inputs) if (!this.materialized.has(i)) d = Math.max(d, depth[i]!);
      const cut = d >= MAX_INLINE_DEPTH && OPS[node.op].kind !== "leaf" && !VIEWS.has(node.op);
      if (cut) this.materialized.add(id);
      depth[id] = cut ? 0 : d + 1;
    }

    // 2. mode: work of each node's inlined tree
    const inner = new Float64Array(n).fill(1);
    for (const id of this.reach) {
      const node = g.node(id);
      let w = 1;
      for (const i of node.inputs) if (!this.materialized.has(i)) w = Math.max(w, inner[i]!);
      const len = reductionLength(g, node);
      inner[id] = w * len;
    }
    for (const id of this.materialized) this.unrolled.set(id, numel(g.shape(id)) * inner[id]! <= this.mod.unroll);
    const sinkUnrolled = (s: Sink) => numel(g.shape(s.node)) * (this.materialized.has(s.node) ? 1 : inner[s.node]!) <= this.mod.unroll;

    this.fuseDenseBackward(sinkUnrolled);

    // 3. storage: which materialized tensors are read inside loops
    const readInLoop = new Uint8Array(n);
    for (const s of this.spec.sinks) if (!sinkUnrolled(s)) readInLoop[s.node] = 1;
    for (let k = this.reach.length - 1; k >= 0; k--) {
      const id = this.reach[k]!;
      const node = g.node(id);
      const loopHere = this.materialized.has(id) ? !this.unrolled.get(id) : readInLoop[id] === 1;
      if (loopHere) for (const i of node.inputs) readInLoop[i] = 1;
    }
    // lane mode pays off only where there are loops; per-sample values then live in buffers with
    // one row per lane (a local cannot outlive the lane loop that computes it)
    this.perSample = new Uint8Array(n);
    for (const id of this.reach) {
      const node = g.node(id);
      this.perSample[id] = node.op === "input" || node.op === "target" || node.op === "dropout_mask" || node.inputs.some((i) => this.perSample[i] === 1) ? 1 : 0;
    }
    const lanes = this.spec.maxLanes ?? 0;
    this.laneMode =
      lanes > 1 &&
      !this.spec.random &&
      this.spec.samples.length > 0 &&
      this.spec.sinks.every((s) => s.kind !== "output" && (s.kind !== "return" || this.spec.lossCell !== undefined)) &&
      ([...this.materialized].some((id) => this.perSample[id] === 1 && !this.unrolled.get(id)) || this.spec.sinks.some((s) => !sinkUnrolled(s))) &&
      this.unrolledSampleWork(inner, sinkUnrolled) <= MAX_UNROLLED_LANE_WORK;
    for (const id of this.materialized) {
      const node = g.node(id);
      const hint = node.name ?? hintFor(node);
      const size = numel(node.shape);
      if (this.laneMode && this.perSample[id] === 1) this.storage.set(id, { kind: "buffer", name: this.mod.buffer(`${hint}_lanes`, size * lanes, this.buffersTaken), shape: node.shape, perLane: true });
      else if (node.shape.length === 0) this.storage.set(id, { kind: "scalar", name: this.names.fresh(hint) });
      else if (this.unrolled.get(id) && !readInLoop[id]) this.storage.set(id, { kind: "locals", base: this.names.freshGroup(hint, size), shape: node.shape });
      else this.storage.set(id, { kind: "buffer", name: this.mod.buffer(hint, size, this.buffersTaken), shape: node.shape, perLane: false });
    }
    this.sinkUnrolled = sinkUnrolled;
    this.findSoftmaxes();
  }

  /**
   * Stored nodes exp(z − lse) with lse = logsumexp(z) stored too, in the same mode and the same
   * lane layout: the logsumexp computes exp(zᵢ − max) for its sum, and zᵢ − lse = zᵢ − max − log Σ,
   * so the softmax is those exponentials divided by the sum (see emitLogSumExp).
   */
  findSoftmaxes(): void {
    const g = this.g;
    for (const id of this.materialized) {
      const e = g.node(id);
      if (e.op !== "exp" || this.sweeps.has(id)) continue;
      const d = g.node(e.inputs[0]!);
      if (d.op !== "sub") continue;
      const [z, lse] = d.inputs as [NodeId, NodeId];
      const l = g.node(lse);
      if (l.op !== "logsumexp" || l.inputs[0] !== z || !this.materialized.has(lse) || g.shape(z).length !== 1) continue;
      const st = this.storage.get(id)!;
      const sameMode = this.unrolled.get(id) === this.unrolled.get(lse) && this.perSample[id] === this.perSample[lse];
      if (!sameMode || this.softmaxOfLse.has(lse) || (!this.unrolled.get(lse) && st.kind !== "buffer")) continue;
      this.softmaxOfLse.set(lse, id);
    }
  }

  sinkUnrolled: (s: Sink) => boolean = () => true;

  /** The unrolled per-sample work: in lane mode its locals would become per-lane buffer accesses. */
  unrolledSampleWork(inner: Float64Array, sinkUnrolled: (s: Sink) => boolean): number {
    let w = 0;
    for (const id of this.materialized) if (this.perSample[id] === 1 && this.unrolled.get(id)) w += numel(this.g.shape(id)) * inner[id]!;
    for (const s of this.spec.sinks) if (sinkUnrolled(s)) w += numel(this.g.shape(s.node)) * (this.materialized.has(s.node) ? 1 : inner[s.node]!);
    return w;
  }

  /** Finds the dense backward sweeps (see Sweep): every ∂W += outer(δ, b) emitted as loops. */
  fuseDenseBackward(sinkUnrolled: (s: Sink) => boolean): void {
    const g = this.g;
    for (const s of this.spec.sinks) {
      if (s.kind !== "accumulate" || sinkUnrolled(s) || this.materialized.has(s.node)) continue;
      const outer = g.node(s.node);
      if (outer.op !== "outer") continue;
      const [delta, b] = outer.inputs as [NodeId, NodeId];
      const back = this.reach.find((id) => {
        const m = g.node(id);
        if (m.op !== "matmul" || m.inputs[1] !== delta || id < b) return false;
        const t = g.node(m.inputs[0]!);
        if (t.op !== "transpose") return false;
        const w = g.node(t.inputs[0]!);
        return w.op === "param" && w.ref === s.param;
      });
      this.swept.add(s);
      if (back === undefined) {
        this.sweeps.set(s.node, { sink: s, delta, b, back: null, weight: null });
        continue;
      }
      // Wᵀδ becomes a buffer the sweep fills: materialized, in loop mode, emitted at its place
      this.materialized.add(back);
      this.unrolled.set(back, false);
      this.sweeps.set(back, { sink: s, delta, b, back, weight: g.node(g.node(back).inputs[0]!).inputs[0]! });
    }
  }

  // ── statements ─────────────────────────────────────────────────────

  body(): string[] {
    const out: string[] = [];
    let lastHeader = "";
    const header = (origin: Origin | null, backward: boolean) => {
      if (origin === null) return;
      const h = backward
        ? `// ── backward through line ${origin.line}: ${commentText(origin.text)}`
        : `// ── ${commentText(origin.text)}  (${commentText(this.mod.file)}:${origin.line})`;
      if (h !== lastHeader) {
        if (out.length > 0) out.push("");
        out.push(h);
        lastHeader = h;
      }
    };
    const sinksAt = new Map<NodeId, Sink[]>();
    let ret: Sink | null = null;
    for (const s of this.spec.sinks) {
      if (s.kind === "return") ret = s;
      else sinksAt.set(s.node, [...(sinksAt.get(s.node) ?? []), s]);
    }
    const deferred: Sink[] = [];
    const fromLse = new Set(this.softmaxOfLse.values());
    for (const id of this.reach) {
      const node = this.g.node(id);
      const sweep = this.sweeps.get(id);
      if (this.materialized.has(id) && !fromLse.has(id)) {
        header(node.origin, node.backward);
        this.unrolledCtx = this.unrolled.get(id)!;
        if (sweep !== undefined) this.emitSweep(out, sweep);
        else this.emitNode(out, node);
      }
      for (const s of sinksAt.get(id) ?? []) {
        if (this.g.isConst(s.node, 0)) continue;
        if (this.swept.has(s)) {
          if (sweep?.sink !== s || sweep.back !== null) continue;
          header(node.origin, node.backward);
          this.emitSweep(out, sweep);
          continue;
        }
        if (this.updates(s)) {
          deferred.push(s);
          continue;
        }
        header(node.origin, node.backward);
        this.emitSink(out, s);
      }
    }
    // in-place updates go after every other statement, so that nothing reads a parameter after it
    // changed (a read that still comes later, in another update, is caught by compute)
    if (deferred.length > 0) out.push("", "// ── SGD: θ ← θ − lr · ∂loss/∂θ, now that nothing reads θ any more");
    for (const s of this.updateOrder(deferred as AccumulateSink[])) this.emitSink(out, s);
    if (ret !== null) {
      this.unrolledCtx = true;
      const cell = this.spec.lossCell;
      if (cell === undefined) out.push(`return ${this.elem(out, ret.node, [])};`);
      else this.forEachElement(out, [], (sink) => this.elem(sink, ret.node, []), (_idx, v) => `${cell}[0] += ${v};`, this.perSample[ret.node] === 1);
    }
    return out;
  }

  emitNode(out: string[], node: Node): void {
    const st = this.storage.get(node.id)!;
    if (node.op === "logsumexp") {
      if (this.laneMode && this.perSample[node.id] === 1) out.push(...this.inLaneLoop(() => this.emitLogSumExp([], node, st)));
      else this.emitLogSumExp(out, node, st);
      return;
    }
    if (node.op === "dropout_mask") {
      const keep = 1 / (1 - node.num);
      const value = `${this.randomName}() < ${num(node.num)} ? 0 : ${num(keep)}`;
      this.forEachElement(out, node.shape, (_sink, idx) => value, (idx, v) => this.store(st, idx, v), false);
      return;
    }
    this.forEachElement(out, node.shape, (sink, idx) => this.compute(sink, node, idx), (idx, v) => this.store(st, idx, v), this.perSample[node.id] === 1);
  }

  emitSweep(out: string[], sw: Sweep): void {
    this.unrolledCtx = false;
    if (this.updates(sw.sink)) {
      this.emitUpdateSweep(out, sw);
      return;
    }
    const shape = this.g.shape(sw.sink.node);
    const [m, n] = shape as [number, number];
    const dW = this.gradAliasOf(sw.sink.param);
    const i = this.loopVar(this.depth);
    const j = this.loopVar(this.depth + 1);
    const d = this.names.fresh("d");
    this.depth += 2;
    const rowOfLane = (): string[] => {
      const row: string[] = [];
      row.push(`const ${d} = ${this.elem(row, sw.delta, [i])};`);
      row.push(`if (${d} === 0) continue;`);
      const inner: string[] = [];
      const bj = this.elem(inner, sw.b, [j]);
      inner.push(`${dW}[${flat(shape, [i, j])}] += ${d} * ${paren(bj)};`);
      if (sw.back !== null) {
        const back = this.storage.get(sw.back)!;
        if (back.kind !== "buffer") throw new Error("internal: Wᵀδ of a sweep is not a buffer");
        inner.push(`${back.name}[${this.bufferIndex(back, [j])}] += ${paren(this.elem(inner, sw.weight!, [i, j]))} * ${d};`);
      }
      return [...row, ...wrapLoops([j], [n], inner)];
    };
    const row = this.laneMode ? this.inLaneLoop(rowOfLane) : rowOfLane();
    this.depth -= 2;
    if (sw.back !== null) out.push(`${(this.storage.get(sw.back) as { name: string }).name}.fill(0);`);
    if (!this.laneMode) {
      out.push(...wrapLoops([i], [m], row));
      return;
    }
    const lanes = this.spec.maxLanes!;
    out.push(`if (${this.lanesArg} === ${lanes}) {`, ...this.blockedSweep(sw, dW, lanes), "} else {", ...wrapLoops([i], [m], row), "}");
  }

  /**
   * The sweep in update mode (one sample): W −= lr δ bᵀ in place, each element of W read for Wᵀδ
   * just before it changes, so the backward pass sees the old W and no gradient array is written.
   */
  emitUpdateSweep(out: string[], sw: Sweep): void {
    const shape = this.g.shape(sw.sink.node);
    const [m, n] = shape as [number, number];
    const W = this.paramAlias.get(sw.sink.param)!;
    this.usedParams.add(sw.sink.param);
    const i = this.loopVar(this.depth);
    const j = this.loopVar(this.depth + 1);
    const d = this.names.fresh("d");
    const step = this.names.fresh("step");
    this.depth += 2;
    const row: string[] = [];
    row.push(`const ${d} = ${this.elem(row, sw.delta, [i])};`);
    row.push(`if (${d} === 0) continue;`);
    row.push(`const ${step} = ${this.lrName} * ${d};`);
    const inner: string[] = [];
    const bj = this.elem(inner, sw.b, [j]);
    if (sw.back !== null) {
      const back = this.storage.get(sw.back)!;
      if (back.kind !== "buffer") throw new Error("internal: Wᵀδ of a sweep is not a buffer");
      const w = this.names.fresh("w");
      inner.push(`const ${w} = ${this.elem(inner, sw.weight!, [i, j])};`);
      inner.push(`${back.name}[${this.bufferIndex(back, [j])}] += ${w} * ${d};`);
      inner.push(`${W}[${flat(shape, [i, j])}] = ${w} - ${step} * ${paren(bj)};`);
      out.push(`${back.name}.fill(0);`);
    } else {
      inner.push(`${W}[${flat(shape, [i, j])}] -= ${step} * ${paren(bj)};`);
    }
    this.depth -= 2;
    out.push(...wrapLoops([i], [m], [...row, ...wrapLoops([j], [n], inner)]));
    this.updated.add(sw.sink.param);
  }

  /**
   * The sweep for a full block of lanes: one pass over ∂W adds all of the block's terms δᵢ bⱼ,
   * where the lane loop would read and write ∂W once per lane. ∂W is the largest array a step
   * touches, and this halved its traffic's cost (docs/performance.md).
   */
  blockedSweep(sw: Sweep, dW: string, lanes: number): string[] {
    const shape = this.g.shape(sw.sink.node);
    const [m, n] = shape as [number, number];
    const i = this.loopVar(this.depth);
    const j = this.loopVar(this.depth + 1);
    this.depth += 2;
    const outerOffsets = this.laneOffsets;
    this.laneOffsets = new Map();
    const all = Array.from({ length: lanes }, (_, l) => l);
    const ds = all.map((l) => this.names.fresh(`d${l}`));
    const row: string[] = [];
    for (const l of all) {
      this.lane = l;
      row.push(`const ${ds[l]} = ${this.elem(row, sw.delta, [i])};`);
    }
    row.push(`if (${ds.map((d) => `${d} === 0`).join(" && ")}) continue;`);
    const inner: string[] = [];
    const terms = all.map((l) => {
      this.lane = l;
      return `${ds[l]} * ${paren(this.elem(inner, sw.b, [j]))}`;
    });
    inner.push(`${dW}[${flat(shape, [i, j])}] += ${terms.join(" + ")};`);
    if (sw.back !== null) {
      const back = this.storage.get(sw.back) as Storage & { kind: "buffer" };
      const w = this.names.fresh("w");
      inner.push(`const ${w} = ${this.elem(inner, sw.weight!, [i, j])};`);
      for (const l of all) {
        this.lane = l;
        inner.push(`${back.name}[${this.bufferIndex(back, [j])}] += ${w} * ${ds[l]};`);
      }
    }
    this.lane = this.laneVar;
    const offsets = [...this.laneOffsets.values()];
    this.laneOffsets = outerOffsets;
    this.depth -= 2;
    return [...offsets, ...wrapLoops([i], [m], [...row, ...wrapLoops([j], [n], inner)])];
  }

  gradAliasOf(param: string): string {
    let alias = this.gradAlias.get(param);
    if (alias === undefined) {
      alias = this.names.fresh(`d${param}`);
      this.gradAlias.set(param, alias);
    }
    return alias;
  }

  /**
   * The deferred updates in an order where each comes before the updates of the parameters its
   * own expression reads (an inlined δ = Wᵀδ′ reads W): repeatedly the first whose parameter no
   * remaining update reads. On a cycle the rest keep their order; compute then reports the read.
   */
  updateOrder(sinks: readonly AccumulateSink[]): AccumulateSink[] {
    const reads = sinks.map((s) => this.paramsRead(s.node));
    const left = sinks.map((_, k) => k);
    const order: AccumulateSink[] = [];
    while (left.length > 0) {
      const free = left.findIndex((k) => left.every((o) => o === k || sinks[o]!.param === sinks[k]!.param || !reads[o]!.has(sinks[k]!.param)));
      const at = free < 0 ? 0 : free;
      order.push(sinks[left[at]!]!);
      left.splice(at, 1);
    }
    return order;
  }

  /** The parameters an expression reads directly: through inlined nodes, not stored ones. */
  paramsRead(id: NodeId): Set<string> {
    const found = new Set<string>();
    const seen = new Set<NodeId>();
    const walk = (n: NodeId) => {
      if (seen.has(n)) return;
      seen.add(n);
      const node = this.g.node(n);
      if (node.op === "param") found.add(node.ref);
      else if (!this.storage.has(n)) for (const i of node.inputs) walk(i);
    };
    walk(id);
    return found;
  }

  /** Update mode: this sink changes its parameter in place instead of adding to grad. */
  updates(s: Sink): boolean {
    return s.kind === "accumulate" && !this.accumulated.has(s.param);
  }

  emitSink(out: string[], s: Sink): void {
    this.unrolledCtx = this.sinkUnrolled(s);
    const shape = this.g.shape(s.node);
    if (s.kind === "accumulate" && this.updates(s)) {
      // marked first: a read of the parameter in its own update counts as a read after it
      this.updated.add(s.param);
      this.usedParams.add(s.param);
      const p = this.paramAlias.get(s.param)!;
      this.forEachElement(out, shape, (sink, idx) => this.elem(sink, s.node, idx), (idx, v) => `${p}[${flat(shape, idx)}] -= ${this.lrName} * ${paren(v)};`, true);
    } else if (s.kind === "accumulate") {
      const a = this.gradAliasOf(s.param);
      // every lane adds its own term, even one that does not depend on the sample
      this.forEachElement(out, shape, (sink, idx) => this.elem(sink, s.node, idx), (idx, v) => `${a}[${flat(shape, idx)}] += ${v};`, true);
    } else if (s.kind === "output") {
      const arr = this.outputArg.get(s.name)!;
      const size = numel(shape);
      const base = size === 1 ? this.sampleIndex : `${this.sampleIndex} * ${size}`;
      this.forEachElement(out, shape, (sink, idx) => this.elem(sink, s.node, idx), (idx, v) => `${arr}[${add(base, flat(shape, idx))}] = ${v};`, false);
    }
  }

  /**
   * Runs over every element of `shape`: unrolled or as nested loops, in the current mode. In lane
   * mode, per-sample work runs once per lane: the lane loop goes inside the outermost loop.
   */
  forEachElement(out: string[], shape: Shape, value: (sink: string[], idx: Ix[]) => string, store: (idx: Ix[], v: string) => string, perSample: boolean): void {
    if (this.laneMode && perSample && this.laneOffsets === null) {
      if (this.unrolledCtx || shape.length === 0) {
        out.push(...this.inLaneLoop(() => {
          const body: string[] = [];
          this.forEachElement(body, shape, value, store, false);
          return body;
        }));
        return;
      }
      const i = this.loopVar(this.depth);
      this.depth += 1;
      const inner = this.inLaneLoop(() => {
        const body: string[] = [];
        const vars = shape.slice(1).map((_, d) => this.loopVar(this.depth + d));
        this.depth += vars.length;
        const v = value(body, [i, ...vars]);
        body.push(store([i, ...vars], v));
        this.depth -= vars.length;
        return wrapLoops(vars, shape.slice(1), body);
      });
      this.depth -= 1;
      out.push(...wrapLoops([i], [shape[0]!], inner));
      return;
    }
    if (this.unrolledCtx || shape.length === 0) {
      for (const idx of indices(shape)) {
        const v = value(out, idx);
        out.push(store(idx, v));
      }
      return;
    }
    const vars = shape.map((_, d) => this.loopVar(this.depth + d));
    this.depth += shape.length;
    const body: string[] = [];
    const v = value(body, vars);
    body.push(store(vars, v));
    this.depth -= shape.length;
    out.push(...wrapLoops(vars, shape, body));
  }

  /** `for (lanes)` around the statements `gen` makes, with the sample offsets they read. */
  inLaneLoop(gen: () => string[]): string[] {
    const outer = this.laneOffsets;
    this.laneOffsets = new Map();
    const body = gen();
    const offsets = [...this.laneOffsets.values()];
    this.laneOffsets = outer;
    const s = this.laneVar;
    return [`for (let ${s} = 0; ${s} < ${this.lanesArg}; ${s}++) {`, ...offsets, ...body, "}"];
  }

  store(st: Storage, idx: Ix[], v: string): string {
    switch (st.kind) {
      case "scalar":
        return `const ${st.name} = ${v};`;
      case "locals":
        return `const ${st.base}_${flatConst(st.shape, idx)} = ${v};`;
      case "buffer":
        return `${st.name}[${this.bufferIndex(st, idx)}] = ${v};`;
    }
  }

  /**
   * lse = m + log Σ exp(xᵢ − m), m = max x. When the function also stores the softmax exp(x − lse)
   * (findSoftmaxes), it is computed here as exp(xᵢ − m) / Σ from the same exponentials.
   */
  emitLogSumExp(out: string[], node: Node, st: Storage): string[] {
    const a = node.inputs[0]!;
    const shape = this.g.shape(a);
    const name = st.kind === "scalar" ? st.name : (node.name ?? "lse");
    const m = this.names.fresh(`${name}_max`);
    const s = this.names.fresh(`${name}_sum`);
    const softmax = this.softmaxOfLse.get(node.id);
    const sm = softmax === undefined ? null : this.storage.get(softmax)!;
    if (this.unrolledCtx) {
      const xs = indices(shape).map((idx) => this.elem(out, a, idx));
      out.push(`const ${m} = Math.max(${xs.join(", ")});`);
      const exps = xs.map((x) => `Math.exp(${x} - ${m})`);
      if (sm === null) {
        out.push(this.store(st, [], `${m} + Math.log(${sumOf(exps)})`));
        return out;
      }
      const es = this.names.freshGroup(`${name}_exp`, xs.length);
      exps.forEach((e, k) => out.push(`const ${es}_${k} = ${e};`));
      out.push(`const ${s} = ${sumOf(xs.map((_, k) => `${es}_${k}`))};`);
      out.push(this.store(st, [], `${m} + Math.log(${s})`));
      xs.forEach((_, k) => out.push(this.store(sm, [k], `${es}_${k} / ${s}`)));
      return out;
    }
    const i = this.loopVar(this.depth);
    const x = this.elem([], a, [i]);
    out.push(`let ${m} = -Infinity;`);
    out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) if (${x} > ${m}) ${m} = ${x};`);
    out.push(`let ${s} = 0;`);
    if (sm === null || sm.kind !== "buffer") {
      out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) ${s} += Math.exp(${x} - ${m});`);
      out.push(this.store(st, [], `${m} + Math.log(${s})`));
      return out;
    }
    const y = `${sm.name}[${this.bufferIndex(sm, [i])}]`;
    out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) {`, `${y} = Math.exp(${x} - ${m});`, `${s} += ${y};`, "}");
    out.push(this.store(st, [], `${m} + Math.log(${s})`));
    out.push(`for (let ${i} = 0; ${i} < ${shape[0]}; ${i}++) ${y} /= ${s};`);
    return out;
  }

  loopVar(depth: number): string {
    while (this.loopVars.length <= depth) this.loopVars.push(this.names.fresh("ijklmnpq"[this.loopVars.length] ?? "r"));
    return this.loopVars[depth]!;
  }

  // ── expressions ────────────────────────────────────────────────────

  /** The expression for element `idx` of node `id`, pushing any statements it needs to `sink`. */
  elem(sink: string[], id: NodeId, idx: readonly Ix[]): string {
    const st = this.storage.get(id);
    if (st !== undefined) return this.read(st, idx);
    return this.compute(sink, this.g.node(id), idx);
  }

  read(st: Storage, idx: readonly Ix[]): string {
    switch (st.kind) {
      case "scalar":
        return st.name;
      case "locals":
        return `${st.base}_${flatConst(st.shape, idx)}`;
      case "buffer":
        return `${st.name}[${this.bufferIndex(st, idx)}]`;
    }
  }

  /** The offset of the current lane's sample in a sample array, declared by the lane's block. */
  laneOffset(arr: string, offset: string, size: number): string {
    const n = this.sampleIndex;
    const lane = this.lane;
    if (typeof lane === "string") {
      this.laneOffsets!.set(offset, `const ${offset} = (${n} + ${lane}) * ${size};`);
      return offset;
    }
    const key = `${arr}:${lane}`;
    let name = this.constLaneOffsets.get(key);
    if (name === undefined) {
      name = this.names.fresh(`${offset}_${lane}`);
      this.constLaneOffsets.set(key, name);
    }
    this.laneOffsets!.set(name, `const ${name} = ${lane === 0 ? n : `(${n} + ${lane})`} * ${size};`);
    return name;
  }

  bufferIndex(st: Storage & { kind: "buffer" }, idx: readonly Ix[]): Ix {
    if (!st.perLane) return flat(st.shape, idx);
    if (this.laneOffsets === null) throw new Error("internal: a per-lane buffer read outside a lane loop");
    const size = numel(st.shape);
    const f = flat(st.shape, idx);
    if (typeof this.lane === "number") return typeof f === "number" ? this.lane * size + f : this.lane === 0 ? f : `${f} + ${this.lane * size}`;
    return add(size === 1 ? this.lane : `${this.lane} * ${size}`, f);
  }

  compute(sink: string[], node: Node, idx: readonly Ix[]): string {
    const g = this.g;
    if (node.op === "const") return num(node.num);
    if (node.op === "param") {
      if (this.updated.has(node.ref)) this.readAfterUpdate.add(node.ref);
      this.usedParams.add(node.ref);
      return `${this.paramAlias.get(node.ref)}[${flat(node.shape, idx)}]`;
    }
    if (node.op === "input" || node.op === "target") {
      const a = this.sampleArg.get(node.ref)!;
      if (a.shape.length === 0) return `${a.arr}[${this.laneOffsets !== null && this.lane !== 0 ? `${this.sampleIndex} + ${this.lane}` : this.sampleIndex}]`;
      if (a.offset === null) a.offset = this.names.fresh(`${a.arr}o`);
      if (this.laneOffsets !== null) return `${a.arr}[${add(this.laneOffset(a.arr, a.offset, numel(a.shape)), flat(node.shape, idx))}]`;
      return `${a.arr}[${add(a.offset, flat(node.shape, idx))}]`;
    }
    if (node.op === "dropout_mask") throw new Error("internal: dropout mask not materialized");
    const def = OPS[node.op];
    if (def.kind === "elementwise") {
      const args = node.inputs.map((input, k) => {
        let a = this.elem(sink, input, g.shape(input).length === 0 ? [] : idx);
        if (!ATOMIC.test(a) && def.reused?.includes(k)) {
          const t = this.names.fresh("tmp");
          sink.push(`const ${t} = ${a};`);
          a = t;
        }
        return ATOMIC.test(a) ? a : `(${a})`;
      });
      return def.ts(args, node);
    }
    const [a, b] = node.inputs;
    switch (node.op) {
      case "dropout":
        return this.elem(sink, a!, idx);
      case "broadcast":
        return this.elem(sink, a!, []);
      case "transpose":
        return this.elem(sink, a!, [idx[1]!, idx[0]!]);
      case "index":
        return this.elem(sink, a!, node.at);
      case "unindex": {
        const f = flat(node.shape, idx);
        const at = flat(node.shape, node.at);
        if (typeof f === "number") return f === at ? this.elem(sink, a!, []) : "0";
        return `${f} === ${at} ? ${paren(this.elem(sink, a!, []))} : 0`;
      }
      case "outer":
        return `${paren(this.elem(sink, a!, [idx[0]!]))} * ${paren(this.elem(sink, b!, [idx[1]!]))}`;
      case "matmul": {
        const k = g.shape(a!)[1]!;
        const vec = g.shape(b!).length === 1;
        return this.reduce(sink, [k], (s, [l]) => `${paren(this.elem(s, a!, [idx[0]!, l!]))} * ${paren(this.elem(s, b!, vec ? [l!] : [l!, idx[1]!]))}`);
      }
      case "sum":
        return this.reduce(sink, g.shape(a!), (s, ix) => this.elem(s, a!, ix));
      // 0 · log 0 = 0: a term whose weight is 0 costs nothing, even where its probability is 0
      case "cross_entropy":
        return `-${paren(this.reduce(sink, g.shape(a!), (s, ix) => this.xlogy(s, this.elem(s, b!, ix), this.elem(s, a!, ix))))}`;
      case "binary_cross_entropy":
        return `-${paren(
          this.reduce(sink, g.shape(a!), (s, ix) => {
            const p = this.bind(s, this.elem(s, a!, ix));
            const t = this.bind(s, this.elem(s, b!, ix));
            return `${paren(this.xlogy(s, t, p))} + ${paren(this.xlogy(s, `1 - ${t}`, `1 - ${p}`))}`;
          }),
        )}`;
      default:
        throw new Error(`internal: cannot inline ${node.op}`);
    }
  }

  /** An expression used more than once: a temporary unless it is atomic. */
  bind(sink: string[], expr: string): string {
    if (ATOMIC.test(expr)) return expr;
    const t = this.names.fresh("tmp");
    sink.push(`const ${t} = ${expr};`);
    return t;
  }

  /** x log y, with 0 log 0 = 0 */
  xlogy(sink: string[], x: string, y: string): string {
    const xv = this.bind(sink, x);
    return `${xv} === 0 ? 0 : ${paren(xv)} * Math.log(${y})`;
  }

  /** Σ over the index space `dims` of term(idx): unrolled as one sum, or an accumulator loop. */
  reduce(sink: string[], dims: Shape, term: (sink: string[], idx: Ix[]) => string): string {
    if (this.unrolledCtx) {
      const terms = indices(dims).map((ix) => paren(term(sink, ix)));
      return terms.length === 0 ? "0" : sumOf(terms);
    }
    if (dims.length === 1 && dims[0]! >= MIN_SPLIT_REDUCTION) return this.reduceSplit(sink, dims[0]!, term, DOT_WAYS);
    const acc = this.names.fresh("acc");
    const vars = dims.map((_, d) => this.loopVar(this.depth + d));
    this.depth += dims.length;
    const body: string[] = [];
    const t = term(body, vars);
    body.push(`${acc} += ${t};`);
    this.depth -= dims.length;
    sink.push(`let ${acc} = 0;`);
    sink.push(...wrapLoops(vars, dims, body));
    return acc;
  }

  /**
   * A long dot product as `ways` interleaved partial sums: one chain of dependent additions waits
   * for each add's latency, several independent chains overlap (docs/performance.md).
   */
  reduceSplit(sink: string[], len: number, term: (sink: string[], idx: Ix[]) => string, ways: number): string {
    const accs = Array.from({ length: ways }, (_, w) => this.names.fresh(`acc${w}`));
    const j = this.loopVar(this.depth);
    this.depth += 1;
    const body: string[] = [];
    accs.forEach((a, w) => body.push(`${a} += ${term(body, [w === 0 ? j : `${j} + ${w}`])};`));
    this.depth -= 1;
    const main = len - (len % ways);
    sink.push(`let ${accs.map((a) => `${a} = 0`).join(", ")};`);
    sink.push(`for (let ${j} = 0; ${j} < ${main}; ${j} += ${ways}) {`, ...body, "}");
    const rest: string[] = [];
    for (let c = main; c < len; c++) rest.push(paren(term(sink, [c])));
    return [...accs, ...rest].join(" + ");
  }
}

// ── helpers ──────────────────────────────────────────────────────────

/**
 * How often one evaluation of `node` reads each element of its k-th input: a matrix product reads
 * every element of A once per column of B, a scalar broadcast is read once per element, … An
 * inlined input would be recomputed that often, so more than one read makes it materialize.
 */
function readsPerElement(g: Graph, node: Node, k: number): number {
  const input = node.inputs[k]!;
  switch (node.op) {
    case "matmul": {
      const b = g.shape(node.inputs[1]!);
      return k === 0 ? (b.length === 1 ? 1 : b[1]!) : g.shape(node.inputs[0]!)[0]!;
    }
    case "outer":
      return g.shape(node.inputs[1 - k]!)[0]!;
    case "broadcast":
      return numel(node.shape);
    default:
      return OPS[node.op].kind === "elementwise" && g.shape(input).length === 0 ? numel(node.shape) : 1;
  }
}

/** Values the user named (an equation, a layer) and their adjoints are kept as named locals, so
 * the emitted code reads like the derivation: one block per statement. */
function isNamed(g: Graph, node: Node): boolean {
  if (node.name === null || node.origin === null) return false;
  if (!node.backward) return node.name === node.origin.defines;
  return node.name === `d${node.origin.defines}`;
}

function reductionLength(g: Graph, node: Node): number {
  switch (node.op) {
    case "matmul":
      return g.shape(node.inputs[0]!)[1]!;
    case "sum":
    case "logsumexp":
    case "cross_entropy":
    case "binary_cross_entropy":
      return numel(g.shape(node.inputs[0]!));
    default:
      return 1;
  }
}

function hintFor(node: Node): string {
  switch (node.op) {
    case "logsumexp":
      return "lse";
    case "dropout_mask":
      return "mask";
    case "sum":
      return "sum";
    default:
      return "tmp";
  }
}

/**
 * `a + b + c + …` as one chain when it has at most MAX_SUM_CHAIN terms, else as parenthesized
 * groups of that many (recursively): a chain is parsed as deep as it is long, and prettier's parser
 * overflows the stack at about 760 terms (`--unroll 4096` on digits gives 2048-term sums).
 */
function sumOf(terms: readonly string[]): string {
  let parts = terms;
  while (parts.length > MAX_SUM_CHAIN) {
    const groups: string[] = [];
    for (let i = 0; i < parts.length; i += MAX_SUM_CHAIN) groups.push(`(${parts.slice(i, i + MAX_SUM_CHAIN).join(" + ")})`);
    parts = groups;
  }
  return parts.join(" + ");
}

/** Every index tuple of a shape, in row-major order. */
function indices(shape: Shape): number[][] {
  const st = strides(shape);
  return Array.from({ length: numel(shape) }, (_, f) => shape.map((d, k) => Math.floor(f / st[k]!) % d));
}

function wrapLoops(vars: readonly string[], dims: Shape, body: string[]): string[] {
  let lines = body;
  for (let d = dims.length - 1; d >= 0; d--) {
    const v = vars[d]!;
    lines = [`for (let ${v} = 0; ${v} < ${dims[d]}; ${v}++) {`, ...lines, "}"];
  }
  return lines;
}

/** Row-major flat index, folded where the parts are constant. */
function flat(shape: Shape, idx: readonly Ix[]): Ix {
  const st = strides(shape);
  let c = 0;
  const terms: string[] = [];
  idx.forEach((v, k) => {
    if (typeof v === "number") c += v * st[k]!;
    else terms.push(st[k] === 1 ? v : `${/^[\w$]+$/.test(v) ? v : `(${v})`} * ${st[k]}`);
  });
  if (terms.length === 0) return c;
  if (c !== 0) terms.push(String(c));
  return terms.join(" + ");
}

function flatConst(shape: Shape, idx: readonly Ix[]): number {
  const f = flat(shape, idx);
  if (typeof f !== "number") throw new Error("internal: locals read with a loop index");
  return f;
}

function add(base: string, off: Ix): string {
  return off === 0 ? base : `${base} + ${off}`;
}

export function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  const s = String(v);
  return v < 0 || Object.is(v, -0) ? `(${s === "0" ? "-0" : s})` : s;
}

function paren(s: string): string {
  return ATOMIC.test(s) ? s : `(${s})`;
}
