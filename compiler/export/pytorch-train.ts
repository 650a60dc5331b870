/**
 * `nnc export --format pytorch`: train.py, the model's train block as a torchrun-compatible
 * DistributedDataParallel script (docs/scale-out.md). What it shares with `nnc train`:
 *   - the data files and their readers (CSV by column name or position, class columns; MNIST IDX),
 *   - the split (the same seeded shuffle, so the same validation samples), z-score normalization
 *     with the training part's statistics (stored in the weights),
 *   - the batches: each epoch the same seeded permutation cut into the same mini-batches; the
 *     processes share each batch, and their gradients average to the whole batch's,
 *   - the optimizer's update rule (torch.optim where it is the same rule, else a small class
 *     here), the schedule, early stopping on the validation loss with the best weights restored.
 * What differs: the initial weights and dropout masks come from torch's generator, not nnc's.
 * Only the chosen optimizer's code is emitted.
 */
import { relative, resolve, isAbsolute } from "node:path";
import type { Model, OptimizerConfig } from "../semantics/model.js";
import { pyComment, pyDoc, pyNumber, pyString } from "./python.js";
import type { RunConfig } from "../../runtime/cli-train.js";

/** The second-order optimizers train.py does not have: torch.optim has no counterpart to port from. */
const NOT_EXPORTED = (name: string) => ({
  setup: "None",
  code: undefined,
  missing: `optimizer ${name} has no PyTorch counterpart in train.py: choose another optimizer in the train block and export again (model.py is complete as it is)`,
});

/** The update rules nnc's optimizers share with torch.optim, and the rules train.py writes out. */
const OPTIMIZER_CODE: Record<OptimizerConfig["name"], (a: Readonly<Record<string, number>>) => { setup: string; code?: string; missing?: string }> = {
  newton: () => NOT_EXPORTED("newton"),
  newton_cg: () => NOT_EXPORTED("newton_cg"),
  sgd: (a) => ({ setup: `torch.optim.SGD(params, lr=${pyNumber(a.lr!)})` }),
  // v ← μ v + g, θ ← θ − η (g + μ v): torch's Nesterov SGD is this rule
  nesterov: (a) => ({ setup: `torch.optim.SGD(params, lr=${pyNumber(a.lr!)}, momentum=${pyNumber(a.mu!)}, nesterov=True)` }),
  // r ← r + g², θ ← θ − η g / (√r + ε): torch's Adagrad (no lr decay, r₀ = 0) is this rule
  adagrad: (a) => ({ setup: `torch.optim.Adagrad(params, lr=${pyNumber(a.lr!)}, eps=${pyNumber(a.eps!)})` }),
  // E[g²] ← ρE[g²] + (1−ρ)g², Δθ = √(E[Δθ²] + ε)/√(E[g²] + ε)·g, E[Δθ²] ← ρE[Δθ²] + (1−ρ)Δθ², θ ← θ − ηΔθ:
  // torch's Adadelta (no weight decay) is this rule
  adadelta: (a) => ({ setup: `torch.optim.Adadelta(params, lr=${pyNumber(a.lr!)}, rho=${pyNumber(a.rho!)}, eps=${pyNumber(a.eps!)})` }),
  momentum: (a) => ({
    setup: `Momentum(params, lr=${pyNumber(a.lr!)}, gamma=${pyNumber(a.gamma!)})`,
    code: String.raw`class Momentum(torch.optim.Optimizer):
    """The notes' momentum: m <- gamma m + (1 - gamma) g, theta <- theta - lr m (m0 = 0).

    torch's SGD(momentum) differs: no (1 - gamma) factor, and its first step sets m = g.
    """

    def __init__(self, params, lr, gamma):
        super().__init__(params, dict(lr=lr, gamma=gamma))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                m = self.state[p].setdefault("m", torch.zeros_like(p))
                m.mul_(group["gamma"]).add_(p.grad, alpha=1 - group["gamma"])
                p.sub_(group["lr"] * m)`,
  }),
  rmsprop: (a) => ({
    setup: `RmsProp(params, lr=${pyNumber(a.lr!)}, gamma=${pyNumber(a.gamma!)}, eps=${pyNumber(a.eps!)})`,
    code: String.raw`class RmsProp(torch.optim.Optimizer):
    """The notes' RMSProp: v <- gamma v + (1 - gamma) g^2, theta <- theta - lr g / sqrt(v + eps).

    torch's RMSprop adds eps outside the root (sqrt(v) + eps); the notes put it inside.
    """

    def __init__(self, params, lr, gamma, eps):
        super().__init__(params, dict(lr=lr, gamma=gamma, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                v = self.state[p].setdefault("v", torch.zeros_like(p))
                v.mul_(group["gamma"]).addcmul_(p.grad, p.grad, value=1 - group["gamma"])
                p.sub_(group["lr"] * p.grad / torch.sqrt(v + group["eps"]))`,
  }),
  adam: (a) => ({
    setup: `Adam(params, lr=${pyNumber(a.lr!)}, beta1=${pyNumber(a.beta1!)}, beta2=${pyNumber(a.beta2!)}, eps=${pyNumber(a.eps!)})`,
    code: String.raw`class Adam(torch.optim.Optimizer):
    """Adam as the notes (and nnc) write it, eps inside the root:
    m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
    theta <- theta - lr (m / (1 - b1^k)) / sqrt(v / (1 - b2^k) + eps).

    torch's Adam adds eps outside the root: sqrt(v / (1 - b2^k)) + eps.
    """

    def __init__(self, params, lr, beta1, beta2, eps):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["beta1"], group["beta2"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(k=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["k"] += 1
                m, v, k = state["m"], state["v"], state["k"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.sub_(group["lr"] * (m / (1 - b1**k)) / torch.sqrt(v / (1 - b2**k) + group["eps"]))`,
  }),
  // one full-batch iteration per epoch, strong Wolfe line search from lr (min(1, 1/‖g‖₁) · lr at first), as nnc
  lbfgs: (a) => ({
    setup: `torch.optim.LBFGS(params, lr=${pyNumber(a.lr!)}, history_size=${a.history}, max_iter=1, max_eval=25, tolerance_grad=1e-10, tolerance_change=1e-12, line_search_fn="strong_wolfe")`,
  }),
};

