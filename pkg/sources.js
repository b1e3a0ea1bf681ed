// Where a model's files come from, as the folder objects the WebAssembly loader reads:
// `{ describe, open(name) }`, `open` resolving to null (no such file) or `{ size, read(offset,
// length) }`. A source is a hub repo id, a URL of a .gguf file or of a folder in the hub's
// layout, a File/Blob (GGUF), a list of Files (a picked folder), bytes, or in Node a path.
// Each source gives two folders: one for `inspect` (headers only: small files are downloaded
// whole and cached, large ones read by HTTP ranges) and one for `load` (every file downloaded
// with progress into the cache, then read by ranges from its Blob).
import { cached, download, modelCache, statusError } from './fetch.js';
import { TtsearchError } from './errors.js';
import { isNode, nodeBuiltin } from './node.js';

/** Files up to this size are downloaded whole even when only a header is needed. */
const SMALL_FILE = 8 << 20;


const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

function checkAbort(signal) {
  if (signal?.aborted) {
    const reason = signal.reason?.message;
    throw new TtsearchError('cancelled', `cancelled${reason ? `: ${reason}` : ''}`);
  }
}

/** A file object over a Blob, checking `signal` before every read and reporting reads. */
function blobFile(blob, { signal, onRead } = {}) {
  return {
    size: blob.size,
    async read(offset, length) {
      checkAbort(signal);
      const bytes = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      onRead?.(offset + length);
      return bytes;
    },
  };
}

/** A folder over named Blobs. */
function blobFolder(describe, blobs, options) {
  return {
    describe,
    async open(name) {
      const blob = blobs.get(name);
      if (!blob) return null;
      return blobFile(blob, { signal: options.signal, onRead: (end) => options.onRead?.(name, end, blob.size) });
    },
  };
}

/** A folder over an HTTP base URL (a hub repo at a revision, or a folder in that layout). */
function urlFolder(describe, base, options, { mode }) {
  const { headers, signal, progress, useCache } = options;
  const url = (name) => base + name.split('/').map(encodeURIComponent).join('/');
  const what = (name) => `${describe}: ${name}`;
  const fetched = new Map();

  async function whole(name) {
    if (!fetched.has(name)) {
      const result = await download(url(name), {
        headers,
        signal,
        what: what(name),
        optional: true,
        useCache,
        progress: (loaded, total) => progress?.({ phase: 'download', file: name, loaded, total }),
      });
      if (result?.cacheError) {
        progress?.({ phase: 'cache', file: name, cached: false, reason: result.cacheError });
      }
      fetched.set(name, result);
    }
    return fetched.get(name);
  }

  async function ranged(name) {
    const hit = await cached(useCache ? await modelCache() : null, url(name));
    if (hit === null) return null;
    if (hit) return blobFile(hit, { signal });
    checkAbort(signal);
    let response;
    try {
      response = await fetch(url(name), { headers: { ...headers, Range: 'bytes=0-0' }, signal });
    } catch (error) {
      checkAbort(signal);
      throw new TtsearchError('network', `${what(name)}: ${url(name)}: ${error?.message ?? error}`);
    }
    if (response.status === 404) return null;
    if (!response.ok) throw statusError(response.status, url(name), what(name), response.headers.get('x-error-code'));
    const range = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    const size = Number(range?.[1] ?? response.headers.get('x-linked-size') ?? response.headers.get('content-length'));
    await response.body?.cancel();
    if (!Number.isFinite(size)) throw new TtsearchError('network', `${what(name)}: the server gives no size`);
    if (size <= SMALL_FILE) {
      const result = await whole(name);
      return result && blobFile(result.blob, { signal });
    }
    return {
      size,
      async read(offset, length) {
        checkAbort(signal);
        let r;
        try {
          r = await fetch(url(name), { headers: { ...headers, Range: `bytes=${offset}-${offset + length - 1}` }, signal });
        } catch (error) {
          checkAbort(signal);
          throw new TtsearchError('network', `${what(name)}: ${error?.message ?? error}`);
        }
        if (r.status !== 206 && r.status !== 200) throw new TtsearchError('network', `${what(name)}: HTTP ${r.status} for a range`);
        const bytes = new Uint8Array(await r.arrayBuffer());
        // A server that ignores Range sends the whole file: keep the part asked for.
        return r.status === 200 ? bytes.subarray(offset, offset + length) : bytes;
      },
    };
  }

  return {
    describe,
    async open(name) {
      if (mode === 'inspect') return ranged(name);
      const result = await whole(name);
      if (!result) return null;
      return blobFile(result.blob, { signal, onRead: (end) => options.onRead?.(name, end, result.size) });
    },
  };
}

/** A folder over paths in Node. */
async function nodeFolder(describe, paths, options) {
  const fs = await nodeBuiltin('node:fs/promises');
  return {
    describe,
    async open(name) {
      const path = paths(name);
      if (!path) return null;
      let handle;
      try {
        handle = await fs.open(path, 'r');
      } catch (error) {
        if (error?.code === 'ENOENT' || error?.code === 'EISDIR') return null;
        throw new TtsearchError('io', `${path}: ${error.message}`);
      }
      const { size } = await handle.stat();
      await handle.close();
      return {
        size,
        async read(offset, length) {
          checkAbort(options.signal);
          const h = await fs.open(path, 'r');
          try {
            const bytes = new Uint8Array(length);
            const { bytesRead } = await h.read(bytes, 0, length, offset);
            options.onRead?.(name, offset + length, size);
            return bytesRead === length ? bytes : bytes.subarray(0, bytesRead);
          } finally {
            await h.close();
          }
        },
      };
    },
  };
}

