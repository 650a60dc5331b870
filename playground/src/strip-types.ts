/**
 * The emitted TypeScript module as JavaScript, for the training worker to import. Until the
 * compiler emits JavaScript itself (issue #15, part 1), the page strips the types: it parses the
 * module with the TypeScript parser that prettier's plugin carries anyway (the page formats with
 * it) and blanks every type-only range — annotations, type arguments, type and interface
 * declarations, `!` and `as T` — with spaces, keeping line breaks, so the code that runs is the
 * emitted code character for character. TypeScript itself (3 MB minified) is not shipped.
 *
 * A TypeScript construct not listed here is an error, not a guess: the emitted modules use few,
 * and test/browser/playground.test.ts compares the result with TypeScript's own transpileModule
 * for every example (same JavaScript syntax tree).
 */
import * as typescriptPlugin from "prettier/plugins/typescript";

interface Node {
  readonly type: string;
  readonly range: [number, number];
  readonly [key: string]: unknown;
}

/** Nodes that are types and nothing else: the whole range goes. */
const TYPE_ONLY = new Set(["TSTypeAnnotation", "TSTypeParameterInstantiation", "TSTypeParameterDeclaration", "TSTypeAliasDeclaration", "TSInterfaceDeclaration", "TSDeclareFunction"]);

export async function stripTypes(ts: string): Promise<string> {
  const parser = (typescriptPlugin as unknown as { parsers: Record<string, { parse(text: string, options: object): Promise<Node> | Node }> }).parsers.typescript!;
  const ast = await parser.parse(ts, {});
  const cut: [number, number][] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== "object" || typeof (node as Node).type !== "string") return;
    const n = node as Node;
    // `export type X = …` / `export interface …`: the export goes with the declaration
    if (n.type === "ExportNamedDeclaration" && (n.exportKind === "type" || (n.declaration !== null && TYPE_ONLY.has((n.declaration as Node | null)?.type ?? "")))) {
      cut.push(n.range);
      return;
    }
    if (n.type === "ImportDeclaration" && n.importKind === "type") {
      cut.push(n.range);
      return;
    }
    if (TYPE_ONLY.has(n.type)) {
      cut.push(n.range);
      return;
    }
    if (n.type === "TSNonNullExpression" || n.type === "TSAsExpression" || n.type === "TSSatisfiesExpression") {
      // keep the expression, blank what follows it: `!`, `as T`, `satisfies T`
      const inner = n.expression as Node;
      cut.push([inner.range[1], n.range[1]]);
      visit(inner);
      return;
    }
    if (n.type.startsWith("TS")) throw new Error(`the playground cannot strip the TypeScript construct ${n.type} at offset ${n.range[0]} of the emitted module`);
    if ((n.type === "Identifier" || n.type === "AssignmentPattern") && n.optional === true) throw new Error(`the playground cannot strip an optional parameter at offset ${n.range[0]}`);
    for (const [key, value] of Object.entries(n)) if (key !== "range" && key !== "loc" && key !== "parent" && key !== "comments" && key !== "tokens") visit(value);
  };
  visit((ast as unknown as { body: unknown }).body);
  cut.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  for (const [start, end] of cut) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    out += ts.slice(at, from) + ts.slice(from, end).replace(/[^\n]/g, " ");
    at = end;
  }
  return out + ts.slice(at);
}
