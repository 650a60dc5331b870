#!/usr/bin/env node
/**
 * `npm run playground`: serves dist/playground/ (built by `npm run playground:build`) on
 * http://127.0.0.1:8080/ (PORT to choose another; 0 for any free port). Static files only: the
 * page needs nothing else from a server.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "dist", "playground");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json", ".png": "image/png" };

/** A static file server for `dir` (the tests and the screenshot script start one too). */
export function serve(dir = root, port = 8080, host = "127.0.0.1") {
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("bad request");
      return;
    }
    const file = resolve(dir, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    // nothing outside the site, whatever the URL says
    if ((file !== dir && !file.startsWith(dir + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolvePromise(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!existsSync(join(root, "index.html"))) {
    console.error(`nnc playground: ${root} has no index.html: run npm run playground:build first`);
    process.exit(1);
  }
  const port = process.env.PORT !== undefined ? Number(process.env.PORT) : 8080;
  const server = await serve(root, port);
  console.log(`nnc playground: http://127.0.0.1:${server.address().port}/  (serving ${root}; Ctrl-C stops)`);
}
