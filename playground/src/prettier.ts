/**
 * "prettier" in the page (playground/build.mjs points the compiler's `import * as prettier from
 * "prettier"` here): the standalone build of the same prettier version, with the plugins the
 * Node build loads by itself for `parser: "typescript"`. compiler/codegen/format.ts still chooses
 * every option, so the page's module is byte for byte what `nnc compile` writes.
 */
import * as estree from "prettier/plugins/estree";
import * as typescript from "prettier/plugins/typescript";
import type { Options, Plugin } from "prettier";
import * as standalone from "prettier/standalone";

export function format(source: string, options: Options): Promise<string> {
  return standalone.format(source, { ...options, plugins: [typescript, estree as Plugin] }); // estree.d.ts declares no exports
}
