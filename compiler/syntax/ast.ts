/**
 * The syntax tree of a `.nn` file: plain data, discriminated by `kind`, every node with its span.
 * The parser always returns a whole Program: where source is missing or malformed it inserts an
 * `error` expression (and has reported a diagnostic), so later stages never see `undefined`.
 */
import type { Span } from "../diagnostics/span.js";

export interface Ident {
  readonly name: string;
  readonly span: Span;
}

// ── expressions ────────────────────────────────────────────────────────

export type Expr = NumberLit | StringLit | NameRef | Unary | Binary | Call | Index | Range | ErrorExpr;

export interface NumberLit {
  readonly kind: "number";
  readonly value: number;
  readonly span: Span;
}

export interface StringLit {
  readonly kind: "string";
  /** the value with escapes resolved */
  readonly value: string;
  readonly span: Span;
}

/** A name; a layer parameter is one name with a dot: `h1.W`. */
export interface NameRef {
  readonly kind: "name";
  readonly name: string;
  readonly span: Span;
}

export interface Unary {
  readonly kind: "unary";
  readonly op: "-" | "+";
  readonly operand: Expr;
  readonly span: Span;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "@" | "^";

export interface Binary {
  readonly kind: "binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  /** the operator token, for diagnostics about the operation itself */
  readonly opSpan: Span;
  readonly span: Span;
}

export interface Arg {
  /** `name = value` for keyword arguments, null for positional ones */
  readonly name: Ident | null;
  readonly value: Expr;
  readonly span: Span;
}

export interface Call {
  readonly kind: "call";
  readonly callee: Ident;
  readonly args: readonly Arg[];
  readonly span: Span;
}

export interface Index {
  readonly kind: "index";
  readonly target: Expr;
  readonly indices: readonly Expr[];
  readonly span: Span;
}

/** `start:stop` inside `x[…]` (either side may be left out: `:` is the whole axis); only there. */
export interface Range {
  readonly kind: "range";
  readonly start: Expr | null;
  readonly stop: Expr | null;
  readonly span: Span;
}

/** Stands where an expression was expected but none could be parsed (already reported). */
export interface ErrorExpr {
  readonly kind: "error";
  readonly span: Span;
}

// ── statements ─────────────────────────────────────────────────────────

export type Stmt =
  | ModelDecl
  | TensorDecl
  | ParamDecl
  | ConstDecl
  | LayerDecl
  | Equation
  | OutputDecl
  | LossDecl
  | TrainBlock;

/** `model xor` */
export interface ModelDecl {
  readonly kind: "model";
  readonly name: Ident;
  readonly span: Span;
}

/** `input x[2]`, `target t` (no brackets: a scalar) */
export interface TensorDecl {
  readonly kind: "input" | "target";
  readonly name: Ident;
  readonly dims: readonly Expr[];
  readonly span: Span;
}

/** `param W1[4, 2] ~ xavier`; `init` is the expression after `~` (a name or a call), or null */
export interface ParamDecl {
  readonly kind: "param";
  readonly name: Ident;
  readonly dims: readonly Expr[];
  readonly init: Expr | null;
  readonly span: Span;
}

/** `const lambda = 1e-4` */
export interface ConstDecl {
  readonly kind: "const";
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}

/** `layer h1 = dense(x, 128, relu, init = he)`: the right side is kept as a call */
export interface LayerDecl {
  readonly kind: "layer";
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}

/** `z = W1 @ x + b1` */
export interface Equation {
  readonly kind: "equation";
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}

/** `output y` or `output y, p` */
export interface OutputDecl {
  readonly kind: "output";
  readonly names: readonly Ident[];
  readonly span: Span;
}

/** `loss cross_entropy(y, t) + lambda * R` */
export interface LossDecl {
  readonly kind: "loss";
  readonly value: Expr;
  readonly span: Span;
}

/**
 * One line of a `train { … }` block: a key followed by an optional value, or a key with call
 * arguments. `optimizer adam(lr = 0.001)` → key optimizer, value Call; `data "f.csv"` → value
 * StringLit; `schedule cosine` → value NameRef; `early_stopping(patience = 5)` → args, value null.
 */
export interface TrainSetting {
  readonly key: Ident;
  readonly args: readonly Arg[] | null;
  readonly value: Expr | null;
  readonly span: Span;
}

export interface TrainBlock {
  readonly kind: "train";
  readonly settings: readonly TrainSetting[];
  readonly span: Span;
}

export interface Program {
  readonly statements: readonly Stmt[];
  readonly span: Span;
}
