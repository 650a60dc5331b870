import { messages, type Code, type Severity } from "./messages.js";
import type { Span } from "./span.js";

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: Code;
  readonly message: string;
  /** null for diagnostics about no particular place (e.g. a missing loss, a bad --set). */
  readonly span: Span | null;
}

export function format(code: Code, args: readonly (string | number)[]): string {
  return messages[code].replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? "?"));
}

/** A source text argument longer than this (a 10,000-character name) is shown by its two ends. */
export const MAX_ARG_LENGTH = 120;

function elide(arg: string | number): string | number {
  if (typeof arg === "number" || arg.length <= MAX_ARG_LENGTH) return arg;
  const half = (MAX_ARG_LENGTH - 1) >> 1;
  return `${arg.slice(0, half)}…${arg.slice(-half)}`;
}

/** Errors kept per compilation; the rest are counted in one NN5004 (a line of 50,000 bad
 * characters would otherwise print 50,000 copies of itself). */
export const MAX_ERRORS = 100;

/** Collects diagnostics; stages report and carry on, nothing is thrown. At most one error is kept
 * per start position, so a recovering parser cannot bury the real problem under its echoes. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private readonly errorStarts = new Set<number>();
  private errors = 0;
  /** where the NN5004 note is in the list, once errors are being dropped */
  private noteAt = -1;

  error(code: Code, span: Span | null, ...args: (string | number)[]): void {
    if (span !== null) {
      if (this.errorStarts.has(span.start)) return;
      this.errorStarts.add(span.start);
    }
    if (++this.errors > MAX_ERRORS) {
      const note: Diagnostic = { severity: "error", code: "NN5004", message: format("NN5004", [MAX_ERRORS, this.errors - MAX_ERRORS]), span: null };
      if (this.noteAt < 0) this.noteAt = this.list.push(note) - 1;
      else this.list[this.noteAt] = note;
      return;
    }
    this.list.push({ severity: "error", code, message: format(code, args.map(elide)), span });
  }

  warning(code: Code, span: Span | null, ...args: (string | number)[]): void {
    this.list.push({ severity: "warning", code, message: format(code, args.map(elide)), span });
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === "error");
  }

  /** In source order; diagnostics without a place come last. */
  sorted(): Diagnostic[] {
    return [...this.list].sort((a, b) => (a.span?.start ?? Infinity) - (b.span?.start ?? Infinity));
  }
}
