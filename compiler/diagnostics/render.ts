import type { Diagnostic } from "./diagnostic.js";
import { LineMap } from "./span.js";

/**
 * Renders diagnostics in the compiler tradition:
 *
 *   xor.nn:3:9: error NN2001: 'W9' is not defined
 *     3 | z = W9 @ x
 *       |     ^^
 *
 * The same function prints them in the CLI and in the golden *.diagnostics.txt files.
 */
export function renderDiagnostics(file: string, source: string, diagnostics: readonly Diagnostic[]): string {
  const map = new LineMap(source);
  const out: string[] = [];
  for (const d of diagnostics) {
    if (d.span === null) {
      out.push(`${file}: ${d.severity} ${d.code}: ${d.message}`);
      continue;
    }
    const { line, col } = map.lineCol(d.span.start);
    out.push(`${file}:${line}:${col}: ${d.severity} ${d.code}: ${d.message}`);
    const text = map.lineText(line).replace(/\t/g, " ");
    const gutter = String(line);
    const pad = " ".repeat(gutter.length);
    // The squiggle covers the span's part on its first line, and at least one character.
    const endOnLine = Math.min(d.span.end, d.span.start + Math.max(1, text.length - (col - 1)));
    const width = Math.max(1, endOnLine - d.span.start);
    out.push(`  ${gutter} | ${text}`);
    out.push(`  ${pad} | ${" ".repeat(col - 1)}${"^".repeat(width)}`);
  }
  return out.join("\n") + (out.length > 0 ? "\n" : "");
}
