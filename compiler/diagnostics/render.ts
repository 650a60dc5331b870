import type { Diagnostic } from "./diagnostic.js";
import { LineMap } from "./span.js";
import { printable } from "./printable.js";

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
    // a tab is one column; other control characters are echoed as U+FFFD (printable.ts)
    const text = printable(map.lineText(line).replace(/\t/g, " "));
    const gutter = String(line);
    const pad = " ".repeat(gutter.length);
    // The squiggle covers the span's part on its first line, and at least one character.
    const endOnLine = Math.min(d.span.end, d.span.start + Math.max(1, text.length - (col - 1)));
    const width = Math.max(1, endOnLine - d.span.start);
    const shown = excerpt(text, col - 1, width);
    out.push(`  ${gutter} | ${shown.text}`);
    out.push(`  ${pad} | ${" ".repeat(shown.at)}${"^".repeat(shown.width)}`);
  }
  return out.join("\n") + (out.length > 0 ? "\n" : "");
}

/** A source line longer than this is shown as a window around the caret, cut with `…`. */
export const MAX_SHOWN_LINE = 160;

/** The part of `text` to show with a caret at column `at` (0-based) `width` characters wide. */
function excerpt(text: string, at: number, width: number): { text: string; at: number; width: number } {
  if (text.length <= MAX_SHOWN_LINE) return { text, at, width };
  const from = Math.max(0, Math.min(at - 40, text.length - MAX_SHOWN_LINE));
  const to = from + MAX_SHOWN_LINE;
  const lead = from > 0 ? "…" : "";
  return {
    text: lead + text.slice(from, to) + (to < text.length ? "…" : ""),
    at: at - from + lead.length,
    width: Math.max(1, Math.min(width, to - at)),
  };
}
