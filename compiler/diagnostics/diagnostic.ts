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

/** Collects diagnostics; stages report and carry on, nothing is thrown. At most one error is kept
 * per start position, so a recovering parser cannot bury the real problem under its echoes. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private readonly errorStarts = new Set<number>();

  error(code: Code, span: Span | null, ...args: (string | number)[]): void {
    if (span !== null) {
      if (this.errorStarts.has(span.start)) return;
      this.errorStarts.add(span.start);
    }
    this.list.push({ severity: "error", code, message: format(code, args), span });
  }

  warning(code: Code, span: Span | null, ...args: (string | number)[]): void {
    this.list.push({ severity: "warning", code, message: format(code, args), span });
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === "error");
  }

  /** In source order; diagnostics without a place come last. */
  sorted(): Diagnostic[] {
    return [...this.list].sort((a, b) => (a.span?.start ?? Infinity) - (b.span?.start ?? Infinity));
  }
}
