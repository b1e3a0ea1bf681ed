// The API running in this thread: the WebAssembly module, models, solvers, generation and
// scoring, with progress, events, cancellation, and recovery from a crashed instance. The
// package's index.js uses it directly (`worker: false`, Node) or inside a Worker (worker.js).
import { TtsearchError, isTtsearchError } from './errors.js';
import { resolveSource } from './sources.js';
import { deleteCached, listCached } from './fetch.js';
import { isNode, nodeBuiltin } from './node.js';


let current = null; // { wasm, generation }
let generation = 0;

async function wasmSource(glue) {
  const url = new URL('./wasm/ttsearch_wasm_bg.wasm', import.meta.url);
  if (isNode && url.protocol === 'file:') {
    const { readFile } = await nodeBuiltin('node:fs/promises');
    return readFile(url);
  }
  return url;
}

/**
 * The WebAssembly module, instantiated once; after a crash (a panic aborts the instance) the
 * next call instantiates it anew from a fresh copy of the glue module.
 */
export async function wasmModule(source) {
  if (current && !current.dead) return current.wasm;
  generation += 1;
  const glue = generation === 1
    ? await import('./wasm/ttsearch_wasm.js')
    : await import(`./wasm/ttsearch_wasm.js?instance=${generation}`);
  const exports = await glue.default({ module_or_path: source ?? (await wasmSource(glue)) });
  current = { wasm: glue, exports, generation, dead: false };
  return glue;
}

/** Runs `f` on the module; a crash of the instance becomes a TtsearchError "internal". */
async function guarded(f) {
  const wasm = await wasmModule();
  const mine = current;
  try {
    return await f(wasm);
  } catch (error) {
    if (isTtsearchError(error)) throw error;
    if (error instanceof WebAssembly.RuntimeError || /unreachable|memory access out of bounds/i.test(String(error))) {
      mine.dead = true;
      const panic = globalThis.__ttsearchPanic;
      globalThis.__ttsearchPanic = undefined;
      throw new TtsearchError('internal', `ttsearch crashed${panic ? `: ${panic}` : ` (${error.message})`}; the next call starts a fresh instance`, { cause: error });
    }
    if (error?.name === 'AbortError') throw new TtsearchError('cancelled', 'cancelled');
    throw new TtsearchError('internal', String(error?.message ?? error), { cause: error });
  }
}

/** A deep copy of `value` with object keys in camelCase (values are left as they are). */
export function camel(value) {
  if (Array.isArray(value)) return value.map(camel);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), camel(v)]),
    );
  }
  return value;
}

/** One heavy call at a time (they share one device), in call order. */
let queue = Promise.resolve();
function serialized(f) {
  const run = queue.then(f, f);
  queue = run.catch(() => {});
  return run;
}

function checkAbort(signal) {
  if (signal?.aborted) throw new TtsearchError('cancelled', 'cancelled');
}

/** A Cancel handle of `wasm` wired to `signal`; `done()` detaches it. */
function cancelFor(wasm, signal) {
  const cancel = new wasm.Cancel();
  const onAbort = () => cancel.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  return { cancel, done: () => signal?.removeEventListener('abort', onAbort) };
}

