/**
 * wabt is an optional dependency (docs/packaging.md): without it, assembling a kernel is a user's
 * error that says what to install, which the CLI tells apart to fall back to the ts target when it
 * chose wasm itself. The package is made unimportable here as an --omit=optional install leaves it.
 */
import { expect, it, vi } from "vitest";

vi.mock("wabt", () => {
  throw new Error("Cannot find package 'wabt'");
});

it("assembling without wabt: a CliError naming the package and its version, recognized by isWabtMissing", async () => {
  const { assembleWat, isWabtMissing } = await import("../../compiler/codegen/wasm/assemble.js");
  const error = await assembleWat("(module)").then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(error).not.toBeNull();
  expect(error!.name).toBe("CliError");
  expect(error!.message).toMatch(/^nnc: error: --target wasm assembles this model's kernels with wabt, an optional dependency that is not installed .*install it with `npm install wabt@1\.0\.39`, or use --target ts$/);
  expect(isWabtMissing(error)).toBe(true);
  expect(isWabtMissing(new Error("other"))).toBe(false);
});
