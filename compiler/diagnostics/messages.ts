/**
 * THE catalog of diagnostics. Every message nnc prints about a source file comes from here, under a
 * stable code: NN1xxx lexical and syntax, NN2xxx names and declarations, NN3xxx shapes and types,
 * NN4xxx the train block, NN5xxx limits, NN9xxx command-line and file errors.
 * Placeholders {0}, {1}, … are filled by the collector.
 */
export const messages = {
  // ── lexical and syntax ──────────────────────────────────────────────
  NN1001: "unexpected character '{0}'",
  NN1002: "unterminated string literal",
  NN1003: "malformed number '{0}'",
  NN1004: "expected {0}, found {1}",
  NN1005: "expected an expression, found {0}",
  NN1006: "unknown statement '{0}': expected a declaration, an equation 'name = expression', 'output', 'loss' or 'train'",
  NN1007: "expected the end of the statement, found {0}",
  NN1008: "unterminated 'train' block: expected '}'",
  NN1009: "a parameter name with '.' is only created by 'layer'; write '{0}' without the dot, or declare a layer",
  // ── names and declarations ──────────────────────────────────────────
  NN2001: "'{0}' is not defined",
  NN2002: "'{0}' is already defined",
  NN2003: "'{0}' is {1} and cannot be assigned",
  NN2004: "there is no loss: add 'loss <expression>'",
  NN2005: "there can be only one 'loss'",
  NN2006: "'model' may be given only once",
  NN2007: "unknown function '{0}'",
  NN2008: "'{0}' takes {1}, but {2} were given",
  NN2009: "unknown argument '{0}' for '{1}'",
  NN2010: "unknown initializer '{0}': expected zeros, constant(c), normal(mean, std), uniform(lo, hi), lecun, xavier or he",
  NN2011: "unknown activation {0} (one of: {1})",
  NN2012: "'{0}' is declared but not used by the loss or any output",
  NN2013: "'{0}' must be a compile-time constant",
  NN2014: "'{0}' is used before it is defined",
  NN2015: "'{0}' is not a layer: only 'layer' declarations have '.W' and '.b'",
  NN2016: "--set {0}: there is no 'const {0}' in the model",
  NN2017: "argument '{0}' given twice",
  NN2018: "the loss does not depend on any parameter",
  NN2019: "'{0}' is a reserved word",
  NN2020: "output '{0}' depends on the target '{1}': predict() only sees the inputs",
  // ── shapes and types ────────────────────────────────────────────────
  NN3001: "shapes {0} and {1} do not match for '{2}'",
  NN3002: "'@' needs a matrix on the left, found {0}",
  NN3003: "'@' cannot multiply {0} by {1}: inner dimensions {2} and {3} differ",
  NN3004: "index {0} is out of range for a dimension of size {1}",
  NN3005: "{0} indices given for a value of shape {1}",
  NN3006: "the loss must be a scalar, found shape {0}",
  NN3007: "'{0}' expects {1}, found shape {2}",
  NN3008: "the exponent of '^' must be a constant",
  NN3009: "an index must be a non-negative integer constant",
  NN3010: "a dimension must be a positive integer, found {0}",
  NN3011: "at most 4 dimensions are supported, found {0}",
  NN3012: "{0} must be a number",
  NN3013: "'{0}': the dropout probability must be a constant in [0, 1), found {1}",
  NN3014: "division by zero in a constant expression",
  NN3015: "slice {0} is out of range for axis {1} of shape {2}",
  NN3016: "slice {0} of axis {1} is empty (shape {2})",
  NN3017: "'{0}': the {1} kernel is larger than the input {2} (with padding {3})",
  NN3018: "'{0}': the {1}×{1} window is larger than the input {2}",
  NN3019: "'concat': {0} has shape {1}, which does not match {2} (the first argument) off axis {3}",
  NN3020: "'{0}': {1} must be {2}, found {3}",
  NN3021: "a range 'start:stop' is only allowed as an index inside '[ ]'",
  NN3101: "{0} can overflow or lose all precision for large inputs; write {1} (computed stably)",
  NN3102: "'{0}': {1} leaves the last {2} of the input {3} unread (as PyTorch does: the output is {4}); pad or crop the input to use them",
  // ── train block ─────────────────────────────────────────────────────
  NN4001: "unknown setting '{0}' in 'train': expected data, validation, split, optimizer, schedule, batch, epochs, early_stopping, seed, snapshots, normalize or augment",
  NN4002: "unknown optimizer '{0}': expected sgd, momentum, nesterov, adagrad, rmsprop, adam, adadelta, lbfgs, newton or newton_cg",
  NN4003: "unknown schedule '{0}': expected constant, step, cosine, linear, inverse_sqrt, cyclic or cosine_restarts",
  NN4004: "'{0}' must be {1}",
  NN4005: "'{0}' is set twice in 'train'",
  NN4006: "'validation' and 'split' cannot both be given",
  NN4009: "'{0}' needs the argument '{1}' (it has no default)",
  // ── limits ──────────────────────────────────────────────────────────
  NN5001: "expression nested too deeply (more than {0} levels)",
  NN5002: "'{0}' has {1} elements; the limit is {2}",
  NN5003: "the source file is too large ({0}; the limit is {1} characters)",
  NN5004: "too many errors: only the first {0} are shown ({1} more not shown)",
  // ── files and command line ──────────────────────────────────────────
  NN9001: "cannot read '{0}': {1}",
  NN9002: "cannot write '{0}': {1}",
  NN9003: "--set expects name=value with a number, found '{0}'",
} as const;

export type Code = keyof typeof messages;
export type Severity = "error" | "warning";
