/**
 * Golden files under test/baselines: compared byte for byte, or written with NNC_ACCEPT=1
 * (`npm run test:accept`; review the git diff). Each golden test owns a part of the tree and fails
 * on a file there that no case produces.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { expect } from "vitest";
import { BASELINES } from "./corpus.js";

export const ACCEPT = process.env.NNC_ACCEPT === "1";

/** `actual` against the baseline at `rel` (relative to test/baselines), or written there when accepting. */
export function compareBaseline(rel: string, actual: string): void {
  const path = join(BASELINES, rel);
  if (ACCEPT) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(existsSync(path), `missing baseline ${rel}: run npm run test:accept and review the diff`).toBe(true);
  expect(actual).toBe(readFileSync(path, "utf8"));
}

/** Every baseline file, relative to test/baselines. */
export function baselineFiles(): string[] {
  const walk = (d: string): string[] =>
    existsSync(d) ? readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [relative(BASELINES, join(d, f))])) : [];
  return walk(BASELINES);
}

/** The part of test/baselines that test/golden/schedule.test.ts owns. */
export const SCHEDULES = "schedules";

/** The part of test/baselines that test/golden/pytorch.test.ts owns: the PyTorch exports. */
export const PYTORCH = "pytorch";
