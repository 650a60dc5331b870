/**
 * The kernel library assembled at build time (`npm run build` runs scripts/prebuild-kernels.ts,
 * which writes kernels.prebuilt.json beside this file in dist/): a `--target wasm` compile then
 * loads no assembler (wabt takes half a second to load and assemble). Each entry holds the
 * SHA-256 of the WebAssembly text it was assembled from, and is used only when that is the hash
 * of the text the compiler would assemble now: a stale or missing file costs time (assemble.ts
 * runs), never correctness.
 */
import { readFileSync } from "node:fs";
import type { Precision } from "../../target.js";
import { sha256Hex } from "../../../runtime/sha256.js";

export const PREBUILT_FILE = "kernels.prebuilt.json";

export type Prebuilt = Partial<Record<Precision, { readonly watSha256: string; readonly base64: string }>>;

let prebuilt: Prebuilt | null | undefined;

/** The bytes assembled at build time from exactly `wat`, or null. */
export function prebuiltKernels(precision: Precision, wat: string): Uint8Array<ArrayBuffer> | null {
  if (prebuilt === undefined) {
    try {
      prebuilt = JSON.parse(readFileSync(new URL(`./${PREBUILT_FILE}`, import.meta.url), "utf8")) as Prebuilt;
    } catch {
      prebuilt = null; // running from the sources (the tests), or a file not written: assemble
    }
  }
  const entry = prebuilt?.[precision];
  if (entry === undefined || entry.watSha256 !== sha256Hex(wat)) return null;
  return new Uint8Array(Buffer.from(entry.base64, "base64"));
}
