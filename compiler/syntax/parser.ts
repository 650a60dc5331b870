/**
 * The parser of `.nn` (sections 2-5 of the language): recursive descent over the lexer's tokens,
 * producing the AST of ast.ts.
 *
 * It never throws and always returns a whole Program. An error in a statement is reported once
 * (later errors of the same statement are assumed to be echoes and are not reported), the rest of
 * the statement is skipped up to the next line break or `;` (or `}` inside `train`), and parsing
 * goes on with the next statement, so every broken statement of the file gets its diagnostic.
 * Where an expression is missing an ErrorExpr stands in.
 *
 * Grammar (precedence from low to high):
 *   expr     := additive
 *   additive := mul (('+' | '-') mul)*                 left associative, iterative
 *   mul      := unary (('*' | '/' | '@') unary)*         left associative, iterative
 *   unary    := ('-' | '+') unary | power
 *   power    := postfix ('^' unary)?                     right associative: a^b^c = a^(b^c), 2^-1
 *   postfix  := primary ('[' expr (',' expr)* ']')*
 *   primary  := number | string | NAME '(' args ')' | NAME ('.' NAME)* | '(' expr ')'
 */
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import type { Code } from "../diagnostics/messages.js";
import { span, type Span } from "../diagnostics/span.js";
import type {
  Arg,
  BinaryOp,
  ErrorExpr,
  Expr,
  Ident,
  OutputDecl,
  ParamDecl,
  Program,
  Stmt,
  TensorDecl,
  TrainBlock,
  TrainSetting,
} from "./ast.js";
import { decodeString, lex, type Token, type TokenKind } from "./lexer.js";

/** Expressions nested deeper than this (parentheses, call arguments, unary and `^` chains) are
 * reported (NN5001) instead of overflowing the stack. */
export const MAX_NESTING = 256;

export function parse(source: string, diags: Diagnostics): Program {
  const before = diags.list.length;
  const tokens = lex(source, diags);
  const lexErrors: number[] = [];
  for (const d of diags.list.slice(before)) if (d.severity === "error" && d.span !== null) lexErrors.push(d.span.start);
  lexErrors.sort((a, b) => a - b);
  return new Parser(source, tokens, diags, lexErrors).program();
}

