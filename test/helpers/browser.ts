/**
 * Runs ES modules in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no
 * browser download): the browser tests prove that an emitted module works unchanged in a page.
 *
 *   const browser = useBrowser();                    // at the top of a test file: one Chromium for it
 *   it("…", async () => {
 *     const r = await (await browser()).run(jsSource, (mod, arg) => mod.f(arg), arg);
 *   });
 *
 * `run` serves `jsSource` from a node:http server on 127.0.0.1 (ephemeral port, no other network),
 * opens a fresh page on that origin, `import()`s the module there — so a top-level `await` in it
 * (the shape of a module that instantiates WebAssembly) has finished before the function runs —
 * then calls `fn(module, arg)` in the page, awaits it, and returns its result through JSON
 * (`arg` goes in the same way: plain arrays, not typed arrays; NaN and ±Infinity become null).
 * `fn` (an arrow or function expression) is sent as source text: it must not use anything from the
 * test file's scope.
 *
 * Failures are test failures: a module that does not load, an exception in `fn`, an uncaught page
 * error or a console.error during the run reject with the page's messages; every wait is bounded
 * (a module whose top-level await never settles rejects after `timeoutMs`). A missing Chromium
 * rejects `openBrowser` with the command that installs it.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

export const CHROMIUM = "/usr/bin/chromium";
const DEFAULT_TIMEOUT_MS = 20_000;

export interface BrowserOptions {
  /** the Chromium binary; default /usr/bin/chromium (Debian's package) */
  readonly executablePath?: string;
  /** bound on launching, page loads and each `run`; default 20 s */
  readonly timeoutMs?: number;
}

export interface RunOptions {
  readonly timeoutMs?: number;
}

export interface BrowserSession {
  /** Loads `source` as an ES module in a fresh page, runs `fn(module, arg)` there, returns its result (JSON). */
  run<A, R>(source: string, fn: (mod: any, arg: A) => R | Promise<R>, arg: A, options?: RunOptions): Promise<R>;
  /** the browser's version string, e.g. "156.0.8078.114" */
  readonly version: string;
  close(): Promise<void>;
}

export class BrowserMissingError extends Error {}

/**
 * Opens one browser for the calling test file (beforeAll) and closes it (afterAll). Every test
 * awaits the returned function: if Chromium is missing or does not start, each test fails with
 * that message (none is skipped).
 */
export function useBrowser(options: BrowserOptions = {}): () => Promise<BrowserSession> {
  let opening: Promise<BrowserSession> | undefined;
  beforeAll(() => {
    opening = openBrowser(options);
    opening.catch(() => {}); // reported by each test that awaits it
  });
  afterAll(async () => {
    await opening?.then((b) => b.close(), () => {});
  });
  return () => opening ?? Promise.reject(new Error("useBrowser() must be called at the top level of a test file"));
}

export async function openBrowser(options: BrowserOptions = {}): Promise<BrowserSession> {
  const executablePath = options.executablePath ?? CHROMIUM;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!existsSync(executablePath))
    throw new BrowserMissingError(
      `Chromium not found at ${executablePath}: the browser tests (test/browser) need Debian's chromium package. ` +
        `Install it as root: apt-get update && apt-get install -y chromium   (.ci/run does this; see docs/browser.md)`,
    );

  const modules = new Map<string, string>();
  const server = await listen(modules);
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  let context: BrowserContext;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      timeout: timeoutMs,
      // root has no user namespace sandbox; /dev/shm is small in containers
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    });
    context = await browser.newContext();
    context.setDefaultTimeout(timeoutMs);
  } catch (e) {
    await browser?.close().catch(() => {});
    await closeServer(server);
    throw e;
  }

  let counter = 0;
  return {
    version: browser.version(),
    async run(source, fn, arg, runOptions = {}) {
      const limit = runOptions.timeoutMs ?? timeoutMs;
      const path = `/m${++counter}.js`;
      modules.set(path, source);
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e.stack ?? e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
      });
      page.on("crash", () => problems.push("the page crashed"));
      let timer: NodeJS.Timeout | undefined;
      try {
        // the blank page loads under the session's limit: a short run limit is for the module alone
        // (a loaded machine can take longer than 300 ms to open a page)
        await page.goto(`${origin}/`, { timeout: Math.max(limit, timeoutMs) });
        // page-side code as text: vitest rewrites import() in functions of the test files
        const work = page.evaluate<string>(
          `(async () => {
            const mod = await import(${JSON.stringify(`${origin}${path}`)});
            const result = await (${fn.toString()})(mod, JSON.parse(${JSON.stringify(JSON.stringify(arg ?? null))}));
            return JSON.stringify(result ?? null);
          })()`,
        );
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`browser run timed out after ${limit} ms (module ${path} or its function did not settle)`)), limit);
        });
        let json: string;
        try {
          json = await Promise.race([work, timeout]);
        } catch (e) {
          work.catch(() => {}); // settled by page.close below
          throw new Error(`${(e as Error).message}${problems.length ? `\n${problems.join("\n")}` : ""}`);
        }
        if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join("\n")}`);
        return JSON.parse(json);
      } finally {
        clearTimeout(timer);
        modules.delete(path);
        await page.close().catch(() => {});
      }
    },
    async close() {
      await browser!.close().catch(() => {});
      await closeServer(server);
    },
  };
}

/** Serves an empty page at / and the registered modules; nothing else. */
function listen(modules: ReadonlyMap<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const source = modules.get(path);
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end('<!doctype html><meta charset="utf-8"><title>nnc browser test</title>');
    } else if (source !== undefined) {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      res.end(source);
    } else if (path === "/favicon.ico") {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
