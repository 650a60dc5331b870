/**
 * Build step (package.json "build"): assembles the kernel library of each precision once and
 * writes it beside the compiled compiler (codegen/wasm/prebuilt.ts), so that `nnc` needs no
 * WebAssembly assembler at run time (wabt is a devDependency).
 */
import { writeFileSync } from "node:fs";
import { assembleWat } from "../compiler/codegen/wasm/assemble.js";
import { kernelsWat } from "../compiler/codegen/wasm/kernels.js";
import { PREBUILT_FILE, type Prebuilt } from "../compiler/codegen/wasm/prebuilt.js";
import { PRECISIONS } from "../compiler/target.js";
import { sha256Hex } from "../runtime/sha256.js";

const out: Prebuilt = {};
for (const precision of PRECISIONS) {
  const wat = kernelsWat(precision);
  out[precision] = { watSha256: sha256Hex(wat), base64: Buffer.from(await assembleWat(wat)).toString("base64") };
}
const file = new URL(`../compiler/codegen/wasm/${PREBUILT_FILE}`, import.meta.url);
writeFileSync(file, JSON.stringify(out) + "\n");
