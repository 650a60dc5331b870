/**
 * The language the module is printed in. The TypeScript and the JavaScript module are one text
 * but for the types: every place the printer spells a type asks this, so the JavaScript module is
 * the TypeScript one with its types erased, printed directly (no TypeScript at run time). The
 * declarations of the JavaScript module are written from the TypeScript one (declarations.ts).
 */
export type Lang = "ts" | "js";

export interface Spelling {
  readonly lang: Lang;
  /** `: T` after a name or a parameter list in TypeScript; nothing in JavaScript */
  type(t: string): string;
  /** `name: T` in TypeScript; `name` in JavaScript */
  param(name: string, t: string): string;
  /** a parameter list written `a: T, b: U` (no type in it contains ", "), in this language */
  params(list: string): string;
  /** the non-null assertion `!` in TypeScript */
  readonly bang: string;
  /** ` as T` in TypeScript */
  as(t: string): string;
  /** a declaration only TypeScript has (a type, an interface): [] in JavaScript */
  only(...ts: string[]): string[];
}

const TS: Spelling = {
  lang: "ts",
  type: (t) => `: ${t}`,
  param: (name, t) => `${name}: ${t}`,
  params: (list) => list,
  bang: "!",
  as: (t) => ` as ${t}`,
  only: (...ts) => ts,
};

const JS: Spelling = {
  lang: "js",
  type: () => "",
  param: (name) => name,
  params: (list) => (list === "" ? list : list.split(", ").map(untyped).join(", ")),
  bang: "",
  as: () => "",
  only: () => [],
};

function untyped(item: string): string {
  const m = /^([A-Za-z_$][\w$]*): \S/.exec(item);
  if (m === null) throw new Error(`internal: '${item}' is not a typed parameter`);
  return m[1]!;
}

export function spelling(lang: Lang = "ts"): Spelling {
  return lang === "ts" ? TS : JS;
}
