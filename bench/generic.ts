/**
 * The baseline of the benchmark: a multilayer perceptron written by hand the way a careful
 * programmer would write it without a compiler — generic over the layer sizes and activations,
 * which are known only at run time, but otherwise sensible:
 * - Float64Array everywhere, row-major W[out, in] (the layout of nnc's parameters, so the two share
 *   initial values and can be compared element by element);
 * - every buffer allocated once in the constructor: a training step allocates nothing;
 * - contiguous inner loops: z = W a + b as row dot products; in the backward pass one sweep over
 *   each row of W both accumulates ∂L/∂W (outer product δ aᵀ) and scatters Wᵀδ (axpy);
 * - the activation is chosen once per layer, outside the loops;
 * - the stable forms of the losses: softmax + cross-entropy through log-sum-exp (gradient y − t),
 *   sigmoid + binary cross-entropy as softplus(z) − t·z (gradient σ(z) − t).
 * It does the same arithmetic as nnc's emitted code (dense: every row of every W, every step).
 * With `skipZeroDeltas` it also skips the rows of the backward sweep whose δ is exactly zero —
 * the inactive ReLU units, about half of them — which changes no result but does less work: the
 * benchmark reports that variant separately ("generic+skip"), as an indication of what exploiting
 * ReLU sparsity is worth, not as the baseline of the targets.
 *
 * The objective is the one nnc's `gradientBatch` computes: the mean loss over the batch, samples
 * processed one after the other, gradients summed then scaled by 1/count.
 */

export type Activation = "identity" | "relu" | "tanh" | "sigmoid";

/** The output layer's activation and the loss on it, fused. */
export type OutputLoss = "softmax-cross-entropy" | "sigmoid-binary-cross-entropy";

export interface NetworkSpec {
  /** sizes[0] inputs, sizes[1..] the widths of the dense layers; the last one is the output */
  readonly sizes: readonly number[];
  /** one per hidden layer (sizes.length − 2 of them) */
  readonly hidden: readonly Activation[];
  readonly output: OutputLoss;
}

const IDENTITY = 0;
const RELU = 1;
const TANH = 2;
const SIGMOID = 3;

function activationCode(a: Activation): number {
  switch (a) {
    case "identity":
      return IDENTITY;
    case "relu":
      return RELU;
    case "tanh":
      return TANH;
    case "sigmoid":
      return SIGMOID;
  }
}

export class GenericMLP {
  readonly sizes: readonly number[];
  readonly layers: number;
  /** W[l] is [sizes[l + 1], sizes[l]] row-major; b[l] has sizes[l + 1] entries */
  readonly W: Float64Array[] = [];
  readonly b: Float64Array[] = [];
  /** the gradient of the mean loss, same shapes as W and b */
  readonly gW: Float64Array[] = [];
  readonly gb: Float64Array[] = [];
  private readonly act: Int32Array;
  private readonly softmax: boolean;
  /** a[l] = output of layer l for the current sample (post-activation; logits for the last) */
  private readonly a: Float64Array[] = [];
  /** d[l] = ∂L/∂z of layer l for the current sample */
  private readonly d: Float64Array[] = [];

  private readonly skip: boolean;

  constructor(spec: NetworkSpec, options: { skipZeroDeltas?: boolean } = {}) {
    this.skip = options.skipZeroDeltas ?? false;
    if (spec.sizes.length < 2 || spec.hidden.length !== spec.sizes.length - 2)
      throw new Error("GenericMLP: need sizes.length ≥ 2 and one activation per hidden layer");
    this.sizes = spec.sizes.slice();
    this.layers = spec.sizes.length - 1;
    this.act = Int32Array.from(spec.hidden.map(activationCode));
    this.softmax = spec.output === "softmax-cross-entropy";
    for (let l = 0; l < this.layers; l++) {
      const nin = spec.sizes[l]!;
      const nout = spec.sizes[l + 1]!;
      this.W.push(new Float64Array(nout * nin));
      this.b.push(new Float64Array(nout));
      this.gW.push(new Float64Array(nout * nin));
      this.gb.push(new Float64Array(nout));
      this.a.push(new Float64Array(nout));
      this.d.push(new Float64Array(nout));
    }
  }

  /**
   * Overwrites gW, gb with the gradient of the mean loss over `count` samples; returns that loss.
   * x is row-major [count, sizes[0]], t row-major [count, sizes[last]].
   */
  gradientBatch(x: Float64Array, t: Float64Array, count: number): number {
    const L = this.layers;
    for (let l = 0; l < L; l++) {
      this.gW[l]!.fill(0);
      this.gb[l]!.fill(0);
    }
    let total = 0;
    for (let n = 0; n < count; n++) total += this.sampleGradient(x, t, n);
    const scale = 1 / count;
    for (let l = 0; l < L; l++) {
      const gW = this.gW[l]!;
      for (let i = 0; i < gW.length; i++) gW[i]! *= scale;
      const gb = this.gb[l]!;
      for (let i = 0; i < gb.length; i++) gb[i]! *= scale;
    }
    return total * scale;
  }

