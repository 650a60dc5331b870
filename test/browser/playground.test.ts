/**
 * The playground (playground/, docs/playground.md) in headless Chromium: the static site is built
 * once (playground/build.mjs, as `npm run playground:build` does, into a temporary directory),
 * served from 127.0.0.1 and driven
 * like a user would — typing in the editor, clicking train, drawing on the pad, downloading.
 *
 * The CLI comparisons run dist/compiler/cli.js: `npm run build` first (as for the CLI tests).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { check, compile } from "../../compiler/pipeline.js";
import { modelIdentity } from "../../runtime/identity.js";
import { loadModule } from "../../runtime/load-module.js";
import { validateWeights } from "../../runtime/weights.js";
import { CHROMIUM } from "../helpers/browser.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "dist/compiler/cli.js");
const TIMEOUT = 30_000;

let browser: Browser;
let server: Server;
let origin: string;
let scratch: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get update && apt-get install -y chromium (docs/browser.md)`);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  // build.mjs and serve.mjs are the scripts npm runs (plain ES modules, no types)
  const { buildPlayground } = await import(pathToFileURL(join(ROOT, "playground/build.mjs")).href);
  const { serve } = await import(pathToFileURL(join(ROOT, "playground/serve.mjs")).href);
  scratch = mkdtempSync(join(tmpdir(), "nnc-playground-"));
  const site = await buildPlayground({ quiet: true, out: join(scratch, "site") });
  server = await serve(site.dir, 0);
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // as test/helpers/browser.ts launches it: root has no user namespace sandbox; /dev/shm is small in containers
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: TIMEOUT, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A page with `example` loaded and compiled; `problems` collects console errors and page errors. */
async function open(example: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.stack ?? e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  await page.goto(`${origin}/?example=${example}`);
  await page.waitForSelector("body[data-compiled]");
  return { page, problems };
}

