/**
 * The compiler's version and limits, apart from the compiler itself: `nnc --version` and `--help`
 * print them without importing the compiler's 57 modules (pipeline.ts and emit-module.ts
 * re-export them).
 */
export const VERSION = "0.1.0";

/** The longest source accepted, in UTF-16 code units (NN5003): every stage is linear or close to
 * it in the source, but a file of megabytes is a mistake, not a model. */
export const MAX_SOURCE_LENGTH = 1 << 20;

/** The largest unroll threshold `nnc --unroll` accepts: one value of this much work already
 * compiles for ~25 s in ~1 GB; four times as much takes 80 s and 3.4 GB, near V8's default heap
 * limit (docs/limits.md). Unrolling pays only far below it (docs/performance.md). */
export const MAX_UNROLL = 1 << 14;

/** the unroll threshold (work = elements × reduction length); the curve behind it is in docs/performance.md */
export const DEFAULT_UNROLL = 64;
