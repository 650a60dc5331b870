/**
 * Formats the files a person reads (`nnc compile`): golden files stay stable and diffs readable.
 * Modules loaded in memory (`nnc train/predict/check`) are not formatted: prettier takes half a
 * second to load and format, and a module that only runs needs no layout. prettier is imported on
 * first use, so nothing else that imports the compiler pays for it.
 */
type Prettier = typeof import("prettier");
let prettier: Promise<Prettier> | undefined;

async function format(code: string, parser: string, filepath: string): Promise<string> {
  prettier ??= import("prettier");
  return (await prettier).format(code, { parser, filepath, printWidth: 110, trailingComma: "all" });
}

/** The `.ts` file path tells prettier the code is not JSX: without it prettier guesses with a
 * regular expression whose time is quadratic in the size of a module with few quotes (15 s for
 * a 5000-factor product). */
export function formatTs(code: string): Promise<string> {
  return format(code, "typescript", "module.ts");
}

/** The JavaScript module of `--emit js` (the `.mjs` path: no JSX guessing, as above). */
export function formatJs(code: string): Promise<string> {
  return format(code, "babel", "module.mjs");
}

/** Its declarations. */
export function formatDts(code: string): Promise<string> {
  return format(code, "typescript", "module.d.ts");
}
