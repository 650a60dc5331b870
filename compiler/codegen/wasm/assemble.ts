/**
 * WebAssembly text → binary, at compile time.
 *
 * Why wabt and not binaryen: the `wabt` package (the WebAssembly Binary Toolkit compiled to
 * JavaScript/wasm, 5.5 MB installed) does exactly this step — parse the text, validate, write the
 * binary — and nothing more. `binaryen` (104 MB installed) is an optimizing compiler
 * infrastructure; its optimizer (`wasm-opt -O3`) is what it would add, and the kernels are
 * already written in the shape V8's TurboFan wants (register tiles in locals, pointer bumps with
 * immediate offsets), so it was measured rather than assumed: see docs/performance.md,
 * "WebAssembly kernels". The emitted modules depend on neither: they are plain bytes.
 */
type Wabt = Awaited<ReturnType<typeof import("wabt")>>;
let wabtPromise: Promise<Wabt> | undefined;

/** wabt's module is an Emscripten instance: created once per process, on first use (and
 * imported then: nothing that does not assemble WebAssembly loads its 5.5 MB). */
function loadWabt(): Promise<Wabt> {
  wabtPromise ??= import("wabt").then((m) => m.default());
  return wabtPromise;
}

/**
 * Assembles WebAssembly text with the SIMD128 feature on (nothing else beyond the MVP), validates
 * it (wabt's validator; throws with wabt's message on any error) and returns the binary. The same
 * text gives the same bytes (no debug names, canonical LEBs).
 */
export async function assembleWat(wat: string, filename = "kernels.wat"): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await loadWabt();
  const mod = wabt.parseWat(filename, wat, { simd: true });
  try {
    mod.resolveNames();
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, canonicalize_lebs: true, relocatable: false, write_debug_names: false });
    return new Uint8Array(buffer); // a copy owned by the caller
  } finally {
    mod.destroy();
  }
}
