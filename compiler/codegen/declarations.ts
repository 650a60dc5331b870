/**
 * The `.d.ts` of a JavaScript module (`nnc compile --emit js`), written from the TypeScript module
 * emitModule printed for the same model: its exported types and interfaces as they are, `meta` and
 * every exported function as a declaration. The signatures are spelled in one place (the
 * emitter's templates); this reads them back from the emitter's own unformatted output, whose
 * shape it knows: every exported function's head is one line ending in ` {`, every exported type
 * ends at a line ending in `;`, every interface at a `}` in column 0. Anything else exported is
 * an internal error, so a new kind of export cannot be left out silently.
 */
export function declarationsOf(rawTs: string): string {
  const lines = rawTs.split("\n");
  const out: string[] = [];
  // the module's header comment: what it is, from which model
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith("//")) out.push(lines[i++]!);
  out.push("");
  /** the doc comment that ends just before line `end` (blank lines between: meta's has one), or none */
  const docBefore = (declaration: number): string[] => {
    let end = declaration;
    while (end > 0 && lines[end - 1] === "") end--;
    if (end === 0 || !lines[end - 1]!.endsWith("*/")) return [];
    let start = end - 1;
    while (start > 0 && !lines[start]!.startsWith("/**")) start--;
    return lines[start]!.startsWith("/**") ? lines.slice(start, end) : [];
  };
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith("export ")) continue;
    const doc = docBefore(i);
    let decl: string[];
    if (line.startsWith("export type ")) {
      let j = i;
      while (!lines[j]!.endsWith(";")) j++;
      decl = lines.slice(i, j + 1);
    } else if (line.startsWith("export interface ")) {
      let j = i;
      while (lines[j] !== "}") j++;
      decl = lines.slice(i, j + 1);
    } else if (line.startsWith("export function ") && line.endsWith(" {")) {
      decl = [`export declare function ${line.slice("export function ".length, -2)};`];
    } else if (line.startsWith("export const meta: {")) {
      let j = i;
      while (lines[j] !== "} = {") j++;
      decl = [`export declare const meta: {`, ...lines.slice(i + 1, j), "};"];
    } else if (/^export const \w+ = \d+;$/.test(line)) {
      decl = [`export declare const ${line.slice("export const ".length, line.indexOf(" ="))}: number;`];
    } else throw new Error(`internal: the declarations do not know this export: ${line}`);
    out.push(...doc, ...decl, "");
  }
  return out.join("\n");
}
