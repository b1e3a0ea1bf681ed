// Serves the demo: www/ at "/", the npm package at "/pkg/", the page's libraries (KaTeX, marked, DOMPurify)
// from scripts/node_modules at "/vendor/", and, once scripts/fetch_gemma.sh has fetched it, the
// Gemma 3 270M GGUF in the hub's layout at "/hub/" (the offline preset), on 127.0.0.1 only, with
// the .wasm MIME type and the COOP/COEP headers cross-origin isolation needs.
// Usage: node scripts/serve.mjs [--port 8080]   (port 0 picks a free port)
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const modules = join(root, 'scripts/node_modules');
const baseMounts = [
  ['/pkg/', join(root, 'pkg')],
  ['/vendor/katex/', join(modules, 'katex/dist')],
  ['/vendor/marked/', join(modules, 'marked/lib')],
  ['/vendor/marked-katex-extension/', join(modules, 'marked-katex-extension/lib')],
  ['/vendor/dompurify/', join(modules, 'dompurify/dist')],
  ['/', join(root, 'www')],
];
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

/** The offline preset's model: the Gemma 3 270M GGUF scripts/fetch_gemma.sh assembles. */
export const GEMMA_REPO = 'local/gemma-3-270m-GGUF';
export const GEMMA_FILE = 'gemma-3-270m-q4_k_m.gguf';
const gemmaPath = join(root, 'target/models', GEMMA_FILE);

/** Maps a URL path to a file under one of the mounts, or null if it escapes them. */
function locate(urlPath, mounts) {
  let path;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const rel = path.slice(prefix.length) || 'index.html';
    const file = normalize(join(dir, rel));
    return file === dir || file.startsWith(dir + sep) ? file : null;
  }
  return null;
}

async function handle(req, res, mounts) {
  const headers = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, headers).end();
    return;
  }
  let file = locate(req.url ?? '/', mounts);
  try {
    if (file && (await stat(file)).isDirectory()) file = join(file, 'index.html');
    const body = file ? await readFile(file) : null;
    if (!body) throw new Error('outside the served folders');
    headers['Content-Type'] = types[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
  }
}

/**
 * Starts the server; resolves to { server, url } once it listens. `mounts` adds [prefix, folder]
 * pairs before the demo's; `handlers` are tried first (each resolves to true when it answered).
 */
export function startServer({ port = 8080, mounts = [], handlers = [] } = {}) {
  const all = [...mounts, ...baseMounts];
  return new Promise((resolvePromise, reject) => {
    const server = createServer(async (req, res) => {
      try {
        for (const h of handlers) if (await h(req, res)) return;
        await handle(req, res, all);
      } catch {
        if (!res.headersSent) res.writeHead(500).end();
      }
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolvePromise({ server, url: `http://127.0.0.1:${actual}/` });
    });
  });
}

/** A handler serving the offline preset's GGUF at /hub/ when it has been fetched, else null. */
export async function localHub() {
  if (!existsSync(gemmaPath)) return null;
  const { hubHandler } = await import('./hub.mjs');
  const hub = hubHandler({ [GEMMA_REPO]: { dir: dirname(gemmaPath), files: { [GEMMA_FILE]: gemmaPath } } }, { prefix: '/hub' });
  return hub.handle;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: invalid port ${process.argv[i + 1]}`);
    process.exit(2);
  }
  const hub = await localHub();
  const { url } = await startServer({ port, handlers: hub ? [hub] : [] });
  console.log(`ttsearch demo: ${url}  (Ctrl-C to stop)`);
  if (!hub) console.log(`serve: ${gemmaPath} is missing, so the offline preset is off (scripts/fetch_gemma.sh fetches it)`);
}