export interface TrainPyOptions {
  readonly file: string;
  readonly version: string;
  /** the directory train.py is written to: data paths are made relative to it */
  readonly dir: string;
  /** the resolved train block (runtime/cli-train.ts resolveConfig): data "" when the block names none */
  readonly config: RunConfig;
  /** some parameter does not reach the loss: DDP must look for unused parameters */
  readonly unusedParams: boolean;
}

/**
 * A data path of the train block as train.py names it: absolute if the block wrote it so; else
 * relative to train.py's directory when the two are near (the export and the data move
 * together), else absolute. `resolved` is the path as nnc train resolves it (cli-train.ts).
 */
function pyPath(dir: string, resolved: string | null, written: string | undefined): string {
  if (resolved === null || resolved === "") return "None";
  const rel = relative(resolve(dir), resolve(resolved));
  return (written !== undefined && isAbsolute(written)) || rel.startsWith("../../../") ? pyString(resolve(resolved)) : `os.path.normpath(os.path.join(HERE, ${pyString(rel)}))`;
}

const pyDict = (o: Readonly<Record<string, number | string>>) =>
  `{${Object.entries(o).map(([k, v]) => `${pyString(k)}: ${typeof v === "number" ? pyNumber(v) : pyString(v)}`).join(", ")}}`;

/** A long message as adjacent string literals of at most ~90 characters, one per line. */
function wrapString(text: string, indent: string): string {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > 90) {
    const cut = rest.lastIndexOf(" ", 90);
    parts.push(rest.slice(0, cut + 1));
    rest = rest.slice(cut + 1);
  }
  parts.push(rest);
  return parts.map((p) => `${indent}${pyString(p)}`).join("\n");
}

/** What train.py cannot do for this train block (printed by nnc export as a warning), or null. */
export function trainPyLimitation(config: RunConfig): string | null {
  const missing = OPTIMIZER_CODE[config.optimizer.name](config.optimizer.args).missing;
  if (missing !== undefined) return missing;
  if (config.snapshots !== null) return `train.py does not save snapshot ensembles (snapshots ${config.snapshots}): it trains with the schedule and writes the final weights; nnc train writes the snapshots`;
  return preprocessingMissing(config);
}

/**
 * train.py z-scores or leaves the inputs as they are; pca(k), whiten and zca (an eigen-decomposition
 * that must match nnc's signs and ε to give the same weights) and augmentation are nnc train's only.
 */
function preprocessingMissing(c: RunConfig): string | null {
  const n = c.normalize;
  const missing = [
    ...(n !== "zscore" && n !== "none" ? [`normalize ${typeof n === "string" ? n : `pca(${n.components})`}`] : []),
    ...(c.augment ? [`augment shift(pixels = ${c.augment.args.pixels})`] : []),
  ];
  if (missing.length === 0) return null;
  return `${missing.join(" and ")} ${missing.length > 1 ? "have" : "has"} no counterpart in train.py (it z-scores the inputs or leaves them as they are, without augmentation): train with nnc train, or drop ${missing.length > 1 ? "them" : "it"} from the train block and export again (model.py is complete as it is)`;
}