/** A token as the messages show it: `')'`, `'foo'`, `a string`, `end of line`, `end of file`. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case "newline":
      return "end of line";
    case "eof":
      return "end of file";
    case "string":
      return "a string";
    default:
      return `'${t.text.length > 40 ? t.text.slice(0, 40) + "…" : t.text}'`;
  }
}

class Parser {
  private pos = 0;
  /** end of the last token consumed, line breaks excepted: where a node that ends here ends */
  private prevEnd = 0;
  private depth = 0;
  /** the current statement (or train setting) has had its error: further errors are echoes */
  private errored = false;

  constructor(
    private readonly source: string,
    private readonly toks: readonly Token[],
    private readonly diags: Diagnostics,
    /** start offsets of the lexer's errors, sorted */
    private readonly lexErrors: readonly number[],
  ) {}

  // ── tokens ───────────────────────────────────────────────────────────

  private peek(k = 0): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)]!;
  }

  private at(kind: TokenKind): boolean {
    return this.peek().kind === kind;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") {
      this.pos++;
      if (t.kind !== "newline") this.prevEnd = t.span.end;
    }
    return t;
  }

  private accept(kind: TokenKind): Token | null {
    return this.at(kind) ? this.next() : null;
  }

  // ── errors ───────────────────────────────────────────────────────────

  /** An error that derails the statement: reported unless the statement already has one. */
  private fail(code: Code, where: Span, ...args: (string | number)[]): void {
    if (this.errored) return;
    this.errored = true;
    this.diags.error(code, where, ...args);
  }

  /** An error after which parsing goes on normally (a reserved word used as a name, a dotted
   * parameter name): reported unless the statement is already broken. */
  private soft(code: Code, where: Span, ...args: (string | number)[]): void {
    if (!this.errored) this.diags.error(code, where, ...args);
  }

  private expect(kind: TokenKind, what: string): Token | null {
    if (this.at(kind)) return this.next();
    this.fail("NN1004", this.peek().span, what, describeToken(this.peek()));
    return null;
  }

  /** Whether the lexer reported an error between the end of the previous token and the next
   * separator: then the statement's own errors would only be echoes of it. */
  private lexErrorAhead(stops: readonly TokenKind[]): boolean {
    if (this.lexErrors.length === 0) return false;
    const from = this.pos > 0 ? this.toks[this.pos - 1]!.span.end : 0;
    let k = this.pos;
    while (k < this.toks.length - 1 && !stops.includes(this.toks[k]!.kind)) k++;
    const to = this.toks[k]!.span.start;
    // first lexer error at or after `from`
    let lo = 0;
    let hi = this.lexErrors.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.lexErrors[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    const e = this.lexErrors[lo];
    return e !== undefined && e < to;
  }

  private errorExpr(): ErrorExpr {
    return { kind: "error", span: span(this.prevEnd, this.prevEnd) };
  }

  // ── statements ───────────────────────────────────────────────────────

  program(): Program {
    const statements: Stmt[] = [];
    for (;;) {
      while (this.at("newline") || this.at(";")) this.next();
      if (this.at("eof")) break;
      const stmt = this.statement();
      if (stmt !== null) statements.push(stmt);
      this.endStatement();
    }
    return { statements, span: span(0, this.source.length) };
  }

  private atStatementEnd(): boolean {
    const k = this.peek().kind;
    return k === "newline" || k === ";" || k === "eof";
  }

  /** After a statement: report trailing junk, then skip whatever is left of it. */
  private endStatement(): void {
    if (!this.atStatementEnd()) this.fail("NN1007", this.peek().span, describeToken(this.peek()));
    this.skipStatement(true);
  }

  /**
   * Skips to the next line break (or `;` when `atSemicolon`) outside braces, so that a line that
   * opens a `{ … }` block which could not be parsed is skipped with its block. An unclosed `{` is
   * given up at the next line that starts with a keyword.
   */
  private skipStatement(atSemicolon: boolean): void {
    let braces = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === "eof") return;
      if (braces === 0 && (t.kind === "newline" || (atSemicolon && t.kind === ";"))) return;
      if (braces > 0 && t.kind === "newline" && this.peek(1).kind === "keyword") return;
      if (t.kind === "{") braces++;
      else if (t.kind === "}" && braces > 0) braces--;
      this.next();
    }
  }

  private statement(): Stmt | null {
    this.errored = this.lexErrorAhead(["newline", ";"]);
    const t = this.peek();
    if (t.kind === "keyword") {
      if (this.peek(1).kind === "=") {
        this.soft("NN2019", t.span, t.text);
        return this.equation();
      }
      switch (t.text) {
        case "model": {
          this.next();
          const name = this.declName();
          return name === null ? null : { kind: "model", name, span: this.from(t) };
        }
        case "input":
        case "target":
          return this.tensorDecl(t.text);
        case "param":
          return this.paramDecl();
        case "const":
        case "layer": {
          this.next();
          const name = this.declName();
          if (name === null) return null;
          this.expect("=", "'='");
          const value = this.expr();
          return { kind: t.text, name, value, span: this.from(t) };
        }
        case "output":
          return this.outputDecl();
        case "loss": {
          this.next();
          const value = this.expr();
          return { kind: "loss", value, span: this.from(t) };
        }
        case "train":
          return this.trainBlock();
      }
    }
    if (t.kind === "ident" && this.peek(1).kind === "=") return this.equation();
    this.fail("NN1006", t.span, t.text);
    this.skipStatement(false);
    return null;
  }

  /** The span from a statement's first token to the last token consumed. */
  private from(first: Token): Span {
    const start = first.span.start;
    return span(start, Math.max(start, this.prevEnd));
  }

  /** A declared name; a keyword is reported (NN2019) and taken as the name. Null when missing. */
  private declName(): Ident | null {
    const t = this.peek();
    if (t.kind === "ident" || t.kind === "keyword") {
      if (t.kind === "keyword") this.soft("NN2019", t.span, t.text);
      this.next();
      return { name: t.text, span: t.span };
    }
    this.fail("NN1004", t.span, "a name", describeToken(t));
    return null;
  }

  private equation(): Stmt {
    const t = this.next();
    this.next(); // '='
    const value = this.expr();
    return { kind: "equation", name: { name: t.text, span: t.span }, value, span: this.from(t) };
  }

  private tensorDecl(kind: "input" | "target"): TensorDecl | null {
    const kw = this.next();
    const name = this.declName();
    if (name === null) return null;
    const dims = this.at("[") ? this.bracketList() : [];
    return { kind, name, dims, span: this.from(kw) };
  }

  private paramDecl(): ParamDecl | null {
    const kw = this.next();
    const first = this.declName();
    if (first === null) return null;
    let name = first;
    if (this.at(".")) {
      // `param h.W`: only `layer` creates dotted names. Take the whole name, report it, go on.
      let text = first.name;
      while (this.at(".") && (this.peek(1).kind === "ident" || this.peek(1).kind === "keyword")) {
        this.next();
        text += "." + this.next().text;
      }
      name = { name: text, span: span(first.span.start, this.prevEnd) };
      if (text.includes(".")) this.soft("NN1009", name.span, text.replace(/\./g, ""));
    }
    const dims = this.at("[") ? this.bracketList() : [];
    const init = this.accept("~") ? this.expr() : null;
    return { kind: "param", name, dims, init, span: this.from(kw) };
  }

  private outputDecl(): OutputDecl | null {
    const kw = this.next();
    const names: Ident[] = [];
    for (;;) {
      const name = this.declName();
      if (name === null) break;
      names.push(name);
      if (!this.accept(",")) break;
    }
    return names.length === 0 ? null : { kind: "output", names, span: this.from(kw) };
  }

  // ── train ────────────────────────────────────────────────────────────

  private trainBlock(): TrainBlock {
    const kw = this.next();
    // `{` may also open on the next line
    if (this.at("newline") && this.peek(1).kind === "{") this.next();
    const open = this.expect("{", "'{'");
    if (open === null) return { kind: "train", settings: [], span: this.from(kw) };

    const outer = this.errored;
    const settings: TrainSetting[] = [];
    let close: Token | null = null;
    for (;;) {
      while (this.at("newline") || this.at(";")) this.next();
      const t = this.peek();
      if (t.kind === "}") {
        close = this.next();
        break;
      }
      // end of file, or a statement keyword: the `}` was forgotten
      if (t.kind === "eof" || t.kind === "keyword") break;
      this.errored = this.lexErrorAhead(["newline", ";", "}"]);
      const setting = this.trainSetting();
      if (setting !== null) settings.push(setting);
      const k = this.peek().kind;
      if (k !== "newline" && k !== ";" && k !== "}" && k !== "eof") this.fail("NN1007", this.peek().span, describeToken(this.peek()));
      while (!this.at("newline") && !this.at(";") && !this.at("}") && !this.at("eof")) this.next();
    }
    this.errored = outer;
    if (close === null) {
      this.fail("NN1008", open.span);
      // give the separators back, so that the statement after the block starts cleanly
      while (this.pos > 0 && (this.toks[this.pos - 1]!.kind === "newline" || this.toks[this.pos - 1]!.kind === ";")) this.pos--;
    }
    return { kind: "train", settings, span: this.from(kw) };
  }

  /** `KEY`, `KEY VALUE` or `KEY(args)`. */
  private trainSetting(): TrainSetting | null {
    const t = this.peek();
    if (t.kind !== "ident") {
      this.fail("NN1004", t.span, "a setting name", describeToken(t));
      return null;
    }
    this.next();
    const key: Ident = { name: t.text, span: t.span };
    const k = this.peek().kind;
    if (k === "(") {
      const args = this.argList();
      return { key, args, value: null, span: this.from(t) };
    }
    if (k === "newline" || k === ";" || k === "}" || k === "eof") return { key, args: null, value: null, span: t.span };
    const value = this.expr();
    return { key, args: null, value, span: this.from(t) };
  }

  // ── expressions ──────────────────────────────────────────────────────

  private tooDeep(): ErrorExpr {
    this.fail("NN5001", this.peek().span, MAX_NESTING);
    return this.errorExpr();
  }

  private expr(): Expr {
    if (this.depth >= MAX_NESTING) return this.tooDeep();
    this.depth++;
    const e = this.additive();
    this.depth--;
    return e;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const k = this.peek().kind;
      if (k !== "+" && k !== "-") return left;
      const op = this.next();
      left = binary(k, left, this.multiplicative(), op.span);
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const k = this.peek().kind;
      if (k !== "*" && k !== "/" && k !== "@") return left;
      const op = this.next();
      left = binary(k, left, this.unary(), op.span);
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind !== "-" && t.kind !== "+") return this.power();
    if (this.depth >= MAX_NESTING) return this.tooDeep();
    this.next();
    this.depth++;
    const operand = this.unary();
    this.depth--;
    return { kind: "unary", op: t.kind, operand, span: span(t.span.start, Math.max(t.span.end, operand.span.end)) };
  }

  private power(): Expr {
    const base = this.postfix();
    if (!this.at("^")) return base;
    const op = this.next();
    let exponent: Expr;
    if (this.depth >= MAX_NESTING) {
      exponent = this.tooDeep();
    } else {
      this.depth++;
      exponent = this.unary();
      this.depth--;
    }
    return binary("^", base, exponent, op.span);
  }

  private postfix(): Expr {
    let e = this.primary();
    while (this.at("[")) {
      const indices = this.bracketList();
      e = { kind: "index", target: e, indices, span: span(e.span.start, this.prevEnd) };
    }
    return e;
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "number":
        this.next();
        return { kind: "number", value: t.value ?? 0, span: t.span };
      case "string":
        this.next();
        return { kind: "string", value: decodeString(t.text), span: t.span };
      case "keyword":
      case "ident": {
        if (t.kind === "keyword") this.soft("NN2019", t.span, t.text);
        this.next();
        if (this.at("(")) {
          const args = this.argList();
          return { kind: "call", callee: { name: t.text, span: t.span }, args, span: span(t.span.start, this.prevEnd) };
        }
        let name = t.text;
        while (this.at(".")) {
          this.next();
          const part = this.peek();
          if (part.kind !== "ident" && part.kind !== "keyword") {
            this.fail("NN1004", part.span, "a name after '.'", describeToken(part));
            break;
          }
          this.next();
          name += "." + part.text;
        }
        return { kind: "name", name, span: span(t.span.start, this.prevEnd) };
      }
      case "(": {
        this.next();
        const inner = this.expr();
        this.expect(")", "')'");
        // the parentheses belong to the expression's text
        return { ...inner, span: span(t.span.start, this.prevEnd) };
      }
      default:
        this.fail("NN1005", t.span, describeToken(t));
        return this.errorExpr();
    }
  }

  /** `( arg, … )` with positional or keyword (`name = value`) arguments; a trailing comma is fine. */
  private argList(): Arg[] {
    this.next(); // '('
    const args: Arg[] = [];
    while (!this.at(")")) {
      const t = this.peek();
      if ((t.kind === "ident" || t.kind === "keyword") && this.peek(1).kind === "=") {
        this.next();
        this.next();
        const value = this.expr();
        args.push({ name: { name: t.text, span: t.span }, value, span: span(t.span.start, this.prevEnd) });
      } else {
        const value = this.expr();
        args.push({ name: null, value, span: value.span });
      }
      if (!this.accept(",")) break;
    }
    this.expect(")", args.length === 0 ? "')'" : "',' or ')'");
    return args;
  }

  /** `e`, `a:b`, `a:`, `:b` or `:` */
  private rangeOrExpr(): Expr {
    const begin = this.peek().span.start;
    const start = this.at(":") ? null : this.expr();
    if (!this.at(":")) return start!;
    this.next(); // ':'
    const stop = this.at(",") || this.at("]") ? null : this.expr();
    return { kind: "range", start, stop, span: span(begin, this.prevEnd) };
  }

  /** `[ expr, … ]`, for dimensions and indices; an index may be a range `start:stop` (§11). */
  private bracketList(): Expr[] {
    this.next(); // '['
    const items: Expr[] = [];
    for (;;) {
      items.push(this.rangeOrExpr());
      if (!this.accept(",")) break;
    }
    this.expect("]", "',' or ']'");
    return items;
  }
}

function binary(op: BinaryOp, left: Expr, right: Expr, opSpan: Span): Expr {
  return {
    kind: "binary",
    op,
    left,
    right,
    opSpan,
    span: span(Math.min(left.span.start, opSpan.start), Math.max(opSpan.end, right.span.end)),
  };
}
