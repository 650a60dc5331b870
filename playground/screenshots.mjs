#!/usr/bin/env node
/**
 * `npm run playground:screenshots`: builds the playground, opens it in headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core, as the browser tests do) and saves the README's
 * pictures in docs/: the editor with the emitted module and `nnc explain`, the loss chart of a
 * digits.nn run, and a test digit drawn on the pad with the trained model's probabilities.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { buildPlayground } from "./build.mjs";
import { serve } from "./serve.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const docs = join(root, "docs");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const site = await buildPlayground({ quiet: true });
const server = await serve(site.dir, 0);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  page.setDefaultTimeout(60_000);
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/?example=digits.nn`);
  await page.waitForSelector("body[data-compiled]");

  // 1. the editor, the emitted module and nnc explain, side by side
  const pane = await page.locator("#module-pane").boundingBox();
  await page.screenshot({ path: join(docs, "playground-editor.png"), clip: { x: 0, y: 0, width: 1440, height: pane.y + pane.height + 10 } });

  // 2. a digits.nn run: the live loss chart (per step, moving average, validation per epoch)
  await page.click("#train");
  await page.waitForFunction(() => document.getElementById("final").textContent !== "" && !document.body.dataset.busy?.includes("train"));
  await page.locator("#train-pane").screenshot({ path: join(docs, "playground-training.png") });

  // 3. a digit of the unseen test file drawn on the pad: its dark pixels, row by row, as strokes
  const row = readFileSync(join(root, "examples/data/digits-test.csv"), "utf8").split("\n")[1].split(",").map(Number);
  const box = await page.locator("#pad").boundingBox();
  const cell = box.width / 8;
  for (let r = 0; r < 8; r++)
    for (let c = 0; c < 8; c++) {
      if (row[8 * r + c] < 8 || (c > 0 && row[8 * r + c - 1] >= 8)) continue;
      let end = c;
      while (end + 1 < 8 && row[8 * r + end + 1] >= 8) end++;
      await page.mouse.move(box.x + (c + 0.3) * cell, box.y + (r + 0.5) * cell);
      await page.mouse.down();
      await page.mouse.move(box.x + (end + 0.7) * cell, box.y + (r + 0.5) * cell);
      await page.mouse.up();
    }
  await page.locator("#digit-pane").screenshot({ path: join(docs, "playground-digit.png") });
  console.log(`docs/playground-editor.png, docs/playground-training.png, docs/playground-digit.png (digit drawn: a ${row[64]}, read as ${await page.textContent("#pad-answer")})`);
} finally {
  await browser.close();
  server.close();
}
