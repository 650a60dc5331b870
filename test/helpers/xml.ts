/** XML well-formedness, for the SVG files nnc writes (no XML parser ships with Node). */
/**
 * A strict XML well-formedness check, enough for SVG that nnc writes: one root element, every
 * element closed in order, attributes quoted and not repeated, and no `<` or bare `&` in text or
 * attribute values. Throws with the offset of the first fault.
 */
export function checkXml(text: string): { root: string; elements: number } {
  const stack: string[] = [];
  let i = 0, root = "", elements = 0;
  const name = /[A-Za-z_][\w.:-]*/y;
  const fail = (why: string) => {
    throw new Error(`not well-formed XML at ${i}: ${why}: …${text.slice(Math.max(0, i - 40), i + 40)}…`);
  };
  const checkText = (t: string) => {
    if (t.includes("<")) fail("'<' in text");
    for (const m of t.matchAll(/&/g)) if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/.test(t.slice(m.index!))) fail("a bare '&'");
  };
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    checkText(chunk);
    if (stack.length === 0 && chunk.trim() !== "") fail("text outside the root element");
    if (lt < 0) break;
    i = lt;
    if (text.startsWith("<?", i)) {
      i = text.indexOf("?>", i) + 2;
      if (i < 2) fail("an unclosed <?");
      continue;
    }
    if (text.startsWith("<!--", i)) {
      i = text.indexOf("-->", i) + 3;
      if (i < 3) fail("an unclosed comment");
      continue;
    }
    const closing = text[i + 1] === "/";
    name.lastIndex = i + (closing ? 2 : 1);
    const m = name.exec(text);
    if (!m) fail("no element name");
    const tag = m![0];
    i = name.lastIndex;
    if (closing) {
      if (stack.pop() !== tag) fail(`</${tag}> closes another element`);
      const gt = /\s*>/y;
      gt.lastIndex = i;
      if (!gt.exec(text)) fail("junk in a closing tag");
      i = gt.lastIndex;
      continue;
    }
    if (stack.length === 0 && root !== "") fail("a second root element");
    if (root === "") root = tag;
    elements++;
    const seen = new Set<string>();
    const attr = /\s+([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;
    for (;;) {
      attr.lastIndex = i;
      const a = attr.exec(text);
      if (!a) break;
      if (seen.has(a[1]!)) fail(`attribute ${a[1]} twice`);
      seen.add(a[1]!);
      checkText(a[3] ?? a[4]!);
      i = attr.lastIndex;
    }
    const end = /\s*(\/?)>/y;
    end.lastIndex = i;
    const e = end.exec(text);
    if (!e) fail(`junk in <${tag}>`);
    i = end.lastIndex;
    if (e![1] !== "/") stack.push(tag);
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]}> not closed`);
  if (root === "") fail("no root element");
  return { root, elements };
}
