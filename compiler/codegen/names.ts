/**
 * Identifiers in the emitted code. The one rule: text from a `.nn` file reaches the module only
 * through `sanitize` (an identifier) or `literal` (an escaped string literal). Every name is
 * allocated from a NameTable, so emitted identifiers never collide with each other, with the
 * module's own names, with JavaScript's reserved words or with globals such as `Math`.
 */

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if " +
    "import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements " +
    "interface package private protected public await async of get set as any boolean number string symbol type declare " +
    "module namespace readonly keyof unique unknown never object bigint infer is satisfies accessor abstract asserts out " +
    "arguments eval undefined NaN Infinity Math Float64Array Float32Array Array Object Number String Symbol Error JSON globalThis " +
    "constructor prototype __proto__ toString valueOf hasOwnProperty isPrototypeOf propertyIsEnumerable toLocaleString " +
    "__defineGetter__ __defineSetter__ __lookupGetter__ __lookupSetter__ require exports process console"
  ).split(" "),
);

/** A safe identifier for any text: letters, digits and `_` only, never reserved, never empty. */
export function sanitize(text: string): string {
  let id = text.replace(/\./g, "_").replace(/[^A-Za-z0-9_]/g, "_");
  if (id === "" || /^[0-9]/.test(id)) id = `_${id}`;
  if (RESERVED.has(id)) id = `${id}_`;
  return id;
}

/** A string literal that means exactly `text`. */
export function literal(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

export class NameTable {
  private readonly used = new Set<string>();
  private readonly nextSuffix = new Map<string, number>();
  constructor(private readonly parent: NameTable | null = null) {}

  has(name: string): boolean {
    return this.used.has(name) || (this.parent?.has(name) ?? false);
  }

  /** Claims exactly `name` (a module-level name the emitter writes literally). */
  reserve(name: string): string {
    if (this.has(name)) throw new Error(`internal: name '${name}' reserved twice`);
    this.used.add(name);
    return name;
  }

  /** A new identifier derived from `hint`: hint, hint_1, hint_2, … */
  fresh(hint: string): string {
    const base = sanitize(hint);
    let name = base;
    // names are only ever added, so the first free suffix never moves back: start the search
    // where the last one for this base ended (5000 temporaries would otherwise take 12.5M probes)
    let k = this.nextSuffix.get(base) ?? 1;
    if (this.has(name)) for (name = `${base}_${k}`; this.has(name); ) name = `${base}_${++k}`;
    this.nextSuffix.set(base, k);
    this.used.add(name);
    return name;
  }

  /** A base name whose element names base_0 … base_{count-1} are all free; claims them all. */
  freshGroup(hint: string, count: number): string {
    const base = sanitize(hint);
    for (let k = 0; ; k++) {
      const cand = k === 0 ? base : `${base}_${k}`;
      const names = Array.from({ length: count }, (_, i) => `${cand}_${i}`);
      if (!this.has(cand) && names.every((n) => !this.has(n))) {
        this.used.add(cand);
        for (const n of names) this.used.add(n);
        return cand;
      }
    }
  }

  child(): NameTable {
    return new NameTable(this);
  }
}

/** Source text made safe for a `//` comment: no line terminators of any kind survive. */
export function commentText(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]/g, " ");
}
