import * as prettier from "prettier";

/** Formats emitted TypeScript so that golden files are stable and diffs readable. The `.ts`
 * file path tells prettier the code is not JSX: without it prettier guesses with a regular
 * expression whose time is quadratic in the size of a module with few quotes (15 s for a
 * 5000-factor product). */
export async function formatTs(code: string): Promise<string> {
  return prettier.format(code, { parser: "typescript", filepath: "module.ts", printWidth: 110, trailingComma: "all" });
}
