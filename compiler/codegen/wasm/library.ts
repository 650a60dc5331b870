/**
 * The kernel library a `--target wasm` module embeds: kernels.ts's WebAssembly text for the
 * module's precision and, for a model with convolutions, conv.ts's kernels of each of its
 * convolution geometries (conv-layers.ts), assembled at build time (prebuilt.ts: the dense
 * kernels alone) or else once per process and set of geometries
 * (assemble.ts), with what the emitted module needs to declare and instantiate it.
 */
import type { KernelLibrary } from "../emit-module.js";
import type { Plan } from "../../plan/plan.js";
import type { Precision } from "../../target.js";
import { assembleWat } from "./assemble.js";
import { prebuiltKernels } from "./prebuilt.js";
import { convFunctionsWat, convScratchBytes, convSignatures, type ConvShape } from "./conv.js";
import { convKernelName, convShapesOf } from "./conv-layers.js";
import { KERNEL_MEMORY_MODULE, KERNEL_MEMORY_NAME, KERNEL_SIGNATURES, kernelsWat } from "./kernels.js";

const cache = new Map<string, Promise<KernelLibrary>>();

/** The library for a precision and the convolutions of a plan's functions (none without a plan). */
export function kernelLibrary(precision: Precision, plan?: Plan): Promise<KernelLibrary> {
  const convs: ConvShape[] = plan === undefined ? [] : convShapesOf(plan.functions.map((f) => f.graph));
  const names = convs.map(convKernelName);
  const key = [precision, ...names].join("|");
  let lib = cache.get(key);
  if (lib === undefined) {
    const dense = kernelsWat(precision);
    const extra = convs.flatMap((s, k) => convFunctionsWat(precision, s, names[k]!));
    // the convolution kernels go into the same module, before its closing parenthesis
    const wat = extra.length === 0 ? dense : dense.replace(/\)\n$/, `${extra.join("\n")}\n)\n`);
    const vectors = precision === "f64" ? "f64x2" : "f32x4";
    // only the dense kernels are prebuilt: a convolution's kernels depend on its shapes
    const prebuilt = prebuiltKernels(precision, wat);
    lib = (prebuilt !== null ? Promise.resolve(prebuilt) : assembleWat(wat)).then((bytes) => ({
      bytes,
      signatures: [...KERNEL_SIGNATURES, ...names.flatMap(convSignatures)],
      description: convs.length === 0 ? `nnc's dense-layer kernels (SIMD128, ${vectors})` : `nnc's dense-layer and convolution kernels (SIMD128, ${vectors})`,
      memoryImport: { module: KERNEL_MEMORY_MODULE, field: KERNEL_MEMORY_NAME },
      convScratchBytes: Math.max(0, ...convs.map((s) => convScratchBytes(precision, s))),
    }));
    cache.set(key, lib);
  }
  return lib;
}