/** train.py for a checked model and its resolved train block. */
export function emitTrainPy(model: Model, o: TrainPyOptions): string {
  const c = o.config;
  const opt = OPTIMIZER_CODE[c.optimizer.name](c.optimizer.args);
  const config = [
    `# The train block of ${pyComment(o.file)}, with nnc train's defaults (paths relative to this file's directory).`,
    `DATA = ${pyPath(o.dir, c.data, model.train.data)}`,
    `VALIDATION = ${pyPath(o.dir, c.validation, model.train.validation)}`,
    `SPLIT = ${c.split === null ? "None" : pyNumber(c.split)}`,
    `OPTIMIZER = ${pyDict({ name: c.optimizer.name, ...c.optimizer.args })}`,
    `SCHEDULE = ${pyDict({ name: c.schedule.name, ...c.schedule.args })}`,
    `BATCH = ${c.batch}`,
    `EPOCHS = ${c.epochs}`,
    `EARLY_STOPPING = ${c.earlyStopping ? pyDict({ patience: c.earlyStopping.patience, min_delta: c.earlyStopping.minDelta }) : "None"}`,
    `SEED = ${c.seed}`,
    `NORMALIZE = ${c.normalize === "zscore" ? "True" : "False"}`,
  ].join("\n");
  const unsupported = preprocessingMissing(c);
  const lbfgs = c.optimizer.name === "lbfgs";
  return [
    header(model, o),
    IMPORTS,
    config,
    ...(unsupported === null ? [] : ["", "", `sys.exit(\n${wrapString(`train.py: error: ${unsupported}`, "    ")}\n)`]),
    "",
    "",
    ...(opt.code ? [opt.code, "", ""] : []),
    opt.missing === undefined
      ? `def make_optimizer(params, lr):\n    return ${opt.setup.replace(/lr=[^,)]+/, "lr=lr")}`
      : `def make_optimizer(params, lr):\n    sys.exit(\n${wrapString(`train.py: error: ${opt.missing}`, "        ")}\n    )`,
    "",
    "",
    COMMON,
    "",
    "",
    lbfgs ? TRAIN_LBFGS : TRAIN_MINIBATCH,
    "",
    "",
    MAIN.replace("FIND_UNUSED", o.unusedParams ? "True" : "False"),
  ].join("\n");
}

function header(model: Model, o: TrainPyOptions): string {
  const name = pyDoc(model.name);
  const file = pyDoc(o.file);
  return String.raw`"""
Trains the model ${name} (model.py) as nnc train ${file} does, data-parallel with PyTorch's
DistributedDataParallel, and writes .safetensors weights that nnc predict reads.
Exported by nnc ${o.version} (nnc export --format pytorch).

    torchrun --nproc_per_node=2 train.py -o ${name}.safetensors    # 2 processes (gloo, CPU)
    python3 train.py -o ${name}.safetensors                        # 1 process
    nnc predict ${file} --weights ${name}.safetensors --data test.csv

Each mini-batch is the one nnc train would take (the same seeded shuffle); every process computes
the loss of its share of the batch, scaled so that DDP's average of the gradients is the gradient
of the whole batch's objective (the mean loss plus the parameter-only terms once).
The initial weights and the dropout masks come from torch's generator (torch.manual_seed(SEED)).
"""`;
}

const IMPORTS = String.raw`import argparse
import csv
import gzip
import io
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import INPUTS, MODEL_NAME, OUTPUTS, PARAMETERS, TARGETS, Model  # noqa: E402
`;

