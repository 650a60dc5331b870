/**
 * The wasm target's convolutions (schedule/kernels.ts → codegen/wasm/conv.ts): the batch functions
 * of CNNs call the layer's SIMD kernels — forward with bias and ReLU fused, input gradient, weight
 * gradient — and give what the ts module gives, to rounding (the kernels sum in another order):
 * losses, gradients and predictions, every count from full blocks to tails, parameters in the
 * kernels' memory and elsewhere. A kernel shared by two convolutions, and one that is not a
 * parameter, stay with the printer's loops (and still agree).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_UNROLL, scheduleModule } from "../../compiler/codegen/emit-module.js";
import { kernelLibrary } from "../../compiler/codegen/wasm/library.js";
import { baseName, check, compile, VERSION } from "../../compiler/pipeline.js";
import { plan } from "../../compiler/plan/plan.js";
import type { ConvStep } from "../../compiler/schedule/types.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { rng } from "../helpers/random.js";

/** passes: the kernel calls sampleGradient makes; looped: parameters whose gradient stays the printer's */
const MODELS: { name: string; source: string; passes: ConvStep["pass"][]; looped?: string[] }[] = [
  {
    name: "two same convolutions, max-pooling, dense (mnist-cnn's shape, smaller)",
    source: `input x[2, 12, 10]\ntarget t[4]\nlayer c1 = conv2d(x, 6, 3, relu, padding = "same")\nlayer p1 = maxpool(c1, 2)\nlayer c2 = conv2d(p1, 5, 3, relu, padding = "same")\nlayer y = dense(flatten(c2), 4, softmax)\nloss cross_entropy(y, t)\n`,
    passes: ["forward", "data", "weight"],
  },
  {
    name: "strided valid and even same convolutions, average pooling, tanh",
    source: `input x[3, 11, 13]\ntarget t[3]\nlayer c1 = conv2d(x, 4, 3, tanh, stride = 2, padding = "valid")\nlayer c2 = conv2d(c1, 5, 2, relu, stride = 2, padding = "same")\nlayer a = avgpool(c2, 2)\nlayer y = dense(flatten(a), 3, softmax)\nloss cross_entropy(y, t)\n`,
    passes: ["forward", "data", "weight"],
  },
  {
    name: "the expression form with a declared kernel, numeric padding",
    source: `input x[1, 9, 9]\ntarget t\nparam K[3, 1, 4, 4] ~ normal(0, 0.3)\nz = relu(conv2d(x, K, stride = 1, padding = 2))\nparam v[${3 * 10 * 10}] ~ normal(0, 0.1)\nloss (dot(v, flatten(z)) - t)^2\n`,
    passes: ["forward", "weight"],
  },
  {
    name: "one kernel shared by two convolutions (its gradient a sum: the printer's)",
    source: `input x[1, 8, 8]\ntarget t\nparam K[2, 1, 3, 3] ~ normal(0, 0.3)\nparam K2[2, 2, 3, 3] ~ normal(0, 0.3)\nz = tanh(conv2d(x, K, padding = 1))\nu = sum(tanh(conv2d(z, K2, padding = 1))) + sum(tanh(conv2d(z, K2, stride = 2)))\nloss (u - t)^2\n`,
    passes: ["forward", "data", "weight"],
    looped: ["K2"],
  },
];

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

async function modules(source: string): Promise<[CompiledModule, CompiledModule]> {
  const out: CompiledModule[] = [];
  for (const target of ["ts", "wasm"] as const) {
    const r = await compile(source, { file: "conv.nn", target });
    expect(r.diagnostics.list.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    out.push(await loadModule(r.js!));
  }
  return out as [CompiledModule, CompiledModule];
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!));
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= 1e-10 * Math.max(scale, 1e-300))) expect.fail(`${what}[${i}]: ts ${a[i]} wasm ${b[i]}`);
}

describe("--target wasm runs convolutions as SIMD kernels", () => {
  for (const m of MODELS)
    it(m.name, async () => {
      // the schedule calls the kernels of the passes expected (lane mode: sampleGradient)
      const { model } = check(m.source, { file: "conv.nn" });
      const planned = plan(model!);
      const schedules = scheduleModule(model!, planned, { file: baseName("conv.nn"), unroll: DEFAULT_UNROLL, version: VERSION, target: "wasm", kernels: await kernelLibrary("f64", planned) });
      const gradient = schedules.find((s) => s.spec.name === "sampleGradient")!;
      const passes = [...new Set(gradient.steps.filter((s): s is ConvStep => s.kind === "conv").map((s) => s.pass))].sort();
      expect(passes).toEqual([...m.passes].sort());
      const kernelGradients = gradient.steps.filter((s): s is ConvStep => s.kind === "conv" && s.pass === "weight").map((s) => s.weight);
      for (const p of m.looped ?? []) expect(kernelGradients).not.toContain(p);

      const [ts, wasm] = await modules(m.source);
      const random = rng(m.name.length);
      for (const count of [3, 32, 37]) {
        const inputs = Object.fromEntries(Object.entries(ts.meta.inputs).map(([k, s]) => [k, Float64Array.from({ length: count * size(s) }, () => 2 * random() - 1)]));
        const targets = Object.fromEntries(Object.entries(ts.meta.targets).map(([k, s]) => [k, Float64Array.from({ length: count * size(s) }, () => random())]));
        for (const where of ["kernel memory", "elsewhere"] as const) {
          const results = [ts, wasm].map((mod) => {
            const made = mod.createParams() as Record<string, Float64Array>;
            mod.initParams(made, 4);
            const params = where === "elsewhere" ? Object.fromEntries(Object.entries(made).map(([k, v]) => [k, Float64Array.from(v)])) : made;
            const grad = where === "elsewhere" ? Object.fromEntries(Object.entries(made).map(([k, v]) => [k, new Float64Array(v.length)])) : (mod.createParams() as Record<string, Float64Array>);
            const loss = mod.gradientBatch(params, inputs, targets, count, grad);
            const lossOnly = mod.lossBatch(params, inputs, targets, count);
            const outputs = Object.fromEntries(Object.entries(mod.meta.outputs).map(([k, s]) => [k, new Float64Array(count * size(s))]));
            mod.predictBatch(params, inputs, count, outputs);
            return { loss, lossOnly, grad, outputs };
          });
          const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
          const at = `${count} samples, parameters ${where}`;
          close([a.loss, a.lossOnly], [b.loss, b.lossOnly], `${at}: loss`);
          for (const k of Object.keys(a.grad)) close(a.grad[k]!, b.grad[k]!, `${at}: ∂${k}`);
          for (const k of Object.keys(a.outputs)) close(a.outputs[k]!, b.outputs[k]!, `${at}: output ${k}`);
        }
      }
    });
});