function isBlob(x) {
  return typeof Blob !== 'undefined' && x instanceof Blob;
}

function baseName(file) {
  const path = file.webkitRelativePath || file.name || '';
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The GGUF among `names` when there is no config.json, else null (safetensors or PyTorch files). */
function weightsOf(names, describe) {
  if (names.includes('config.json')) return null;
  const gguf = names.filter((n) => n.toLowerCase().endsWith('.gguf'));
  if (gguf.length === 1) return gguf[0];
  if (gguf.length > 1) {
    throw new TtsearchError('invalid_argument', `${describe} holds ${gguf.length} GGUF files: give one (the file option)`);
  }
  throw new TtsearchError('format', `${describe} holds neither config.json nor a .gguf file`);
}

/**
 * Resolves `source` with loadModel's `options` to
 * { id, describe, gguf, inspectFiles, loadFiles, remote }.
 */
export async function resolveSource(source, options = {}) {
  const { revision = 'main', hubUrl = 'https://huggingface.co', file, hfToken, signal } = options;
  const headers = hfToken ? { Authorization: `Bearer ${hfToken}` } : {};
  const common = { headers, signal, progress: options.onProgress, useCache: options.cache !== false, onRead: options.onRead };
  if (typeof URL !== 'undefined' && source instanceof URL) source = source.href;

  if (typeof source === 'string') {
    if (isNode && !/^https?:\/\//.test(source)) {
      const fs = await nodeBuiltin('node:fs/promises');
      const path = await nodeBuiltin('node:path');
      const info = await fs.stat(source).catch(() => null);
      if (info?.isDirectory()) {
        const names = await fs.readdir(source);
        const gguf = file ?? weightsOf(names, source);
        const folder = await nodeFolder(source, (name) => path.join(source, name), common);
        return { id: path.resolve(source), describe: source, gguf, inspectFiles: folder, loadFiles: folder, remote: false };
      }
      if (info?.isFile()) {
        const dir = path.dirname(source);
        const name = path.basename(source);
        const folder = await nodeFolder(source, (n) => (n === name ? source : path.join(dir, n)), common);
        return { id: path.resolve(source), describe: source, gguf: name, inspectFiles: folder, loadFiles: folder, remote: false };
      }
    }
    if (/^https?:\/\//.test(source)) {
      const url = new URL(source);
      const last = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
      const isGguf = last.toLowerCase().endsWith('.gguf');
      const base = isGguf ? source.slice(0, source.length - last.length) : source.endsWith('/') ? source : `${source}/`;
      const gguf = isGguf ? decodeURIComponent(last) : (file ?? null);
      return {
        id: base + (isGguf ? last : ''),
        describe: source,
        gguf,
        inspectFiles: urlFolder(source, base, common, { mode: 'inspect' }),
        loadFiles: urlFolder(source, base, common, { mode: 'load' }),
        remote: true,
      };
    }
    if (REPO_ID.test(source)) {
      const base = `${hubUrl.replace(/\/$/, '')}/${source}/resolve/${encodeURIComponent(revision)}/`;
      const describe = revision === 'main' ? source : `${source}@${revision}`;
      return {
        id: describe,
        describe,
        gguf: file ?? null,
        inspectFiles: urlFolder(describe, base, common, { mode: 'inspect' }),
        loadFiles: urlFolder(describe, base, common, { mode: 'load' }),
        remote: true,
      };
    }
    throw new TtsearchError(
      'invalid_argument',
      `model source ${JSON.stringify(source)}: give a hub repo id ("org/name"), a URL, a File, a list of Files or bytes${isNode ? ', or an existing path' : ''}`,
    );
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const blob = new Blob([source]);
    const blobs = new Map([['model.gguf', blob]]);
    const folder = blobFolder('bytes', blobs, common);
    return { id: 'bytes', describe: 'bytes', gguf: 'model.gguf', inspectFiles: folder, loadFiles: folder, remote: false };
  }
  if (isBlob(source)) {
    const name = baseName(source) || 'model.gguf';
    const blobs = new Map([[name, source]]);
    const folder = blobFolder(name, blobs, common);
    return { id: name, describe: name, gguf: file ?? name, inspectFiles: folder, loadFiles: folder, remote: false };
  }
  if (source && typeof source[Symbol.iterator] === 'function' && typeof source !== 'string') {
    const files = [...source];
    if (!files.length || !files.every(isBlob)) {
      throw new TtsearchError('invalid_argument', 'a list of model files must hold Files');
    }
    const blobs = new Map(files.map((f) => [baseName(f), f]));
    const names = [...blobs.keys()];
    const folder = files[0].webkitRelativePath?.split('/')[0] || 'picked files';
    const gguf = file ?? weightsOf(names, folder);
    const f = blobFolder(folder, blobs, common);
    return { id: folder, describe: folder, gguf, inspectFiles: f, loadFiles: f, remote: false };
  }
  throw new TtsearchError('invalid_argument', `model source of type ${typeof source}: see loadModel's documentation`);
}
