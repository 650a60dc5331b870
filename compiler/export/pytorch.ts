/**
 * `nnc export --format pytorch`: model.py, a torch.nn.Module computing what nnc's module computes,
 * emitted from the same IR (the model's graph, its loss split by plan/split-loss.ts into the
 * per-sample terms and the parameter-only terms). Autograd then differentiates it; the export
 * test checks its loss and gradient against nnc's gradientBatch to 1e-10.
 *
 * The emitted methods are straight-line code in the graph's (topological) order: a value gets a
 * local variable when the user named it, when it is used more than once or when its expression
 * grows long; other values are written inline. A comment carries the `.nn` line each group of
 * statements comes from. Parameter names are kept exactly as state_dict keys: `h.W` is the
 * parameter `W` of a plain submodule `h`.
 */
import type { Graph, NodeId } from "../ir/graph.js";
import { fans, numel } from "../ir/shape.js";
import { reachable } from "../ir/walk.js";
import { splitLoss } from "../plan/split-loss.js";
import type { Model, ParamInfo } from "../semantics/model.js";
import { TORCH_OPS, type Value } from "./pytorch-ops.js";
import { atom, isPyKeyword, numberExpr, operand, PREC, pyComment, pyDoc, pyNumber, pyString, pyTuple, PyNames, type PyExpr } from "./python.js";

/** A model the export cannot express; the CLI prints it as a user error. */
export class ExportError extends Error {}

/** Attributes every torch.nn.Module has (torch 1.13), and the ones model.py adds: a parameter or layer of one of these names cannot be an attribute. */
const MODULE_ATTRIBUTES = new Set(
  (
    "T_destination add_module apply bfloat16 buffers children cpu cuda double dump_patches eval extra_repr float forward get_buffer " +
    "get_extra_state get_parameter get_submodule half ipu load_state_dict modules named_buffers named_children named_modules " +
    "named_parameters parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook " +
    "register_full_backward_hook register_load_state_dict_post_hook register_module register_parameter requires_grad_ " +
    "set_extra_state share_memory state_dict to to_empty train training type xpu zero_grad " +
    "dtype reset_parameters sample_losses regularizer loss"
  ).split(" "),
);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The parameter names as module paths; throws ExportError for a name torch cannot hold. */
function checkParamNames(model: Model): void {
  const names = new Set(model.params.map((p) => p.name));
  for (const p of model.params) {
    const parts = p.name.split(".");
    for (const part of parts) {
      if (!IDENTIFIER.test(part) || part.startsWith("_") || MODULE_ATTRIBUTES.has(part))
        throw new ExportError(
          `the parameter '${p.name}' cannot keep its name in PyTorch: '${part}' ${part.startsWith("_") ? "starts with an underscore (torch.nn.Module's private attributes do)" : "is an attribute of torch.nn.Module or of the exported Model"}; rename the ${parts.length > 1 ? "layer or parameter" : "parameter"}`,
        );
    }
    for (let k = 1; k < parts.length; k++)
      if (names.has(parts.slice(0, k).join(".")))
        throw new ExportError(`the parameter '${p.name}' cannot keep its name in PyTorch: '${parts.slice(0, k).join(".")}' is a parameter too, and cannot also hold parameters; rename one of them`);
  }
}

/** How a method's code reads a parameter: `self.h.W`, or by name when a part is a Python keyword. */
export function paramExpr(name: string): PyExpr {
  return atom(name.split(".").some(isPyKeyword) ? `self.get_parameter(${pyString(name)})` : `self.${name}`);
}

/** Values that depend on the sample carry a batch axis. */
function batchedNodes(g: Graph): Uint8Array {
  const out = new Uint8Array(g.nodes.length);
  for (const n of g.nodes)
    if (n.op === "input" || n.op === "target" || n.op === "dropout" || n.op === "dropout_mask" || n.inputs.some((i) => out[i])) out[n.id] = 1;
  return out;
}

/** Inline expressions longer than this get a local variable instead. */
const INLINE_MAX = 60;
const INDENT = "        ";