/** Resolves once the event loop has run (so that messages, timers and aborts get through). */
function yieldToEventLoop() {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * The per-decode-step hook: a throttled progress event (tokens generated, tokens/s, KV blocks)
 * and, on the CPU backend, a turn of the event loop.
 */
function stepHook({ onEvent, cpu, kvBlocks }) {
  const start = performance.now();
  let last = 0;
  return (counters) => {
    const now = performance.now();
    if (onEvent && now - last >= 200) {
      last = now;
      const seconds = (now - start) / 1000;
      onEvent({
        event: 'progress',
        phase: 'decode',
        generatedTokens: counters.generated_tokens,
        tokensPerSecond: seconds > 0 ? counters.generated_tokens / seconds : 0,
        kvBlocksInUse: counters.kv_blocks_in_use,
        kvBlocksPeak: counters.kv_blocks_peak,
        kvBlocks,
      });
    }
    return cpu ? yieldToEventLoop() : undefined;
  };
}

/** The device memory a model may take when the caller gives no limit. */
function defaultMaxBytes(device) {
  // wasm32 memory: the CPU backend's weights and cache must fit 4 GiB with room to spare.
  const wasmLimit = 3.5 * 2 ** 30;
  const ram = typeof navigator !== 'undefined' && navigator.deviceMemory ? navigator.deviceMemory * 2 ** 30 : null;
  if (device === 'cpu') return wasmLimit;
  return ram ? Math.max(ram / 2, 2 ** 30) : 8 * 2 ** 30;
}

const DTYPES = ['auto', 'f32', 'f16', 'q8', 'q4', 'gguf'];
const DEVICES = ['auto', 'webgpu', 'cpu'];

/** A loaded model. */
export class Model {
  constructor(inner, info, options) {
    this._inner = inner;
    this._generation = current.generation;
    this.info = info;
    this.role = options.role ?? (info.hasPrmHead ? 'prm' : 'policy');
    this.prmKind = options.prmKind ?? info.prmKind ?? null;
  }

  _live() {
    if (this._generation !== current?.generation || current?.dead) {
      throw new TtsearchError('internal', 'this model belonged to an instance that crashed: load it again');
    }
    if (this._inner.disposed) throw new TtsearchError('invalid_argument', 'this model was disposed');
    return this._inner;
  }

  /**
   * Samples continuations of `prompt` (text, tokenized without a chat template, or token ids).
   * Options: n, temperature, topP, topK, maxTokens, stop, stopTokenIds, seed, logprobs,
   * ignoreEos, onText(piece, index), onEvent, signal.
   */
  generate(prompt, options = {}) {
    const { onText, onEvent, signal, ...rest } = options;
    return serialized(() =>
      guarded(async (wasm) => {
        checkAbort(signal);
        const inner = this._live();
        const { cancel, done } = cancelFor(wasm, signal);
        try {
          const hook = stepHook({ onEvent, cpu: this.info.backend === 'cpu', kvBlocks: this.info.kvBlocks });
          const text = onText ? (index, piece) => onText(piece, index) : undefined;
          return camel(await inner.generate(prompt, rest, text, hook, cancel));
        } finally {
          done();
        }
      }),
    );
  }

  /** One score per step for `question` (the model read as a PRM; `options.kind` overrides). */
  score(question, steps, options = {}) {
    return serialized(() =>
      guarded(async () => {
        checkAbort(options.signal);
        const inner = this._live();
        const scores = await inner.score(question, steps, options.kind ?? this.prmKind ?? undefined);
        return Array.from(scores);
      }),
    );
  }

  /** KV blocks in use now (0 between calls). */
  async kvBlocksInUse() {
    return this._inner.disposed ? 0 : (this._inner.kvBlocksInUse() ?? 0);
  }

  /** Frees the model's weights and cache (after the calls already queued). */
  dispose() {
    return serialized(async () => {
      if (this._generation === current?.generation && !current.dead) this._inner.dispose();
    });
  }
}

/** A policy with its verifier. */
export class Solver {
  constructor(inner, models) {
    this._inner = inner;
    this._models = models;
  }

  /**
   * Searches for the answer to `problem`. `params`: camelCase search-and-learn parameters
   * (strategy, n, beamWidth, numIterations, lookahead, aggStrategy, temperature, topP,
   * maxTokens, seed, filterDuplicates, sortCompleted, shrinkWidth, autoProbes, competition).
   * `options`: onEvent(event), signal.
   */
  solve(problem, params = {}, options = {}) {
    const { onEvent, signal } = options;
    return guarded(async () => {
      // Invalid parameters reject before any work, even behind other calls.
      this._models.forEach((m) => m._live());
      this._inner.check(params);
      return serialized(() =>
        guarded(async (wasm) => {
          checkAbort(signal);
          this._models.forEach((m) => m._live());
          const { cancel, done } = cancelFor(wasm, signal);
          const policy = this._models[0];
          const hook = stepHook({ onEvent, cpu: policy.info.backend === 'cpu', kvBlocks: policy.info.kvBlocks });
          const events = onEvent ? (e) => onEvent(camel(e)) : undefined;
          try {
            return camel(await this._inner.solve(problem, params, events, hook, cancel));
          } finally {
            done();
          }
        }),
      );
    });
  }

  /** Releases the solver (the models stay loaded). */
  async dispose() {
    this._inner.free?.();
  }
}

function validate(options) {
  if (options.dtype !== undefined && !DTYPES.includes(options.dtype)) {
    throw new TtsearchError('invalid_argument', `dtype ${JSON.stringify(options.dtype)}: use ${DTYPES.join(', ')}`);
  }
  if (options.device !== undefined && !DEVICES.includes(options.device)) {
    throw new TtsearchError('invalid_argument', `device ${JSON.stringify(options.device)}: use ${DEVICES.join(', ')}`);
  }
  if (options.prmSeparator !== undefined && typeof options.prmSeparator !== 'string') {
    throw new TtsearchError('invalid_argument', 'prmSeparator must be a string');
  }
}

/**
 * Loads a model (see index.d.ts for the sources and options). Reads the headers first and
 * checks the size against the device before any weights are downloaded.
 */
export async function loadModel(source, options = {}) {
  validate(options);
  const { onProgress, signal } = options;
  checkAbort(signal);
  const reads = new Map();
  const onRead = (file, end, total) => {
    const loaded = Math.min(Math.max(reads.get(file)?.loaded ?? 0, end), total);
    reads.set(file, { loaded, total });
    onProgress?.({ phase: 'load', file, loaded, total });
  };
  const resolved = await resolveSource(source, { ...options, onProgress, onRead });
  const args = {
    gguf: resolved.gguf ?? undefined,
    dtype: options.dtype ?? 'auto',
    device: options.device ?? 'auto',
    kvBlocks: options.kvBlocks,
    kvBytes: options.kvBytes,
    blockSize: options.blockSize,
    prmSeparator: options.prmSeparator,
  };
  return serialized(() =>
    guarded(async (wasm) => {
      const plan = await wasm.Model.inspect(resolved.inspectFiles, {
        ...args,
        maxBytes: options.maxBytes ?? defaultMaxBytes(args.device === 'cpu' ? 'cpu' : undefined),
      });
      onProgress?.({ phase: 'device', device: plan.device, reason: plan.deviceReason, dtype: plan.dtype, totalBytes: plan.totalBytes });
      if (plan.device === 'cpu' && args.device !== 'cpu' && options.maxBytes === undefined && plan.totalBytes > defaultMaxBytes('cpu')) {
        throw new TtsearchError('out_of_memory', `the model needs ${(plan.totalBytes / 1e6).toFixed(0)} MB, more than the CPU backend's memory allows: try a smaller dtype`);
      }
      checkAbort(signal);
      const inner = await wasm.Model.load(resolved.loadFiles, {
        ...args,
        device: plan.device === 'webgpu' ? 'webgpu' : 'cpu',
        dtype: plan.dtype,
        kvBlocks: plan.kvBlocks,
      });
      for (const [file, { total }] of reads) onProgress?.({ phase: 'load', file, loaded: total, total });
      onProgress?.({ phase: 'ready', source: resolved.describe });
      const info = camel({ ...inner.info, id: resolved.id });
      info.device = plan.device;
      info.deviceReason = plan.deviceReason;
      return new Model(inner, info, options);
    }),
  );
}

/** A solver: `{ policy, prm, prmKind }`, `{ policy, verifier: 'self' }` or `{ policy }`. */
export async function createSolver({ policy, prm, verifier, prmKind } = {}) {
  if (!(policy instanceof Model)) throw new TtsearchError('invalid_argument', 'createSolver needs a policy model from loadModel');
  return guarded(async (wasm) => {
    const p = policy._live();
    if (prm) {
      if (!(prm instanceof Model)) throw new TtsearchError('invalid_argument', 'prm must be a model from loadModel');
      if (verifier === 'self') throw new TtsearchError('invalid_argument', "give a prm or verifier: 'self', not both");
      return new Solver(wasm.Solver.withPrm(p, prm._live(), prmKind ?? prm.prmKind ?? undefined), [policy, prm]);
    }
    if (verifier === 'self') return new Solver(wasm.Solver.selfVerified(p), [policy]);
    if (verifier !== undefined) throw new TtsearchError('invalid_argument', `verifier ${JSON.stringify(verifier)}: the only verifier is 'self' (or give a prm)`);
    return new Solver(wasm.Solver.policyOnly(p), [policy]);
  });
}

/** The cached models: [{ id, files: [{ name, url, bytes }], bytes }]. */
export function listCachedModels() {
  return listCached();
}

/** Deletes a cached model's files; resolves to how many were deleted. */
export function deleteCachedModel(id) {
  return deleteCached(id);
}

/** `{ buffers, bytes }` the shared WebGPU device holds, or null without one. */
export async function deviceBufferStats() {
  return guarded(async (wasm) => wasm.deviceBufferStats());
}

/** Bytes of the module's memory (the wasm heap). */
export async function wasmMemoryBytes() {
  await wasmModule();
  return current.exports.memory.buffer.byteLength;
}

/** `{ liveBytes, peakBytes }` of the wasm heap's allocator (peak since start or `resetHeapPeak`). */
export async function heapStats() {
  const wasm = await wasmModule();
  return wasm.heapStats();
}

/** Starts a new heap peak from the bytes live now. */
export async function resetHeapPeak() {
  const wasm = await wasmModule();
  wasm.resetHeapPeak();
}

/** Destroys the WebGPU device as a loss would (tests of recovery). */
export async function loseDeviceForTesting() {
  return guarded(async (wasm) => wasm.loseDeviceForTesting());
}

/** Panics inside the module on purpose (tests of crash recovery). */
export function crashForTesting() {
  return guarded(async (wasm) => wasm.panicForTesting());
}
