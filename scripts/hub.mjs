// A model server in the Hugging Face hub's URL layout, for tests and the offline demo:
// GET {prefix}/{org}/{name}/resolve/{revision}/{file} answers like the hub does: a redirect to a
// CDN path for the bytes (with X-Linked-Size and an ETag), 404 with X-Error-Code: EntryNotFound
// for a missing file, 401 with X-Error-Code: GatedRepo for a repo that needs a token the request
// does not carry; bytes with Range support and CORS headers (Authorization and Range allowed,
// the size headers exposed). Test switches per repo: `truncate` (a file's body stops half way
// while its Content-Length promises all of it) and `delayMs` (a slow file, for aborts).
// Every request is logged.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Authorization, Range, Content-Type',
  'Access-Control-Expose-Headers':
    'Content-Length, Content-Range, Accept-Ranges, ETag, X-Linked-Size, X-Linked-ETag, X-Repo-Commit, X-Error-Code, X-Error-Message',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

/**
 * A request handler for `repos` ({ 'org/name': { dir, token?, truncate?: [file], delayMs?,
 * files?: { name: path } } }) mounted at `prefix` ("" or "/hub"). Returns { handle, log }:
 * `handle(req, res)` resolves to true when it answered the request, `log` lists
 * { method, path, status, range }.
 */
export function hubHandler(repos, { prefix = '' } = {}) {
  const log = [];
  const reply = (req, res, status, headers, body) => {
    log.push({ method: req.method, path: req.url, status, range: req.headers.range ?? null });
    res.writeHead(status, { ...CORS, ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  async function locate(repoId, file) {
    const repo = repos[repoId];
    if (!repo) return { repo: null };
    const mapped = repo.files?.[file];
    const base = mapped ?? normalize(join(repo.dir, file));
    if (!mapped && !(base === repo.dir || base.startsWith(repo.dir + sep))) return { repo };
    try {
      const info = await stat(base);
      return info.isFile() ? { repo, path: base, size: info.size } : { repo };
    } catch {
      return { repo };
    }
  }

  async function serveBytes(req, res, repo, file, path, size) {
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    let [start, end] = [0, size - 1];
    let status = 200;
    if (range) {
      start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
      end = range[1] !== '' && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) {
        reply(req, res, 416, { 'Content-Range': `bytes */${size}` }, '');
        return;
      }
      status = 206;
    }
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      ETag: `"${size.toString(16)}"`,
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    };
    log.push({ method: req.method, path: req.url, status, range: req.headers.range ?? null });
    res.writeHead(status, { ...CORS, ...headers });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const cut = repo.truncate?.includes(file);
    const last = cut ? start + Math.floor((end - start + 1) / 2) - 1 : end;
    const stream = createReadStream(path, { start, end: Math.max(start, last) });
    if (repo.delayMs) {
      // A slow file: one 64 KiB piece per delay.
      stream.pause();
      stream.on('data', (chunk) => {
        stream.pause();
        res.write(chunk);
        setTimeout(() => stream.resume(), repo.delayMs);
      });
      stream.on('end', () => (cut ? res.destroy() : res.end()));
      res.on('close', () => stream.destroy());
      setTimeout(() => stream.resume(), repo.delayMs);
      return;
    }
    stream.pipe(res, { end: !cut });
    if (cut) stream.on('end', () => res.destroy());
    res.on('close', () => stream.destroy());
  }

  async function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return false;
    }
    if (!path.startsWith(prefix + '/')) return false;
    path = path.slice(prefix.length);
    if (req.method === 'OPTIONS') {
      reply(req, res, 204, { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS' }, '');
      return true;
    }
    const resolveMatch = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const cdnMatch = /^\/cdn\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(path);
    const match = resolveMatch ?? cdnMatch;
    if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const [, repoId, revision, file] = match;
    const { repo, path: filePath, size } = await locate(repoId, file);
    if (!repo) {
      reply(req, res, 401, { 'X-Error-Code': 'RepoNotFound', 'X-Error-Message': 'Repository not found' }, 'Repository not found');
      return true;
    }
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      reply(
        req,
        res,
        401,
        { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': `Access to model ${repoId} is restricted.` },
        `Access to model ${repoId} is restricted. You must have access to it and be authenticated.`,
      );
      return true;
    }
    if (revision !== 'main' && revision !== (repo.revision ?? 'main')) {
      reply(req, res, 404, { 'X-Error-Code': 'RevisionNotFound' }, 'Revision not found');
      return true;
    }
    if (!filePath) {
      reply(req, res, 404, { 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found' }, 'Entry not found');
      return true;
    }
    if (resolveMatch) {
      // The hub redirects to where the bytes live, saying how large they are.
      const location = `${prefix}/cdn/${repoId}/${revision}/${file.split('/').map(encodeURIComponent).join('/')}`;
      reply(
        req,
        res,
        302,
        { Location: location, 'X-Linked-Size': String(size), 'X-Repo-Commit': 'f'.repeat(40), ETag: `"${size.toString(16)}"` },
        '',
      );
      return true;
    }
    await serveBytes(req, res, repo, file, filePath, size);
    return true;
  }

  return { handle, log };
}
