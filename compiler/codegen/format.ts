import * as prettier from "prettier";

/** Formats emitted TypeScript so that golden files are stable and diffs readable. */
export async function formatTs(code: string): Promise<string> {
  return prettier.format(code, { parser: "typescript", printWidth: 110, trailingComma: "all" });
}
