/**
 * The lexer of `.nn` (section 2 of the language): names, keywords, numbers, strings, punctuation,
 * line breaks and `#` comments. It never throws: a bad character, number or string is reported
 * and lexing goes on, so the parser always gets a token list that ends with `eof`.
 */
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import { span, type Span } from "../diagnostics/span.js";

export const KEYWORDS: ReadonlySet<string> = new Set([
  "model",
  "input",
  "target",
  "param",
  "const",
  "layer",
  "output",
  "loss",
  "train",
]);

export type Punct = "(" | ")" | "[" | "]" | "{" | "}" | "," | "=" | "~" | "+" | "-" | "*" | "/" | "@" | "^" | "." | ";" | ":";

export type TokenKind = "ident" | "keyword" | "number" | "string" | Punct | "newline" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** the exact source text of the token (a string keeps its quotes and escapes; see decodeString) */
  readonly text: string;
  readonly span: Span;
  /** for numbers: the value (for a malformed number, its longest valid prefix, or 0) */
  readonly value?: number;
}

const PUNCT: ReadonlySet<string> = new Set(["(", ")", "[", "]", "{", "}", ",", "=", "~", "+", "-", "*", "/", "@", "^", ".", ";", ":"]);

const VALID_NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const EXPONENT_PREFIX = /^(?:\d+\.?\d*|\.\d+)[eE]$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
/** Horizontal white space; a lone `\r` (not followed by `\n`) and a byte-order mark count too. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12 || c === 13 || c === 0xfeff;
}

/** How an unexpected character is shown: itself when visible, else its code point (U+00A0). */
function showChar(ch: string): string {
  if (/^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch)) return ch;
  return "U+" + (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}

export function lex(source: string, diags: Diagnostics): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value?: number): void => {
    const tok: Token = value === undefined
      ? { kind, text: source.slice(start, end), span: span(start, end) }
      : { kind, text: source.slice(start, end), span: span(start, end), value };
    tokens.push(tok);
  };

  while (i < n) {
    const c = source.charCodeAt(i);

    // line breaks (`\n` or `\r\n`), consecutive ones collapsed into one token
    if (c === 10 || (c === 13 && source.charCodeAt(i + 1) === 10)) {
      const len = c === 10 ? 1 : 2;
      const last = tokens[tokens.length - 1];
      if (last === undefined || last.kind !== "newline") push("newline", i, i + len);
      i += len;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      while (i < n && source.charCodeAt(i) !== 10 && !(source.charCodeAt(i) === 13 && source.charCodeAt(i + 1) === 10)) i++;
      continue;
    }

    if (isIdentStart(c)) {
      const start = i;
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      const text = source.slice(start, i);
      push(KEYWORDS.has(text) ? "keyword" : "ident", start, i);
      continue;
    }

    if (isDigit(c) || (c === 46 /* . */ && isDigit(source.charCodeAt(i + 1)))) {
      // Take the whole run that looks like part of a number (digits, letters, dots, and a sign
      // right after an exponent), so that `1.2.3` or `2x` is reported once, as one token.
      const start = i;
      while (i < n) {
        const d = source.charCodeAt(i);
        if (isIdentPart(d) || d === 46) {
          i++;
        } else if ((d === 43 || d === 45) && EXPONENT_PREFIX.test(source.slice(start, i))) {
          i++;
        } else {
          break;
        }
      }
      const text = source.slice(start, i);
      if (VALID_NUMBER.test(text)) {
        push("number", start, i, Number(text));
      } else {
        diags.error("NN1003", span(start, i), text);
        const prefix = parseFloat(text);
        push("number", start, i, Number.isNaN(prefix) ? 0 : prefix);
      }
      continue;
    }

    if (c === 34 /* " */) {
      const start = i;
      i++;
      let terminated = false;
      while (i < n) {
        const d = source.charCodeAt(i);
        if (d === 10 || (d === 13 && source.charCodeAt(i + 1) === 10)) break;
        if (d === 34) {
          i++;
          terminated = true;
          break;
        }
        if (d === 92 /* \ */ && i + 1 < n) {
          const e = source.charCodeAt(i + 1);
          // an escape never swallows the line break
          i += e === 10 || (e === 13 && source.charCodeAt(i + 2) === 10) ? 1 : 2;
          continue;
        }
        i++;
      }
      if (!terminated) diags.error("NN1002", span(start, i));
      push("string", start, i);
      continue;
    }

    const ch = source[i]!;
    if (PUNCT.has(ch)) {
      push(ch as Punct, i, i + 1);
      i++;
      continue;
    }

    // Anything else: report a run of unexpected characters once, then skip it.
    const start = i;
    const first = String.fromCodePoint(source.codePointAt(i) ?? c);
    while (i < n) {
      const d = source.charCodeAt(i);
      if (d === 10 || isSpace(d) || d === 35 || d === 34 || isIdentPart(d) || d === 46 || PUNCT.has(source[i]!)) break;
      i += (source.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    }
    diags.error("NN1001", span(start, i), showChar(first));
  }

  tokens.push({ kind: "eof", text: "", span: span(n, n) });
  return tokens;
}

/** The value of a string token: the text between the quotes with `\"` and `\\` resolved (any other
 * backslash is kept as written, so Windows paths survive). Works for unterminated strings too. */
export function decodeString(text: string): string {
  let out = "";
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\") {
      const next = text[i + 1];
      if (next === '"' || next === "\\") {
        out += next;
        i++;
        continue;
      }
      out += ch;
      continue;
    }
    if (ch === '"') break;
    out += ch;
  }
  return out;
}