interface MethodBody {
  readonly lines: string[];
  readonly roots: Value[];
  /** "batch", bound to the batch size at the top of the method on first use */
  readonly batch: () => string;
}

/**
 * The statements computing `roots` in the graph `g`, with inputs and targets bound from the
 * method's dicts; `first` is the text of a batched tensor the batch size is read from.
 */
function emitBody(g: Graph, roots: readonly NodeId[], batched: Uint8Array, first: string, helpers: Set<string>, rootName = "tmp"): MethodBody {
  const need = reachable(g, roots);
  const uses = new Uint32Array(g.nodes.length);
  for (let id = 0; id < g.nodes.length; id++) if (need[id]) for (const i of g.node(id).inputs) uses[i]!++;
  for (const r of roots) uses[r] = Math.max(uses[r]!, 2);
  const names = new PyNames();
  const lines: string[] = [];
  const values = new Map<NodeId, Value>();
  let batchBound = false;
  let lastLine = -1;
  const batch = () => {
    if (!batchBound) lines.unshift(`${INDENT}batch = len(${first})`);
    batchBound = true;
    return "batch";
  };
  const helper = (h: string) => void helpers.add(h);
  for (let id = 0; id < g.nodes.length; id++) {
    if (!need[id]) continue;
    const n = g.node(id);
    const rank = n.shape.length;
    const isBatched = batched[id] === 1;
    let expr: PyExpr;
    if (n.op === "const" && rank === 0) {
      values.set(id, { expr: numberExpr(n.num), rank, batched: false, literal: true });
      continue;
    }
    if (n.op === "const") expr = atom(`torch.full(${pyTuple(n.shape)}, ${pyNumber(n.num)}, dtype=self.dtype)`);
    else if (n.op === "param") expr = paramExpr(n.ref);
    else if (n.op === "input" || n.op === "target") {
      const local = names.fresh(n.ref);
      lines.push(`${INDENT}${local} = ${n.op}s[${pyString(n.ref)}]  # [B${n.shape.map((d) => `, ${d}`).join("")}]`);
      values.set(id, { expr: atom(local), rank, batched: true });
      continue;
    } else {
      let args = n.inputs.map((i) => values.get(i)!);
      // dropout draws a mask per sample: a value of the parameters alone first gets its batch axis
      if (n.op === "dropout" && !args[0]!.batched) args = [{ expr: expandToBatch(args[0]!, n.shape, batch()), rank, batched: true }];
      expr = TORCH_OPS[n.op]({ node: n, graph: g, args, batched: isBatched, helper, batch });
    }
    const bind = n.op !== "const" && n.op !== "param" && (uses[id]! > 1 || n.name !== null || expr.text.length > INLINE_MAX);
    if (!bind) {
      values.set(id, { expr, rank, batched: isBatched });
      continue;
    }
    if (n.origin !== null && n.origin.line !== lastLine) {
      lastLine = n.origin.line;
      if (lines.length > 0 && !/ = (inputs\[|targets\[|len\()/.test(lines[lines.length - 1]!)) lines.push("");
      lines.push(`${INDENT}# line ${n.origin.line}: ${pyComment(n.origin.text)}`);
    }
    const local = names.fresh(n.name ?? (roots.includes(id) ? rootName : "tmp"));
    lines.push(`${INDENT}${local} = ${expr.text}`);
    values.set(id, { expr: atom(local), rank, batched: isBatched });
  }
  return { lines, roots: roots.map((r) => values.get(r)!), batch };
}

/** A value of the parameters alone, repeated for every sample of the batch. */
function expandToBatch(v: Value, shape: readonly number[], batch: string): PyExpr {
  const dims = shape.map((d) => `, ${d}`).join("");
  if (v.literal) return atom(`torch.full((${batch}${dims}${shape.length === 0 ? "," : ""}), ${v.expr.text}, dtype=self.dtype)`);
  return atom(`${operand(v.expr, PREC.atom)}.expand(${batch}${dims})`);
}

/** A root as one value per sample: the parameters-only ones are repeated over the batch. */
function perSample(body: MethodBody, k: number, shape: readonly number[]): string {
  const v = body.roots[k]!;
  return v.batched ? v.expr.text : expandToBatch(v, shape, body.batch()).text;
}

const HELPERS: Record<"softplus" | "unindex", string> = {
  softplus: `def softplus(x):
    """log(1 + exp(x)) without overflow, as nnc computes it: max(x, 0) + log1p(exp(-|x|))."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))`,
  unindex: `def unindex(value, shape, at):
    """A tensor of the given per-sample shape, zero but at position \`at\`, which holds value."""
    out = value.new_zeros(tuple(value.shape) + shape)
    out[(...,) + at] = value
    return out`,
};

/** A parameter's initializer: its statement, after a comment for the derived ones. */
function initLines(p: ParamInfo): string[] {
  const target = paramExpr(p.name).text;
  const { fanIn, fanOut } = fans(p.shape);
  const normal = (std: number, why: string) => [`# ${why}`, `torch.nn.init.normal_(${target}, 0.0, ${pyNumber(std)})`];
  const s = p.init;
  switch (s.kind) {
    case "zeros":
      return [`${target}.zero_()`];
    case "constant":
      return [`${target}.fill_(${pyNumber(s.value)})`];
    case "normal":
      return [`torch.nn.init.normal_(${target}, ${pyNumber(s.mean)}, ${pyNumber(s.std)})`];
    case "uniform":
      return [`torch.nn.init.uniform_(${target}, ${pyNumber(s.lo)}, ${pyNumber(s.hi)})`];
    case "lecun":
      return normal(1 / Math.sqrt(fanIn), `${p.name} ~ lecun: 1/√fan_in, fan_in = ${fanIn}`);
    case "xavier":
      return normal(Math.sqrt(2 / (fanIn + fanOut)), `${p.name} ~ xavier: √(2/(fan_in + fan_out)), fan_in = ${fanIn}, fan_out = ${fanOut}`);
    case "he":
      return normal(Math.sqrt(2 / fanIn), `${p.name} ~ he: √(2/fan_in), fan_in = ${fanIn}`);
  }
}

/** The constructor's lines: one plain submodule per layer prefix, then the parameters. */
function declareParams(model: Model): string[] {
  const lines: string[] = [];
  const scopes = new Set<string>();
  let lastLine = -1;
  for (const p of model.params) {
    const origin = model.graph.node(p.node).origin;
    if (origin !== null && origin.line !== lastLine) {
      lastLine = origin.line;
      lines.push(`${INDENT}# line ${origin.line}: ${pyComment(origin.text)}`);
    }
    const parts = p.name.split(".");
    for (let k = 1; k < parts.length; k++) {
      const scope = parts.slice(0, k).join(".");
      if (scopes.has(scope)) continue;
      scopes.add(scope);
      const owner = k === 1 ? "self" : paramOwner(parts.slice(0, k - 1));
      lines.push(isPyKeyword(parts[k - 1]!) || owner.includes("get_submodule") ? `${INDENT}${owner}.add_module(${pyString(parts[k - 1]!)}, torch.nn.Module())` : `${INDENT}${owner}.${parts[k - 1]} = torch.nn.Module()`);
    }
    const owner = paramOwner(parts.slice(0, -1));
    const leaf = parts[parts.length - 1]!;
    const value = `torch.nn.Parameter(torch.empty(${pyTuple(p.shape)}, dtype=dtype))`;
    lines.push(isPyKeyword(leaf) || owner.includes("get_submodule") ? `${INDENT}${owner}.register_parameter(${pyString(leaf)}, ${value})` : `${INDENT}${owner}.${leaf} = ${value}`);
  }
  return lines;
}

function paramOwner(scope: readonly string[]): string {
  if (scope.length === 0) return "self";
  return scope.some(isPyKeyword) ? `self.get_submodule(${pyString(scope.join("."))})` : `self.${scope.join(".")}`;
}

const dictOf = (entries: readonly { name: string; shape: readonly number[] }[]) =>
  entries.length === 0 ? "{}" : `{\n${entries.map((e) => `    ${pyString(e.name)}: ${pyTuple(e.shape)},\n`).join("")}}`;

export interface PyTorchModelOptions {
  /** the .nn file's name (no directory), for the header */
  readonly file: string;
  readonly version: string;
}

/** model.py for a checked model. */
export function emitModelPy(model: Model, options: PyTorchModelOptions): string {
  checkParamNames(model);
  const helpers = new Set<string>();
  const g = model.graph.copy();
  const split = splitLoss(g.at(g.node(model.loss).origin), model.loss);
  const batched = batchedNodes(g);
  const firstInput = model.inputs[0] ? `inputs[${pyString(model.inputs[0].name)}]` : "next(iter(targets.values()))";

  const forward = emitBody(g, model.outputs.map((o) => o.node), batched, firstInput, helpers);
  const forwardReturn = `${INDENT}return {${model.outputs.map((o, k) => `${pyString(o.name)}: ${perSample(forward, k, g.shape(o.node))}`).join(", ")}}`;
  const samples = emitBody(g, [split.sample], batched, firstInput, helpers, "losses");
  const sampleReturn = `${INDENT}return ${perSample(samples, 0, [])}`;
  const reg = split.paramOnly === null ? null : emitBody(g, [split.paramOnly], batched, firstInput, helpers, "penalty");
  const regLines = reg === null ? [`${INDENT}return torch.zeros((), dtype=self.dtype)`] : [...reg.lines, `${INDENT}return ${reg.roots[0]!.expr.text}`];

  const params = model.params.map((p) => ({ name: p.name, shape: p.shape }));
  const nParams = model.params.reduce((s, p) => s + numel(p.shape), 0);
  const outputsDoc = model.outputs.map((o) => `"${o.name}": [B${g.shape(o.node).map((d) => `, ${d}`).join("")}]`).join(", ");

  const text = [
    `"""`,
    `The model ${pyDoc(model.name)} of ${pyDoc(options.file)}, exported by nnc ${options.version} (nnc export --format pytorch).`,
    ``,
    `The computation of nnc's generated module in PyTorch: the same ${model.params.length} parameters (${nParams} values) under`,
    `the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is`,
    `x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.`,
    `Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].`,
    ``,
    `    model = Model()`,
    `    outputs = model(inputs)              # {${outputsDoc}}`,
    `    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch`,
    `"""`,
    `import torch`,
    `import torch.nn.functional as F`,
    ``,
    `MODEL_NAME = ${pyString(model.name)}`,
    `INPUTS = ${dictOf(model.inputs)}`,
    `TARGETS = ${dictOf(model.targets)}`,
    `OUTPUTS = ${dictOf(model.outputs.map((o) => ({ name: o.name, shape: g.shape(o.node) })))}`,
    `# in the .nn file's order, which is the order of the tensors in a weights file`,
    `PARAMETERS = ${dictOf(params)}`,
    ...[...helpers].sort().flatMap((h) => ["", "", HELPERS[h as keyof typeof HELPERS]]),
    ``,
    ``,
    `class Model(torch.nn.Module):`,
    `    def __init__(self, dtype=torch.float64):`,
    `        super().__init__()`,
    `        self.dtype = dtype`,
    ...declareParams(model),
    `        self.reset_parameters()`,
    ``,
    `    @torch.no_grad()`,
    `    def reset_parameters(self):`,
    `        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""`,
    ...model.params.flatMap((p) => initLines(p).map((l) => `${INDENT}${l}`)),
    ``,
    `    def forward(self, inputs: dict) -> dict:`,
    `        """The outputs for a batch of inputs (dropout is active only in train() mode)."""`,
    ...forward.lines,
    forwardReturn,
    ``,
    `    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:`,
    `        """The loss of each sample without the parameter-only terms: a [B] tensor."""`,
    ...samples.lines,
    sampleReturn,
    ``,
    `    def regularizer(self) -> torch.Tensor:`,
    `        """The parameter-only terms of the loss (weight decay): counted once per batch."""`,
    ...regLines,
    ``,
    `    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:`,
    `        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""`,
    `        return self.sample_losses(inputs, targets).mean() + self.regularizer()`,
    ``,
  ];
  return text.join("\n");
}
