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
 * imported then: nothing that does not assemble WebAssembly loads its 5.5 MB). wabt is an
 * optional dependency (docs/packaging.md): the dense kernels are prebuilt, so only a model whose
 * kernels are not (a convolution's, assembled for its shapes) needs it at run time. */
function loadWabt(): Promise<Wabt> {
  wabtPromise ??= import("wabt").then(
    (m) => m.default(),
    (e: unknown) => {
      wabtPromise = undefined; // asked again next time: it may have been installed since
      const error = new Error(
        `nnc: error: --target wasm assembles this model's kernels with wabt, an optional dependency that is not installed (${(e as Error).message.split("\n")[0]}): install it with \`npm install wabt@1.0.39\`, or use --target ts`,
      );
      error.name = "CliError"; // the CLI prints the message alone, exit 1
      (error as Error & { missing?: string }).missing = "wabt";
      throw error;
    },
  );
  return wabtPromise;
}

/** Whether `e` says wabt is not installed (the CLI then falls back to the ts target it did not choose by hand). */
export function isWabtMissing(e: unknown): boolean {
  return e instanceof Error && (e as Error & { missing?: string }).missing === "wabt";
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