  /** Plain SGD: θ ← θ − lr·g. */
  sgd(lr: number): void {
    for (let l = 0; l < this.layers; l++) {
      const W = this.W[l]!;
      const gW = this.gW[l]!;
      for (let i = 0; i < W.length; i++) W[i]! -= lr * gW[i]!;
      const b = this.b[l]!;
      const gb = this.gb[l]!;
      for (let i = 0; i < b.length; i++) b[i]! -= lr * gb[i]!;
    }
  }

  /** Forward and backward for sample n: adds ∂loss/∂θ to gW, gb; returns the loss. */
  private sampleGradient(x: Float64Array, t: Float64Array, n: number): number {
    const L = this.layers;
    const sizes = this.sizes;
    const skip = this.skip;
    const nx = sizes[0]!;
    const ny = sizes[L]!;
    const xo = n * nx;
    const to = n * ny;

    // ── forward: z = W a + b, a = φ(z); the last layer keeps its logits
    for (let l = 0; l < L; l++) {
      const nin = sizes[l]!;
      const nout = sizes[l + 1]!;
      const W = this.W[l]!;
      const b = this.b[l]!;
      const out = this.a[l]!;
      const inp = l === 0 ? x : this.a[l - 1]!;
      const io = l === 0 ? xo : 0;
      for (let i = 0; i < nout; i++) {
        const row = i * nin;
        let acc = 0;
        for (let j = 0; j < nin; j++) acc += W[row + j]! * inp[io + j]!;
        out[i] = acc + b[i]!;
      }
      if (l < L - 1) {
        switch (this.act[l]) {
          case RELU:
            for (let i = 0; i < nout; i++) if (!(out[i]! > 0)) out[i] = 0;
            break;
          case TANH:
            for (let i = 0; i < nout; i++) out[i] = Math.tanh(out[i]!);
            break;
          case SIGMOID:
            for (let i = 0; i < nout; i++) out[i] = 1 / (1 + Math.exp(-out[i]!));
            break;
          default:
            break;
        }
      }
    }

    // ── loss and ∂L/∂z of the output layer
    const z = this.a[L - 1]!;
    const dz = this.d[L - 1]!;
    let loss = 0;
    if (this.softmax) {
      let max = -Infinity;
      for (let k = 0; k < ny; k++) if (z[k]! > max) max = z[k]!;
      let s = 0;
      for (let k = 0; k < ny; k++) s += Math.exp(z[k]! - max);
      const lse = max + Math.log(s);
      for (let k = 0; k < ny; k++) {
        const tk = t[to + k]!;
        loss += tk * (lse - z[k]!);
        dz[k] = Math.exp(z[k]! - lse) - tk;
      }
    } else {
      for (let k = 0; k < ny; k++) {
        const zk = z[k]!;
        const tk = t[to + k]!;
        loss += Math.max(zk, 0) + Math.log1p(Math.exp(-Math.abs(zk))) - tk * zk;
        dz[k] = 1 / (1 + Math.exp(-zk)) - tk;
      }
    }

    // ── backward: ∂L/∂b = δ, ∂L/∂W = δ aᵀ, δ_prev = (Wᵀ δ) ⊙ φ′
    for (let l = L - 1; l >= 0; l--) {
      const nin = sizes[l]!;
      const nout = sizes[l + 1]!;
      const W = this.W[l]!;
      const gW = this.gW[l]!;
      const gb = this.gb[l]!;
      const delta = this.d[l]!;
      const inp = l === 0 ? x : this.a[l - 1]!;
      const io = l === 0 ? xo : 0;
      for (let i = 0; i < nout; i++) gb[i]! += delta[i]!;
      if (l === 0) {
        for (let i = 0; i < nout; i++) {
          const di = delta[i]!;
          if (skip && di === 0) continue;
          const row = i * nin;
          for (let j = 0; j < nin; j++) gW[row + j]! += di * inp[io + j]!;
        }
        break;
      }
      const back = this.d[l - 1]!;
      back.fill(0);
      for (let i = 0; i < nout; i++) {
        const di = delta[i]!;
        if (skip && di === 0) continue;
        const row = i * nin;
        for (let j = 0; j < nin; j++) {
          gW[row + j]! += di * inp[j]!;
          back[j]! += W[row + j]! * di;
        }
      }
      const h = this.a[l - 1]!;
      switch (this.act[l - 1]) {
        case RELU:
          for (let j = 0; j < nin; j++) if (!(h[j]! > 0)) back[j] = 0;
          break;
        case TANH:
          for (let j = 0; j < nin; j++) back[j]! *= 1 - h[j]! * h[j]!;
          break;
        case SIGMOID:
          for (let j = 0; j < nin; j++) back[j]! *= h[j]! * (1 - h[j]!);
          break;
        default:
          break;
      }
    }
    return loss;
  }
}
