/**
 * Python text for the exporters: identifiers, literals and expressions with their precedence.
 * The one rule, as in codegen/names.ts: text from a `.nn` file reaches the Python only through
 * `pyName` (an identifier) or `pyString` (an escaped string literal).
 */

const KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for from global if " +
    "import in is lambda nonlocal not or pass raise return try while with yield match case type"
  ).split(" "),
);

/** Names the emitted code itself uses: a user's name never shadows them. */
const TAKEN = new Set("torch F math self inputs targets batch softplus unindex len next iter tuple float dict".split(" "));

export function isPyKeyword(name: string): boolean {
  return KEYWORDS.has(name);
}

/** A string literal that means exactly `text` (JSON's escapes are Python's, for what JSON emits). */
export function pyString(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** A float literal with the same value (JavaScript's shortest round trip is Python's too). */
export function pyNumber(x: number): string {
  if (Number.isNaN(x)) return 'float("nan")';
  if (!Number.isFinite(x)) return x > 0 ? 'float("inf")' : '-float("inf")';
  return String(x);
}

/** A tuple literal of integers: `(32, 64)`, `(10,)`, `()`. */
export function pyTuple(xs: readonly number[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`;
}

/** Identifiers allocated per function: from the user's names, never a keyword or one of ours. */
export class PyNames {
  private readonly used = new Set<string>(TAKEN);

  fresh(hint: string): string {
    let base = hint.replace(/\./g, "_").replace(/[^A-Za-z0-9_]/g, "_");
    if (base === "" || /^[0-9]/.test(base)) base = `_${base}`;
    if (KEYWORDS.has(base)) base = `${base}_`;
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }
}

/**
 * An expression and how tightly it binds, by Python's table: atoms (names, calls, subscripts,
 * attributes) bind tightest, then `**`, unary minus, `* / @`, `+ -`, comparisons.
 */
export interface PyExpr {
  readonly text: string;
  readonly prec: number;
}

export const PREC = { atom: 100, pow: 15, unary: 14, mul: 13, add: 12, compare: 7 } as const;

export const atom = (text: string): PyExpr => ({ text, prec: PREC.atom });

/** `e` as an operand that needs at least precedence `min` (parenthesized otherwise). */
export function operand(e: PyExpr, min: number): string {
  return e.prec >= min ? e.text : `(${e.text})`;
}

/** a op b, left-associative: the right operand needs strictly higher precedence (keeps nnc's order). */
export function infix(a: PyExpr, op: string, b: PyExpr, prec: number): PyExpr {
  return { text: `${operand(a, prec)} ${op} ${operand(b, prec + 1)}`, prec };
}

/** A number as an expression: a negative literal binds like unary minus. */
export function numberExpr(x: number): PyExpr {
  const text = pyNumber(x);
  return { text, prec: text.startsWith("-") ? PREC.unary : PREC.atom };
}

/** Text from the .nn file on one comment line: control characters and line separators become spaces. */
export function pyComment(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, " ");
}

/** Text from the .nn file inside a """docstring""": one line, no backslash escapes, no closing quotes. */
export function pyDoc(text: string): string {
  return pyComment(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}