/** Data files, normalization, the split, batches, schedules, metrics and the weights file: the runtime's rules in Python. */
const COMMON = String.raw`class DataError(Exception):
    pass


def numel(shape):
    return math.prod(shape)


def column_names(name, shape):
    """x for a scalar, x_0 ... x_{n-1} for a tensor (row-major), as nnc's CSV files name them."""
    return [name] if len(shape) == 0 else [f"{name}_{i}" for i in range(numel(shape))]


def one_hot_target(targets):
    """The single vector target t[C] (C >= 2) that one integer class column may stand for."""
    if len(targets) != 1:
        return None
    (name, shape), = targets.items()
    return (name, shape[0]) if len(shape) == 1 and shape[0] >= 2 else None


def read_csv(path, text, targets):
    """A CSV file with a header: columns by name when every header cell is one of the model's
    column names, else by position (inputs then targets, row-major); one class column may stand
    for a one-hot target."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: the file is empty (a CSV data file starts with a header line)")
    header = [c.strip().strip('"').strip() for c in rows[0]]
    arrays = [(n, s, False) for n, s in INPUTS.items()] + [(n, s, True) for n, s in targets.items()]
    hot = one_hot_target(targets)
    known = {}
    for name, shape, _ in arrays:
        for i, col in enumerate(column_names(name, shape)):
            known[col] = (name, i, 0)
    if hot is not None:
        known.setdefault(hot[0], (hot[0], 0, hot[1]))
    if all(h in known for h in header) and len(set(header)) == len(header):
        columns = [known[h] for h in header]
        given = {(n, o) for n, o, classes in columns if not classes}
        given |= {(n, o) for n, _, classes in columns if classes for o in range(classes)}
        class_column = hot[0] if hot is not None else None
        missing = [c for c, (n, o, _) in known.items() if (n, o) not in given and c != class_column]
        if missing:
            raise DataError(f"{path}: the header names the model's columns but lacks {', '.join(missing[:4])}")
    else:
        columns = []
        for name, shape, _ in arrays:
            columns += [(name, i, 0) for i in range(numel(shape))]
        if hot is not None and len(header) == len(columns) - hot[1] + 1:
            columns = [c for c in columns if c[0] != hot[0]] + [(hot[0], 0, hot[1])]
        if len(header) != len(columns):
            alternative = f" (or {len(columns) - hot[1] + 1} with a class column)" if hot is not None else ""
            raise DataError(f"{path}: the model needs {len(columns)} columns{alternative}, the file has {len(header)}")
    count = len(rows) - 1
    out = {name: np.zeros((count, numel(shape))) for name, shape, _ in arrays}
    for r, row in enumerate(rows[1:]):
        if len(row) != len(columns):
            raise DataError(f"{path}: row {r + 2} has {len(row)} cells, the header {len(columns)}")
        for cell, (name, offset, classes) in zip(row, columns):
            try:
                v = float(cell.strip().strip('"'))
            except ValueError:
                raise DataError(f"{path}: row {r + 2}: '{cell}' is not a number") from None
            if not math.isfinite(v):
                raise DataError(f"{path}: row {r + 2}: '{cell}' is not a finite number")
            if classes:
                if v != int(v) or not 0 <= v < classes:
                    raise DataError(f"{path}: row {r + 2}: class label '{cell}' is not in 0..{classes - 1}")
                out[name][r, int(v)] = 1.0
            else:
                out[name][r, offset] = v
    return count, out


def read_idx(path):
    """An MNIST IDX file (plain or gzipped): its dimensions and its unsigned bytes."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic = struct.unpack(">I", raw[:4])[0]
    if magic not in (0x803, 0x801):
        raise DataError(f"{path}: not an IDX file of MNIST's kind (magic {magic:#010x})")
    ndims = magic & 0xFF
    dims = struct.unpack(f">{ndims}I", raw[4:4 + 4 * ndims])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims)
    if data.size != numel(dims):
        raise DataError(f"{path}: the header says {dims}, the file holds {data.size} bytes of data")
    return dims, data


def read_idx_pair(path, targets):
    """Images scaled to [0, 1] into the one input; labels (images-idx3 -> labels-idx1 in the
    name) one-hot into a vector target, or the class into a scalar target."""
    dims, pixels = read_idx(path)
    (name, shape), = INPUTS.items()
    out = {name: pixels.reshape(dims[0], -1).astype(np.float64) / 255}
    if targets:
        (tname, tshape), = targets.items()
        labels_file = os.path.join(os.path.dirname(path), os.path.basename(path).replace("images-idx3", "labels-idx1"))
        ldims, labels = read_idx(labels_file)
        if ldims[0] != dims[0]:
            raise DataError(f"{path}: {dims[0]} images but {ldims[0]} labels")
        if len(tshape) == 0:
            out[tname] = labels.astype(np.float64).reshape(-1, 1)
        elif labels.size and int(labels.max()) >= tshape[0]:
            raise DataError(f"{labels_file}: label {int(labels.max())} is out of range: {tname} has {tshape[0]} values")
        else:
            out[tname] = np.eye(tshape[0])[labels]
    return dims[0], out


def load(path, with_targets=True):
    """A data file by its name and content, as nnc train reads it: {name: [N, ...] float64 tensors}."""
    targets = TARGETS if with_targets else {}
    name = os.path.basename(path)
    if "labels-idx1" in name:
        raise DataError(f"{path}: an IDX labels file; give the images file (the labels are found next to it)")
    with open(path, "rb") as f:
        head = f.read(4)
    zipped = head[:2] == b"\x1f\x8b"
    if zipped:
        with gzip.open(path, "rb") as f:
            head = f.read(4)
    csv_name = name.lower().endswith((".csv", ".csv.gz"))
    if "images-idx3" in name or (not csv_name and head == b"\x00\x00\x08\x03"):
        count, arrays = read_idx_pair(path, targets)
    else:
        with (gzip.open if zipped else open)(path, "rt", encoding="utf-8", newline="") as f:
            count, arrays = read_csv(path, f.read(), targets)
    shapes = {**INPUTS, **targets}
    return count, {
        k: torch.from_numpy(np.ascontiguousarray(v)).reshape((count,) + tuple(shapes[k])) for k, v in arrays.items()
    }


def mulberry32(seed):
    """nnc's seeded generator (runtime/random.ts), uniform in [0, 1), bit for bit."""
    s = seed & 0xFFFFFFFF

    def draw():
        nonlocal s
        s = (s + 0x6D2B79F5) & 0xFFFFFFFF
        t = ((s ^ (s >> 15)) * (s | 1)) & 0xFFFFFFFF
        t ^= (t + ((t ^ (t >> 7)) * (t | 61))) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return draw


def shuffled(count, seed):
    """The permutation nnc draws: Fisher-Yates from the last element down."""
    draw = mulberry32(seed)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = math.floor(draw() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def split(count, fraction, seed):
    """nnc's seeded split: validation gets round(fraction * count) samples; each part keeps the
    file's order."""
    order = shuffled(count, seed)
    n_valid = math.floor(fraction * count + 0.5)
    return sorted(order[n_valid:]), sorted(order[:n_valid])


def subset(arrays, rows):
    index = torch.tensor(rows, dtype=torch.long)
    return {k: v[index] for k, v in arrays.items()}


def normalization_of(inputs):
    """Mean and population standard deviation of every input element; a constant element gets
    std 1 (and its value as the mean)."""
    mean, std = {}, {}
    for name, x in inputs.items():
        flat = x.reshape(len(x), -1)
        m = flat.mean(0)
        s = flat.std(0, unbiased=False)
        constant = flat.min(0).values == flat.max(0).values
        m = torch.where(constant, flat[0], m)
        s = torch.where(constant | ~(s > 0) | ~torch.isfinite(s), torch.ones_like(s), s)
        mean[name], std[name] = m.tolist(), s.tolist()
    return {"mean": mean, "std": std}


def normalized(inputs, norm):
    if norm is None:
        return inputs
    out = {}
    for name, x in inputs.items():
        m = torch.tensor(norm["mean"][name], dtype=torch.float64)
        s = torch.tensor(norm["std"][name], dtype=torch.float64)
        out[name] = ((x.reshape(len(x), -1) - m) * (1 / s)).reshape(x.shape)
    return out


def cycle_at(t):
    """The cycle (0-based) of a cyclic schedule that time t (epochs) falls in, and the position u in
    [0, 1) inside it (runtime/schedules.ts, cycleAt)."""
    period, mult = SCHEDULE["period"], SCHEDULE.get("mult", 1)
    if mult == 1:
        q = t / period
        cycle = math.floor(q + 1e-9)
        return cycle, min(1.0, max(0.0, q - cycle))
    cycle = math.floor(math.log1p(t * (mult - 1) / period) / math.log(mult) + 1e-9)
    start = period * (mult**cycle - 1) / (mult - 1)
    return cycle, min(1.0, max(0.0, (t - start) / (period * mult**cycle)))


def learning_rate(t, base):
    """The schedule's rate at t = epochs done, with the fraction of the current epoch's steps
    (runtime/schedules.ts): the cyclic schedules change every step, the others every epoch."""
    name, T = SCHEDULE["name"], EPOCHS
    if name == "cyclic":
        lo, hi = SCHEDULE["min_lr"], SCHEDULE["max_lr"]
        return lo + (hi - lo) * (1 - abs(2 * cycle_at(t)[1] - 1))
    if name == "cosine_restarts":
        return 0.5 * base * (1 + math.cos(math.pi * cycle_at(t)[1]))
    epoch = math.floor(t)
    if name == "step":
        return base * SCHEDULE["factor"] ** (epoch // SCHEDULE["every"])
    if name == "cosine":
        return 0.5 * base * (1 + math.cos(math.pi * min(epoch, T) / T))
    if name == "linear":
        return base * (1 - min(epoch, T) / T)
    if name == "inverse_sqrt":
        return base / math.sqrt(1 + epoch)
    return base


def scoring(targets):
    """argmax for one one-hot target, threshold 0.5 for one 0/1 scalar, the sign for one -1/+1
    scalar (hinge's labels), else None (loss only): runtime/metrics.ts."""
    if len(TARGETS) != 1 or len(OUTPUTS) != 1:
        return None
    (tname, tshape), = TARGETS.items()
    (oname, oshape), = OUTPUTS.items()
    if numel(tshape) != numel(oshape):
        return None
    t = targets[tname].reshape(len(targets[tname]), -1)
    if numel(tshape) == 1 and len(t) > 0 and bool(((t == -1) | (t == 1)).all()):
        return ("sign", tname, oname)
    if not bool(((t == 0) | (t == 1)).all()):
        return None
    if numel(tshape) >= 2:
        return ("argmax", tname, oname) if bool((t.sum(1) == 1).all()) else None
    return ("threshold", tname, oname)


@torch.no_grad()
def evaluate(model, inputs, targets, rank=0, world=1, chunk=4096):
    """The loss (as nnc's evaluateBatch: mean over the samples plus the parameter-only terms) and
    the accuracy, in inference mode. With several processes each scores the rows rank, rank +
    world, ... and the sums are added up, so every process gets the same numbers."""
    was_training = model.training
    model.eval()
    count = len(next(iter(targets.values())))
    score = scoring(targets)
    inputs = {k: v[rank::world] for k, v in inputs.items()}
    targets = {k: v[rank::world] for k, v in targets.items()}
    sums = torch.zeros(2, dtype=torch.float64)  # the loss, the correct predictions
    for start in range(0, len(next(iter(targets.values()))), chunk):
        x = {k: v[start:start + chunk] for k, v in inputs.items()}
        t = {k: v[start:start + chunk] for k, v in targets.items()}
        sums[0] += model.sample_losses(x, t).sum()
        if score is not None:
            kind, tname, oname = score
            out = model(x)[oname].reshape(len(t[tname]), -1)
            want = t[tname].reshape(len(t[tname]), -1)
            if kind == "argmax":
                sums[1] += (out.argmax(1) == want.argmax(1)).sum()
            else:
                cut = 0 if kind == "sign" else 0.5
                sums[1] += ((out[:, 0] > cut) == (want[:, 0] > cut)).sum()
    if world > 1:
        dist.all_reduce(sums)
    model.train(was_training)
    loss = sums[0].item() / count + model.regularizer().item() if count else float("nan")
    return {"loss": loss, "accuracy": sums[1].item() / count if score is not None and count else None}


def describe(label, e):
    acc = "" if e["accuracy"] is None else f"  acc {100 * e['accuracy']:5.1f}%"
    return f"{label} loss {e['loss']:.4f}{acc}"


def save_safetensors(path, model, metadata):
    """The standard safetensors layout nnc reads: 8-byte little-endian header length, the JSON
    header (tensors in the .nn file's order, then __metadata__ of strings), the float64 data."""
    state = model.state_dict()
    header, blobs, offset = {}, [], 0
    for name, shape in PARAMETERS.items():
        data = state[name].detach().to(torch.float64).contiguous().numpy().astype("<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    partial = f"{path}.partial-{os.getpid()}"
    with open(partial, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(partial, path)


def identity():
    """What a checkpoint must be of: this model, with these parameter shapes."""
    return {"model": MODEL_NAME, "parameters": {name: list(shape) for name, shape in PARAMETERS.items()}}


def packed(obj, tensors):
    """obj as JSON, its tensors moved to the list tensors (dicts as pairs: optimizer state has int
    keys). A checkpoint is then JSON and tensors, which torch.load reads without unpickling code."""
    if isinstance(obj, torch.Tensor):
        tensors.append(obj)
        return {"tensor": len(tensors) - 1}
    if isinstance(obj, dict):
        return {"dict": [[k, packed(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [packed(v, tensors) for v in obj]
    return obj


def unpacked(obj, tensors):
    if isinstance(obj, list):
        return [unpacked(v, tensors) for v in obj]
    if isinstance(obj, dict):
        return tensors[obj["tensor"]] if "tensor" in obj else {k: unpacked(v, tensors) for k, v in obj["dict"]}
    return obj


def write_checkpoint(path, state):
    """The state after an epoch, written beside the final file and renamed over it: a run killed
    mid-write leaves the previous checkpoint whole. The shuffle and the dropout masks are functions
    of the seed and the epoch, so the epoch is all the randomness a resumed run needs."""
    tensors = []
    text = json.dumps(packed({"format": "nnc-train.py-checkpoint/1", "identity": identity(), **state}, tensors))
    partial = f"{path}.partial-{os.getpid()}"
    try:
        torch.save({"state": text, "tensors": tensors}, partial)
        os.replace(partial, path)
    except OSError as e:
        sys.exit(f"train.py: error: cannot write the checkpoint {path}: {e}")


def read_checkpoint(path, settings):
    """A checkpoint of this model and these settings whose epoch the run has not passed
    (docs/scale-out.md), or exit 1 saying what is wrong."""
    try:
        file = torch.load(path, map_location="cpu", weights_only=True)
        saved = unpacked(json.loads(file["state"]), file["tensors"])
        if saved["format"] != "nnc-train.py-checkpoint/1" or not saved["epoch"] >= 1:
            raise ValueError(f"format {saved['format']}, epoch {saved['epoch']}")
        theirs, mine = {"model": saved["identity"]["model"], "parameters": saved["identity"]["parameters"]}, identity()
        changed = [k for k in settings if saved["settings"].get(k) != settings[k]]
    except FileNotFoundError:
        sys.exit(f"train.py: error: --resume {path}: no such file")
    except Exception as e:  # a truncated or foreign file: zip, unpickler, JSON, key and type errors alike
        sys.exit(f"train.py: error: --resume {path}: not a train.py checkpoint ({type(e).__name__}: {e})")
    if theirs != mine:
        sys.exit(
            f"train.py: error: --resume {path}: the checkpoint is of model {theirs['model']} with parameters "
            f"{theirs['parameters']}; this is {mine['model']} with {mine['parameters']}"
        )
    if changed:
        was = ", ".join(f"{k} {saved['settings'].get(k)}" for k in changed)
        sys.exit(f"train.py: error: --resume {path}: the checkpoint was trained with {was}; resume with the same flags")
    if saved["epoch"] > EPOCHS:
        sys.exit(
            f"train.py: error: --resume {path}: the checkpoint is after epoch {saved['epoch']} and the run has only "
            f"{EPOCHS} epochs (ask for at least {saved['epoch']} epochs)"
        )
    return saved


class Objective(torch.nn.Module):
    """One process's share of a batch: world/count times the sum of its samples' losses, plus
    the parameter-only terms. DDP averages the gradients over the processes, which gives the
    gradient of the whole batch's objective (the mean loss plus the parameter-only terms once)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs, targets, count, world):
        return self.model.sample_losses(inputs, targets).sum() * (world / count) + self.model.regularizer()`;

