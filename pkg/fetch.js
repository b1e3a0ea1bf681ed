// Downloads of model files: progress per file, Cache Storage keyed by the requested URL (the
// revision is part of a hub URL), typed errors for what a server answers, and a size check that
// keeps truncated downloads out of the cache. Files are held as Blobs (outside the wasm heap) and
// read by ranges as the loader asks for tensors.
import { TtsearchError } from './errors.js';

/** The Cache Storage bucket of ttsearch's downloads. */
export const CACHE_NAME = 'ttsearch-models-v1';

/** Marks a cached answer "this file does not exist" (a 404 of an optional file). */
const ABSENT = 'x-ttsearch-absent';

/**
 * What the cache holds for `url`: undefined (nothing), null (the file is known to be absent)
 * or its Blob.
 */
export async function cached(cache, url) {
  const hit = cache ? await cache.match(url) : undefined;
  if (!hit) return undefined;
  if (hit.headers.get(ABSENT)) return null;
  return hit.blob();
}

/** Cache Storage, where this environment has it (browsers and workers; not Node). */
export async function modelCache() {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null;
  }
}

/**
 * The error of an HTTP status. The hub answers 401 with X-Error-Code RepoNotFound for a repo
 * that does not exist (or that a private one hides), GatedRepo for one that needs a token.
 */
export function statusError(status, url, what, errorCode = null) {
  if (status === 404) return new TtsearchError('not_found', `${what}: ${url} does not exist (HTTP 404)`);
  if (errorCode === 'RepoNotFound') {
    return new TtsearchError(
      'not_found',
      `${what}: the repository does not exist (HTTP ${status} from ${url}; a private one needs an access token, the hfToken option)`,
    );
  }
  if (status === 401 || status === 403) {
    return new TtsearchError(
      'unauthorized',
      `${what}: the server refused ${url} (HTTP ${status}); a gated or private repository needs an access token (the hfToken option)`,
    );
  }
  return new TtsearchError('network', `${what}: ${url} answered HTTP ${status}`);
}

function abortError(signal) {
  const reason = signal?.reason;
  return new TtsearchError('cancelled', `cancelled${reason?.message ? `: ${reason.message}` : ''}`);
}

/**
 * Fetches `url` into a Blob, from the cache when it holds it. `progress(loaded, total)` is called
 * with monotone byte counts and once more with loaded == total at the end. Resolves to
 * { blob, size, fromCache, cached, cacheError }.
 */
export async function download(url, { headers = {}, signal, progress, what = url, optional = false, useCache = true } = {}) {
  const cache = useCache ? await modelCache() : null;
  const hit = await cached(cache, url);
  if (hit === null) return null;
  if (hit) {
    const blob = hit;
    progress?.(blob.size, blob.size);
    return { blob, size: blob.size, fromCache: true, cached: true, cacheError: null };
  }
  if (signal?.aborted) throw abortError(signal);
  let response;
  try {
    response = await fetch(url, { headers, signal });
  } catch (error) {
    if (signal?.aborted) throw abortError(signal);
    throw new TtsearchError('network', `${what}: ${url}: ${error?.message ?? error}`);
  }
  if (!response.ok) {
    if (optional && response.status === 404) {
      // Remembered, so that a cached model loads with no request at all.
      await cache?.put(url, new Response('', { headers: { [ABSENT]: '1' } })).catch(() => {});
      return null;
    }
    throw statusError(response.status, url, what, response.headers.get('x-error-code'));
  }
  const declared = Number(response.headers.get('content-length') ?? response.headers.get('x-linked-size') ?? NaN);
  const total = Number.isFinite(declared) ? declared : null;
  // Chunks go into Blobs every 32 MiB, so that a large file leaves the JS heap as it arrives.
  const parts = [];
  let pending = [];
  let pendingBytes = 0;
  let loaded = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending.push(value);
      pendingBytes += value.byteLength;
      loaded += value.byteLength;
      if (pendingBytes >= 32 << 20) {
        parts.push(new Blob(pending));
        pending = [];
        pendingBytes = 0;
      }
      progress?.(loaded, total ?? loaded);
    }
  } catch (error) {
    if (signal?.aborted) throw abortError(signal);
    throw new TtsearchError('network', `${what}: the download of ${url} broke off after ${loaded} bytes: ${error?.message ?? error}`);
  }
  parts.push(new Blob(pending));
  if (total !== null && loaded !== total) {
    throw new TtsearchError('network', `${what}: ${url} is truncated: ${loaded} of ${total} bytes arrived`);
  }
  const blob = new Blob(parts);
  progress?.(blob.size, blob.size);
  let stored = false;
  let cacheError = null;
  if (cache) {
    try {
      await cache.put(url, new Response(blob, { headers: { 'Content-Length': String(blob.size) } }));
      stored = true;
    } catch (error) {
      // A full quota does not fail the load: the file is used uncached.
      cacheError = error?.name === 'QuotaExceededError' ? 'quota' : String(error?.message ?? error);
    }
  }
  return { blob, size: blob.size, fromCache: false, cached: stored, cacheError };
}

/** The cached files grouped by model: [{ id, files: [{ name, url, bytes }], bytes }]. */
export async function listCached() {
  const cache = await modelCache();
  if (!cache) return [];
  const models = new Map();
  for (const request of await cache.keys()) {
    const { id, name } = modelOfUrl(request.url);
    const response = await cache.match(request);
    if (response?.headers.get(ABSENT)) continue;
    const bytes = Number(response?.headers.get('content-length') ?? 0) || (await response.blob()).size;
    const entry = models.get(id) ?? { id, files: [], bytes: 0 };
    entry.files.push({ name, url: request.url, bytes });
    entry.bytes += bytes;
    models.set(id, entry);
  }
  return [...models.values()];
}

/** Deletes every cached file of model `id` (as `listCached` names it); resolves to the count. */
export async function deleteCached(id) {
  const cache = await modelCache();
  if (!cache) return 0;
  let deleted = 0;
  for (const request of await cache.keys()) {
    if (modelOfUrl(request.url).id === id && (await cache.delete(request))) deleted += 1;
  }
  return deleted;
}

/**
 * The model a cached URL belongs to: "org/name" for hub URLs at revision main, "org/name@rev"
 * at another revision, else the URL's folder; and the file's name.
 */
export function modelOfUrl(url) {
  const u = new URL(url);
  const hub = /^(.*?)\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname);
  if (hub) {
    const [, , repo, revision, file] = hub;
    return { id: revision === 'main' ? repo : `${repo}@${revision}`, name: decodeURIComponent(file) };
  }
  const slash = u.pathname.lastIndexOf('/');
  return { id: `${u.origin}${u.pathname.slice(0, slash)}`, name: decodeURIComponent(u.pathname.slice(slash + 1)) };
}
