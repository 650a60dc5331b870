/**
 * The kernel library a `--target wasm` module embeds: kernels.ts's WebAssembly text for the
 * module's precision, assembled at build time (prebuilt.ts) or else once per process
 * (assemble.ts), with what the emitted module needs to declare and instantiate it.
 */
import type { KernelLibrary } from "../emit-module.js";
import type { Precision } from "../../target.js";
import { assembleWat } from "./assemble.js";
import { prebuiltKernels } from "./prebuilt.js";
import { KERNEL_MEMORY_MODULE, KERNEL_MEMORY_NAME, KERNEL_SIGNATURES, kernelsWat } from "./kernels.js";

const cache = new Map<Precision, Promise<KernelLibrary>>();

export function kernelLibrary(precision: Precision): Promise<KernelLibrary> {
  let lib = cache.get(precision);
  if (lib === undefined) {
    const wat = kernelsWat(precision);
    const prebuilt = prebuiltKernels(precision, wat);
    lib = (prebuilt !== null ? Promise.resolve(prebuilt) : assembleWat(wat)).then((bytes) => ({
      bytes,
      signatures: KERNEL_SIGNATURES,
      description: `nnc's dense-layer kernels (SIMD128, ${precision === "f64" ? "f64x2" : "f32x4"})`,
      memoryImport: { module: KERNEL_MEMORY_MODULE, field: KERNEL_MEMORY_NAME },
    }));
    cache.set(precision, lib);
  }
  return lib;
}
