/**
 * Formats the files a person reads (`nnc compile`): golden files stay stable and diffs readable.
 * Modules loaded in memory (`nnc train/predict/check`) are not formatted: prettier takes half a
 * second to load and format, and a module that only runs needs no layout. prettier is imported on
 * first use, so nothing else that imports the compiler pays for it.
 */
type Prettier = typeof import("prettier");
let prettier: Promise<Prettier> | undefined;

/** prettier is an optional dependency (docs/packaging.md): without it, `nnc compile` says so. */
function loadPrettier(): Promise<Prettier> {
  return import("prettier").catch((e: unknown) => {
    prettier = undefined; // asked again next time: it may have been installed since
    const error = new Error(
      `nnc: error: nnc compile formats the module with prettier, an optional dependency that is not installed (${(e as Error).message.split("\n")[0]}): install it with \`npm install prettier@3.6.2\` (train, predict and check do not need it)`,
    );
    error.name = "CliError"; // the CLI prints the message alone, exit 1
    throw error;
  });
}

async function format(code: string, parser: string, filepath: string): Promise<string> {
  prettier ??= loadPrettier();
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