const TRAIN_MINIBATCH = String.raw`def train_epoch(objective, optimizer, scheduler, data, epoch, rank, world):
    """One epoch of mini-batches in nnc's order; returns None, or a message when the gradient
    stops being finite."""
    inputs, targets, count = data
    order = shuffled(count, SEED * 1000003 + epoch)
    for step, start in enumerate(range(0, count, BATCH)):
        rows = order[start:start + BATCH]
        mine = rows[rank::world]
        loss = objective(subset(inputs, mine), subset(targets, mine), len(rows), world)
        optimizer.zero_grad()
        loss.backward()
        if not all(torch.isfinite(p.grad).all() for p in objective.parameters() if p.grad is not None):
            return (f"training diverged at epoch {epoch + 1}, step {step + 1}: the gradient is not finite; "
                    "try a smaller learning rate")
        optimizer.step()
        scheduler.step()
    return None`;

const TRAIN_LBFGS = String.raw`def train_epoch(objective, optimizer, scheduler, data, epoch, rank, world):
    """One full-batch L-BFGS iteration; every process evaluates its share of the data. As nnc's,
    it minimizes the deterministic objective of inference mode (dropout off): a line search needs
    the same function at every evaluation."""
    inputs, targets, count = data
    objective.eval()
    mine = list(range(rank, count, world))
    x, t = subset(inputs, mine), subset(targets, mine)

    def closure():
        optimizer.zero_grad()
        loss = objective(x, t, count, world)
        loss.backward()
        total = loss.detach().clone()
        if world > 1:
            dist.all_reduce(total)
            total /= world
        return total

    loss = optimizer.step(closure)
    scheduler.step()
    objective.train()
    if not torch.isfinite(loss):
        return f"training diverged at epoch {epoch + 1}: the loss is {loss.item()}; try a smaller lr"
    return None`;

