/**
 * §11's front end: "same" padding as the contract states it (odd kernels (k − 1)/2 per side,
 * TensorFlow's rule for even ones: output ⌈n/s⌉), the shapes conv2d, pooling, slices and concat
 * give, and `nnc explain`'s convolution equations.
 */
import { describe, expect, it } from "vitest";
import { convOut } from "../../compiler/ir/conv.js";
import { explain } from "../../compiler/explain.js";
import { check, plan } from "../../compiler/pipeline.js";
import { pads } from "../../compiler/semantics/image.js";

describe('"same" padding', () => {
  it("pads (k − 1)/2 on each side of an odd kernel", () => {
    for (const k of [1, 3, 5, 7]) expect(pads("same", 28, k, 1)).toEqual([(k - 1) / 2, (k - 1) / 2]);
  });
  it("gives TensorFlow's output length ⌈n/s⌉ and its split (the odd zero after) for even kernels", () => {
    for (const n of [5, 6, 7, 28])
      for (const k of [2, 4])
        for (const s of [1, 2, 3]) {
          const [before, after] = pads("same", n, k, s);
          expect(after - before === 0 || after - before === 1).toBe(true);
          expect(convOut(n, k, s, before, after)).toBe(Math.ceil(n / s));
        }
  });
});

describe("shapes of the image functions", () => {
  const shapes = (body: string) => {
    const { model, diagnostics } = check(`input x[3, 8, 6]\ntarget t\n${body}\nloss sum(o) * t + sum(x) * 0\n`, { file: "s.nn" });
    expect(diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
    return model!.graph.shape(model!.outputs.find((o) => o.name === "o")?.node ?? model!.graph.nodes.find((n) => n.name === "o")!.id);
  };
  it("conv2d, pooling, flatten, slices and concat", () => {
    expect(shapes('layer o = conv2d(x, 4, 3, relu, padding = "same")')).toEqual([4, 8, 6]);
    expect(shapes("layer o = conv2d(x, 4, 3, relu, stride = 2, padding = 1)")).toEqual([4, 4, 3]);
    expect(shapes("o = maxpool(x, 2)")).toEqual([3, 4, 3]);
    expect(shapes("o = flatten(avgpool(x, 2))")).toEqual([36]);
    expect(shapes("o = x[0, 2:5, :]")).toEqual([3, 6]);
    expect(shapes("o = x[:, 1, 2]")).toEqual([3]);
    expect(shapes("o = concat(x, x[0:1, :, :])")).toEqual([4, 8, 6]);
    expect(shapes("o = concat(x, x[:, :, 0:2], axis = 2)")).toEqual([3, 8, 8]);
  });
});

describe("nnc explain", () => {
  it("prints the convolution's backward equations: δ_in = full-corr(δ, rot180(W)), ∂W = corr(x, δ)", () => {
    const source = 'input x[1, 6, 6]\ntarget t[2]\nlayer c = conv2d(x, 2, 3, relu)\nlayer d = conv2d(c, 2, 3, relu, padding = "same")\nlayer y = dense(flatten(d), 2, softmax)\nloss cross_entropy(y, t)\n';
    const { model } = check(source, { file: "e.nn" });
    const text = explain(model!, plan(model!));
    expect(text).toContain("∂L/∂c = full-corr(∂L/∂d_z, rot180(d.W), pad 1)");
    expect(text).toContain("∂L/∂d.W = corr(c, ∂L/∂d_z, pad 1)");
    expect(text).toContain("∂L/∂c.W = corr(x, ∂L/∂c_z)");
  });
});
