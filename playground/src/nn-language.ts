/**
 * Syntax highlighting for `.nn` in CodeMirror: a stream mode over the lexer's classes
 * (compiler/syntax/lexer.ts) — keywords, `#` comments, numbers, strings — plus the train block's
 * settings, the builtins (layers, activations, losses) and the optimizers, which the lexer sees as
 * names. The keyword and builtin lists are the compiler's own, imported.
 */
import { StreamLanguage, type StringStream } from "@codemirror/language";
import { KEYWORDS } from "../../compiler/syntax/lexer.js";
import { ACTIVATIONS, BUILTINS } from "../../compiler/semantics/builtins.js";
import { OPTIMIZERS, SCHEDULES } from "../../compiler/semantics/train-block.js";

const SETTINGS = new Set(["data", "validation", "split", "optimizer", "schedule", "batch", "epochs", "early_stopping", "seed", "snapshots", "normalize", "augment"]);
const FUNCTIONS = new Set<string>([...Object.keys(BUILTINS), ...ACTIVATIONS, ...Object.keys(OPTIMIZERS), ...Object.keys(SCHEDULES)]);

export const nnLanguage = StreamLanguage.define<{ inTrain: boolean }>({
  name: "nn",
  startState: () => ({ inTrain: false }),
  token(stream: StringStream, state) {
    if (stream.eatSpace()) return null;
    if (stream.match(/^#.*/)) return "comment";
    if (stream.match(/^"([^"\\\n]|\\.)*"?/)) return "string";
    if (stream.match(/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/)) return "number";
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      if (KEYWORDS.has(w)) {
        if (w === "train") state.inTrain = true;
        return "keyword";
      }
      if (state.inTrain && SETTINGS.has(w)) return "propertyName";
      if (FUNCTIONS.has(w) && stream.match(/^\s*\(/, false)) return "variableName.function";
      return "variableName";
    }
    const c = stream.next();
    if (c === "}") state.inTrain = false;
    return /[-+*/^@=~]/.test(c ?? "") ? "operator" : "punctuation";
  },
  languageData: { commentTokens: { line: "#" } },
});