const MAIN = String.raw`def main():
    global EPOCHS, BATCH, SEED
    parser = argparse.ArgumentParser(description=f"Train {MODEL_NAME} as nnc train does, data-parallel.")
    parser.add_argument("--data", default=DATA, help="training data (CSV with a header, or MNIST IDX)")
    parser.add_argument("--validation", default=None, help="validation data (instead of the split)")
    parser.add_argument("--split", type=float, default=None, help="hold out this fraction for validation")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--lr", type=float, default=OPTIMIZER.get("lr"))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--test", default=None, help="evaluate the final weights on this data file")
    parser.add_argument("-o", "--output", default=f"{MODEL_NAME}.safetensors", help="the weights (.safetensors)")
    parser.add_argument("--checkpoint", default=None, help="written after every epoch (default <output>.checkpoint.pt)")
    parser.add_argument("--resume", default=None, help="continue after the epoch of this checkpoint")
    args = parser.parse_args()
    checkpoint_path = args.checkpoint or os.path.splitext(args.output)[0] + ".checkpoint.pt"
    EPOCHS, BATCH, SEED = args.epochs, args.batch, args.seed
    if args.data is None:
        parser.error("the model's train block names no data file: give --data FILE")
    if args.lr is not None and not args.lr > 0:
        parser.error(f"--lr must be positive, got {args.lr}")

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo")
    say = print if rank == 0 else (lambda *a, **k: None)

    try:
        count, data = load(args.data)
        valid = None
        # a flag replaces the block's validation file or split, as nnc train's flags do
        validation_file = VALIDATION if args.validation is None and args.split is None else args.validation
        fraction = args.split if args.split is not None else (SPLIT if args.validation is None else None)
        if validation_file is not None:
            valid = load(validation_file)[1]
        elif fraction is not None:
            train_rows, valid_rows = split(count, fraction, SEED)
            valid = subset(data, valid_rows)
            data = subset(data, train_rows)
            count = len(train_rows)
    except (OSError, DataError) as e:
        sys.exit(f"train.py: error: {e}")
    inputs = {k: data[k] for k in INPUTS}
    targets = {k: data[k] for k in TARGETS}
    norm = normalization_of(inputs) if NORMALIZE else None
    inputs = normalized(inputs, norm)
    if valid is not None:
        valid = ({k: valid[k] for k in INPUTS}, {k: valid[k] for k in TARGETS})
        valid = (normalized(valid[0], norm), valid[1])

    torch.manual_seed(SEED)
    model = Model()
    objective = Objective(model)
    if world > 1:
        objective = DistributedDataParallel(objective, find_unused_parameters=FIND_UNUSED)
    optimizer = make_optimizer(model.parameters(), args.lr)
    # the schedule's rate at every step (a step: a mini-batch, or an L-BFGS iteration)
    steps = 1 if OPTIMIZER["name"] == "lbfgs" else -(-count // BATCH)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate(step / steps, args.lr) / args.lr
    )
    size = sum(p.numel() for p in model.parameters())
    say(f"model {MODEL_NAME}: {size} parameters; {count} training samples from {args.data}; {world} process(es)")
    say(f"optimizer {OPTIMIZER} · schedule {SCHEDULE['name']} · batch {BATCH} · {EPOCHS} epochs · seed {SEED}")
    say(describe("initial: train", evaluate(model, inputs, targets, rank, world)))

    best, bad_epochs, stopped, message, history = None, 0, "completed", None, []
    settings = {"optimizer": OPTIMIZER, "schedule": SCHEDULE, "lr": args.lr, "batch": BATCH, "seed": SEED}
    start = 0
    if args.resume is not None:
        saved = read_checkpoint(args.resume, settings)
        try:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            start, history, bad_epochs = saved["epoch"], saved["history"], saved["bad_epochs"]
            best, stopped, message = saved["best"], saved["stopped"], saved["message"]
        except (KeyError, ValueError, RuntimeError, TypeError) as e:
            sys.exit(f"train.py: error: --resume {args.resume}: the checkpoint's state does not fit: {e!r}")
        say(f"resumed from {args.resume} after epoch {start}")
    last_good = [p.detach().clone() for p in model.parameters()]
    end = EPOCHS if stopped == "completed" else start  # a checkpoint of an early stop resumes to the same stop
    for epoch in range(start, end):
        lr = optimizer.param_groups[0]["lr"]
        torch.manual_seed(SEED * 7919 + 1000003 * epoch + rank)  # dropout masks: each process, each epoch its own
        for keep, p in zip(last_good, model.parameters()):
            keep.copy_(p.detach())
        message = train_epoch(objective, optimizer, scheduler, (inputs, targets, count), epoch, rank, world)
        if message is not None or not all(torch.isfinite(p).all() for p in model.parameters()):
            with torch.no_grad():
                for keep, p in zip(last_good, model.parameters()):
                    p.copy_(keep)
            message = message or f"training diverged in epoch {epoch + 1}; kept the weights before it"
            stopped = "diverged"
            break
        train_eval = evaluate(model, inputs, targets, rank, world)
        valid_eval = evaluate(model, *valid, rank, world) if valid is not None else None
        history.append({"epoch": epoch + 1, "lr": lr, "train": train_eval, "validation": valid_eval})
        ref = (valid_eval or train_eval)["loss"]
        if best is None or ref < best[1] - (EARLY_STOPPING or {}).get("min_delta", 0):
            best, bad_epochs = (epoch + 1, ref, [p.detach().clone() for p in model.parameters()]), 0
        else:
            bad_epochs += 1
        valid_text = f"   {describe('valid', valid_eval)}" if valid_eval else ""
        say(f"epoch {epoch + 1}/{EPOCHS}  lr {lr:.4g}  {describe('train', train_eval)}{valid_text}")
        if EARLY_STOPPING and valid is not None and bad_epochs >= EARLY_STOPPING["patience"]:
            stopped = "early-stopping"
            message = (
                f"early stopping after epoch {epoch + 1}: no improvement of the validation loss for "
                f"{bad_epochs} epochs; restored the weights of epoch {best[0]}"
            )
        if rank == 0:
            write_checkpoint(checkpoint_path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "epoch": epoch + 1, "history": history, "bad_epochs": bad_epochs, "best": best, "stopped": stopped,
                "message": message, "settings": settings,
            })
        if stopped != "completed":
            break
    if EARLY_STOPPING and valid is not None and best is not None and stopped != "diverged":
        with torch.no_grad():
            for keep, p in zip(best[2], model.parameters()):
                p.copy_(keep)
    if message:
        say(message)

    final = {"train": evaluate(model, inputs, targets, rank, world)}
    final["validation"] = evaluate(model, *valid, rank, world) if valid is not None else None
    valid_text = f"   {describe('valid', final['validation'])}" if valid is not None else ""
    say(f"{describe('final: train', final['train'])}{valid_text}")
    if args.test is not None and rank == 0:
        test_count, test = load(args.test)
        test_inputs = normalized({k: test[k] for k in INPUTS}, norm)
        final["test"] = evaluate(model, test_inputs, {k: test[k] for k in TARGETS})
        say(describe(f"test ({test_count} samples from {args.test}):", final["test"]))
    if rank == 0:
        training = {
            "trainer": "pytorch", "processes": world, "data": args.data, "optimizer": OPTIMIZER, "schedule": SCHEDULE,
            "batch": BATCH, "epochs": EPOCHS, "seed": SEED, "earlyStopping": EARLY_STOPPING, "normalize": NORMALIZE,
        }
        metrics = {"stopped": stopped, "epochs": len(history), "bestEpoch": best[0] if best else None, **final}
        save_safetensors(args.output, model, {
            "format": "nnc-weights/1",
            "model": MODEL_NAME,
            "normalization": json.dumps(norm),
            "training": json.dumps(training),
            "metrics": json.dumps(metrics),
        })
        say(f"weights → {args.output}")
    if world > 1:
        dist.destroy_process_group()
    return 1 if stopped == "diverged" else 0


if __name__ == "__main__":
    sys.exit(main())
`;
