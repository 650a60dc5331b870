/** The runtime's SHA-256 (runtime/sha256.ts) against node:crypto's, at every length around the padding's edges. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../runtime/sha256.js";

describe("sha256Hex", () => {
  it("equals node:crypto's SHA-256 for 0 to 300 bytes, and for a megabyte", () => {
    const bytes = new Uint8Array(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (let n = 0; n <= 300; n++) expect(sha256Hex(bytes.subarray(0, n))).toBe(createHash("sha256").update(bytes.subarray(0, n)).digest("hex"));
    expect(sha256Hex(bytes)).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("hashes a string as its UTF-8 bytes", () => {
    for (const s of ["", "abc", "∂loss/∂θ", "\u{1F600} and \u2028"]) expect(sha256Hex(s)).toBe(createHash("sha256").update(s, "utf8").digest("hex"));
  });
});