/** Replaces the editor's text as typing would (CodeMirror sees an input event). */
async function typeSource(page: Page, source: string): Promise<void> {
  await page.click("#editor .cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(source);
}

/** Clicks train and waits for the run to finish; returns the train accuracy shown. */
async function trainInPage(page: Page): Promise<string> {
  await page.click("#train");
  await page.waitForFunction(() => document.getElementById("final")!.textContent !== "" && !document.body.dataset.busy?.includes("train"));
  return (await page.textContent("#train-acc"))!;
}

async function downloadText(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  const path = join(scratch, download.suggestedFilename());
  await download.saveAs(path);
  return { name: download.suggestedFilename(), text: readFileSync(path, "utf8") };
}

const xorSource = readFileSync(join(ROOT, "examples/xor.nn"), "utf8");

/**
 * One page, as one user's session: the tests run in order on it (load, a typo and its fix, XOR
 * trained, an edit downloaded, digits picked, trained and drawn). A new page would start the
 * compiler's worker cold again, seconds each on a loaded machine.
 */
describe("the playground in Chromium", () => {
  let page: Page;
  let problems: string[];
  beforeAll(async () => {
    ({ page, problems } = await open("xor.nn"));
  }, 60_000);
  afterAll(async () => {
    await page?.context().close();
  });

  it("loads xor.nn, compiles it and shows the module and nnc explain, with no console errors", async () => {
    expect(await page.locator("#module .cm-content").textContent()).toContain("// Generated by nnc");
    expect(await page.locator("#explain .cm-content").textContent()).toContain("Model xor: backward pass");
    expect(await page.locator("#example option").allTextContents()).toEqual(expect.arrayContaining(["xor.nn", "iris.nn", "digits.nn"]));
    expect(problems).toEqual([]);
  });

  it("shows a typo's diagnostic at its line and column, in the editor and the list", async () => {
    const typo = xorSource.replace("dense(x, 4, tanh)", "dense(x, 4, tanhh)");
    const offset = typo.indexOf("tanhh");
    const line = typo.slice(0, offset).split("\n").length;
    const col = offset - typo.lastIndexOf("\n", offset - 1);
    const expected = check(typo, { file: "xor.nn" }).diagnostics.list.find((d) => d.severity === "error")!;
    expect(expected.span!.start).toBe(offset);
    await typeSource(page, typo);
    await page.waitForSelector("#editor .cm-lintRange-error");
    // the marked range: its text and the 1-based line of the editor it is on
    const marked = await page.evaluate(() => {
      const range = document.querySelector("#editor .cm-lintRange-error")!;
      const lines = [...document.querySelectorAll("#editor .cm-line")];
      return { text: range.textContent, line: lines.indexOf(range.closest(".cm-line")!) + 1 };
    });
    expect(marked).toEqual({ text: "tanhh", line });
    expect(await page.locator("#diagnostics li.error").first().textContent()).toBe(`xor.nn:${line}:${col}: error ${expected.code}: ${expected.message}`);
    expect(line).toBe(4);
    // fixed again: the diagnostic goes, the module is back
    await typeSource(page, xorSource);
    await page.waitForSelector("#editor .cm-lintRange-error", { state: "detached" });
    await page.waitForFunction(() => document.getElementById("status")!.textContent === "xor.nn: compiled");
    expect(problems).toEqual([]);
  });

  it("trains XOR to 100 % accuracy; the weights file it downloads is nnc's and predicts XOR with `nnc predict`", async () => {
    expect(await trainInPage(page)).toBe("100.0 %");
    // every one of the 2000 steps (4 samples, batch 4) reached the chart
    expect(await page.getAttribute("#chart", "data-steps")).toBe("2000");
    const weights = await downloadText(page, "#download-weights");
    expect(weights.name).toBe("xor.weights.json");
    const raw = JSON.parse(weights.text);
    const mod = await loadModule((await compile(xorSource, { file: "xor.nn", emit: "memory" })).js!);
    validateWeights(raw, mod, weights.name);
    // the graph identity the page computed is Node's
    expect(raw.graph).toBe(modelIdentity(check(xorSource, { file: "xor.nn" }).model!));
    const predictions = execFileSync(process.execPath, [CLI, "predict", join(ROOT, "examples/xor.nn"), "--weights", join(scratch, weights.name), "--data", join(ROOT, "examples/data/xor.csv")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const rows = predictions.trim().split("\n");
    expect(rows[0]).toBe("y");
    expect(rows.slice(1).map((y) => Math.round(Number(y)))).toEqual([0, 1, 1, 0]);
    expect(problems).toEqual([]);
  });

  it("downloads, for an edited model, the module `nnc compile` writes for the same source, byte for byte", async () => {
    const edited = xorSource.replace("dense(x, 4, tanh)", "dense(x, 6, relu)");
    await typeSource(page, edited);
    await page.waitForFunction(() => document.getElementById("status")!.textContent === "xor.nn: compiled" && document.querySelector("#module .cm-content")!.textContent!.includes("Model xor: 25 parameters"));
    const file = join(scratch, "xor.nn");
    writeFileSync(file, edited);
    const cli = execFileSync(process.execPath, [CLI, "compile", file, "-o", "-"], { encoding: "utf8" });
    const downloaded = await downloadText(page, "#download-module");
    expect(downloaded.name).toBe("xor.ts");
    expect(downloaded.text.length).toBe(cli.length);
    expect(downloaded.text === cli).toBe(true);
    expect(problems).toEqual([]);
  });

  it("trains digits.nn, picked from the examples, and classifies digits of the test set drawn on the pad", async () => {
    await page.selectOption("#example", "digits.nn");
    await page.waitForFunction(() => document.getElementById("status")!.textContent === "digits.nn: compiled");
    const accuracy = await trainInPage(page);
    expect(Number.parseFloat(accuracy)).toBeGreaterThan(95);
    // rows of digits-test.csv (unseen in training): pixels 0..16 and the label
    const test = readFileSync(join(ROOT, "examples/data/digits-test.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
    const box = (await page.locator("#pad").boundingBox())!;
    const cell = box.width / 8;
    let right = 0;
    const misread: string[] = [];
    for (const i of DRAWN) {
      const row = test[i]!;
      const label = row[64]!;
      await page.click("#pad-clear");
      // each image row's runs of dark pixels (≥ 8 of 16) as one stroke across those cells
      for (let r = 0; r < 8; r++)
        for (let c = 0; c < 8; c++) {
          if (row[8 * r + c]! < 8 || (c > 0 && row[8 * r + c - 1]! >= 8)) continue;
          let end = c;
          while (end + 1 < 8 && row[8 * r + end + 1]! >= 8) end++;
          const y = box.y + (r + 0.5) * cell;
          await page.mouse.move(box.x + (c + 0.3) * cell, y);
          await page.mouse.down();
          await page.mouse.move(box.x + (end + 0.7) * cell, y, { steps: 1 });
          await page.mouse.up();
        }
      // what the model saw: 8×8 counts in 0..16, ink in every cell the test image has dark
      const seen = (await page.getAttribute("#pad-preview", "data-pixels"))!.split(",").map(Number);
      expect(seen.every((v) => Number.isInteger(v) && v >= 0 && v <= 16)).toBe(true);
      for (let p = 0; p < 64; p++) if (row[p]! >= 8) expect(seen[p], `row ${i}, pixel ${p}`).toBeGreaterThan(0);
      const probabilities = await page.$$eval("#probabilities li", (lis) => lis.map((li) => Number((li as HTMLElement).dataset.p)));
      expect(probabilities).toHaveLength(10);
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const top = probabilities.indexOf(Math.max(...probabilities));
      expect(await page.textContent("#pad-answer")).toBe(String(top));
      if (top === label) right++;
      else misread.push(`row ${i} (a ${label}) read as ${top}`);
    }
    // the strokes draw a binarized image (dark or not), coarser than the data's 17 levels: one of
    // ten may read otherwise (measured: row 8, a 0 read as 2)
    expect(right, misread.join("; ")).toBeGreaterThanOrEqual(9);
    expect(problems).toEqual([]);
  });
});

/** Rows of digits-test.csv drawn on the pad: the first ten (docs/playground.md, "The tests"). */
const DRAWN = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
