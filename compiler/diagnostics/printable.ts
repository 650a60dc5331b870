/**
 * The one rule for echoing text nnc did not write itself (a source line, a data cell, a file
 * name, a path from a model's train block) to a terminal: C0 and C1 control characters (NUL, BEL,
 * a lone CR, ESC, CSI …) become U+FFFD, one column each, so no escape sequence from a file or an
 * argument reaches the user's terminal (`ESC]0;…BEL` would retitle it; `ESC[2J` would clear it).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** One line of untrusted text, safe to print. */
export function printable(text: string): string {
  return text.replace(CONTROL, "\ufffd");
}

/** A message of several lines (nnc's own newlines kept), safe to print. */
export function printableLines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, "\ufffd");
}
