/**
 * Mutations of valid `.nn` sources for the fuzz tests: characters, tokens and lines deleted,
 * inserted, duplicated or swapped. Positions are natural numbers taken modulo the length, so
 * every mutation applies to every source (an empty one included).
 */
import fc from "fast-check";

export type MutationKind =
  | "deleteChar"
  | "insertChar"
  | "duplicateChar"
  | "deleteToken"
  | "duplicateToken"
  | "swapTokens"
  | "deleteLine"
  | "duplicateLine"
  | "swapLines";

export interface Mutation {
  readonly kind: MutationKind;
  readonly a: number;
  readonly b: number;
  /** the text insertChar inserts */
  readonly text: string;
}

const KINDS: readonly MutationKind[] = [
  "deleteChar",
  "insertChar",
  "duplicateChar",
  "deleteToken",
  "duplicateToken",
  "swapTokens",
  "deleteLine",
  "duplicateLine",
  "swapLines",
];

/** Characters the lexer and parser treat specially, and some they should reject cleanly. */
const INTERESTING = [
  ..."()[]{},=~+-*/@^.;#\"\\_09eE ",
  "\n",
  "\r",
  "\r\n",
  "\t",
  "\0",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffd",
  "\ud800",
  "é",
  "😀",
  "$",
  "`",
  "'",
  "1e309",
  "1e-400",
  "99999999",
  "0.5",
  "model",
  "layer",
  "loss",
  "train",
  "input",
  "__proto__",
  "constructor",
];

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom(...KINDS),
  a: fc.nat(),
  b: fc.nat(),
  text: fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ unit: "binary", minLength: 1, maxLength: 3 })),
});

/** Identifiers, numbers, strings, comments, white space (kept apart) and single characters. */
const TOKEN = /[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|"(?:[^"\\\n]|\\.)*"?|#[^\n]*|\s+|[^]/gu;

function tokens(source: string): string[] {
  return source.match(TOKEN) ?? [];
}

function swap<T>(xs: T[], i: number, j: number): T[] {
  const out = [...xs];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

export function applyMutation(source: string, m: Mutation): string {
  switch (m.kind) {
    case "deleteChar":
    case "insertChar":
    case "duplicateChar": {
      const i = m.a % (source.length + 1);
      if (m.kind === "insertChar") return source.slice(0, i) + m.text + source.slice(i);
      if (i === source.length) return source;
      return m.kind === "deleteChar" ? source.slice(0, i) + source.slice(i + 1) : source.slice(0, i + 1) + source.slice(i);
    }
    case "deleteToken":
    case "duplicateToken":
    case "swapTokens": {
      const ts = tokens(source);
      const real = ts.flatMap((t, k) => (/^\s+$/.test(t) ? [] : [k]));
      if (real.length === 0) return source;
      const k = real[m.a % real.length]!;
      if (m.kind === "deleteToken") return [...ts.slice(0, k), ...ts.slice(k + 1)].join("");
      if (m.kind === "duplicateToken") return [...ts.slice(0, k + 1), " ", ...ts.slice(k)].join("");
      // half the swaps exchange neighbours (the typical slip), the others any two tokens
      const j = m.b % 2 === 0 ? real[(real.indexOf(k) + 1) % real.length]! : real[m.b % real.length]!;
      return swap(ts, k, j).join("");
    }
    case "deleteLine":
    case "duplicateLine":
    case "swapLines": {
      const lines = source.split("\n");
      const i = m.a % lines.length;
      if (m.kind === "deleteLine") return [...lines.slice(0, i), ...lines.slice(i + 1)].join("\n");
      if (m.kind === "duplicateLine") return [...lines.slice(0, i + 1), ...lines.slice(i)].join("\n");
      return swap(lines, i, m.b % lines.length).join("\n");
    }
  }
}

export function applyMutations(source: string, ms: readonly Mutation[]): string {
  return ms.reduce(applyMutation, source);
}
