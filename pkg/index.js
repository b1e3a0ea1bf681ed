// ttsearch: the npm package's entry point. Models load and searches run in a dedicated module
// Worker by default in browsers (`worker: false` runs them in this thread; Node always does),
// behind the same API. Errors are `Error`s named "TtsearchError" with a stable `code`.
import * as core from './core.js';
import { TtsearchError, deserializeError, isTtsearchError } from './errors.js';

export { TtsearchError, isTtsearchError };

const inBrowser = typeof window !== 'undefined' || (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined');
const canSpawnWorker = typeof Worker !== 'undefined' && typeof window !== 'undefined';

/** Loads and instantiates the WebAssembly module once (`source`: a URL, bytes or a Module). */
export async function load(source) {
  return core.wasmModule(source);
}

/** The version of the ttsearch core inside the module. */
export async function version() {
  return (await load()).version();
}

/** Whether this environment exposes WebGPU (`navigator.gpu`). */
export async function hasWebGpu() {
  return (await load()).hasWebGpu();
}

/**
 * Acquires a WebGPU device with the adapter's own limits. Rejects with a TtsearchError whose
 * code is "no_webgpu", "no_adapter" or "request_device".
 */
export async function createGpu() {
  return (await load()).Gpu.create();
}

// ---- the worker ----

let worker = null; // { worker, pending: Map, generation }
let workerGeneration = 0;
let nextCall = 1;

function startWorker() {
  workerGeneration += 1;
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'ttsearch' });
  const state = { worker: w, pending: new Map(), generation: workerGeneration };
  w.onmessage = ({ data }) => {
    const call = state.pending.get(data.id);
    if (!call) return;
    if (data.kind === 'callback') {
      call.callbacks[data.name]?.(...data.args);
      return;
    }
    state.pending.delete(data.id);
    call.cleanup();
    if (data.kind === 'result') call.resolve(data.value);
    else {
      call.reject(deserializeError(data.error));
      if (data.crashed) stopWorker(state, 'the worker crashed');
    }
  };
  w.onerror = (event) => stopWorker(state, `the worker failed: ${event.message ?? 'unknown error'}`);
  return state;
}

function stopWorker(state, why) {
  state.worker.terminate();
  for (const call of state.pending.values()) {
    call.cleanup();
    call.reject(new TtsearchError('internal', `${why}; the next call starts a new worker`));
  }
  state.pending.clear();
  if (worker === state) worker = null;
}

/** Calls `op` in the worker; `callbacks` receive forwarded calls; `signal` aborts. */
function callWorker(op, args, { callbacks = {}, signal, transfer = [] } = {}) {
  worker ??= startWorker();
  const state = worker;
  if (signal?.aborted) return Promise.reject(new TtsearchError('cancelled', 'cancelled'));
  const id = nextCall++;
  return new Promise((resolve, reject) => {
    const onAbort = () => state.worker.postMessage({ id, op: 'abort' });
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal?.removeEventListener('abort', onAbort);
    state.pending.set(id, { resolve, reject, callbacks, cleanup });
    try {
      state.worker.postMessage({ id, op, args }, transfer);
    } catch (error) {
      state.pending.delete(id);
      cleanup();
      reject(new TtsearchError('invalid_argument', `cannot send this to the worker: ${error.message}`));
    }
  });
}

/** A model living in the worker. */
class WorkerModel {
  constructor({ handle, info, role, prmKind }) {
    this._handle = handle;
    this._generation = workerGeneration;
    this.info = info;
    this.role = role;
    this.prmKind = prmKind;
  }

  _check() {
    if (this._generation !== worker?.generation) {
      throw new TtsearchError('internal', 'the worker that held this model was restarted after a crash: load it again');
    }
  }

  async generate(prompt, options = {}) {
    this._check();
    const { onText, onEvent, signal, ...rest } = options;
    return callWorker('generate', [this._handle, prompt, { ...rest, onText: !!onText, onEvent: !!onEvent }], {
      callbacks: { onText, onEvent },
      signal,
    });
  }

  async score(question, steps, options = {}) {
    this._check();
    const { signal, ...rest } = options;
    return callWorker('score', [this._handle, question, steps, rest], { signal });
  }

  async kvBlocksInUse() {
    this._check();
    return callWorker('kvBlocksInUse', [this._handle]);
  }

  async dispose() {
    if (this._generation !== worker?.generation) return;
    await callWorker('disposeModel', [this._handle]);
  }
}

/** A solver living in the worker. */
class WorkerSolver {
  constructor(handle, models) {
    this._handle = handle;
    this._models = models;
  }

  async solve(problem, params = {}, options = {}) {
    this._models.forEach((m) => m._check());
    const { onEvent, signal } = options;
    return callWorker('solve', [this._handle, problem, params, { onEvent: !!onEvent }], { callbacks: { onEvent }, signal });
  }

  async dispose() {
    if (this._models[0]._generation !== worker?.generation) return;
    await callWorker('disposeSolver', [this._handle]);
  }
}

function useWorker(options) {
  return (options?.worker ?? inBrowser) && canSpawnWorker;
}

// ---- the API ----

/**
 * Loads a model from a hub repo id, a URL, a File/Blob, a list of Files, bytes or (Node) a path;
 * see index.d.ts for the options. Resolves to a model with `info`, `generate`, `score`,
 * `dispose`.
 */
export async function loadModel(source, options = {}) {
  if (!useWorker(options)) return core.loadModel(source, options);
  const { onProgress, signal, worker: _worker, ...rest } = options;
  const transfer = source instanceof ArrayBuffer ? [source] : [];
  // A URL object cannot be posted to a worker; its text can.
  const posted = typeof URL !== 'undefined' && source instanceof URL ? source.href : source;
  const described = await callWorker('loadModel', [posted, { ...rest, onProgress: !!onProgress }], {
    callbacks: { onProgress },
    signal,
    transfer,
  });
  return new WorkerModel(described);
}

/** A solver: `{ policy, prm }`, `{ policy, verifier: 'self' }` or `{ policy }` (no verifier). */
export async function createSolver(options = {}) {
  const { policy, prm } = options;
  if (policy instanceof WorkerModel || prm instanceof WorkerModel) {
    if (!(policy instanceof WorkerModel) || (prm && !(prm instanceof WorkerModel))) {
      throw new TtsearchError('invalid_argument', 'the policy and the PRM must be loaded the same way (both in the worker or both in this thread)');
    }
    policy._check();
    const handle = await callWorker('createSolver', [
      { policy: policy._handle, prm: prm?._handle, verifier: options.verifier, prmKind: options.prmKind },
    ]);
    return new WorkerSolver(handle, prm ? [policy, prm] : [policy]);
  }
  return core.createSolver(options);
}

/** The cached models: [{ id, files: [{ name, url, bytes }], bytes }]. */
export async function listCachedModels() {
  return core.listCachedModels();
}

/** Deletes the cached files of model `id` (as listCachedModels names it). */
export async function deleteCachedModel(id) {
  return core.deleteCachedModel(id);
}

/**
 * `{ buffers, bytes }` held by the WebGPU device that models run on (in the worker when models
 * live there), or null without one.
 */
export async function deviceBufferStats(options = {}) {
  if (useWorker(options) && worker) return callWorker('deviceBufferStats', []);
  return core.deviceBufferStats();
}

/** Bytes of the WebAssembly memory of the instance that runs models (in the worker when they
 * live there). */
export async function wasmMemoryBytes(options = {}) {
  if (useWorker(options)) return callWorker('wasmMemoryBytes', []);
  return core.wasmMemoryBytes();
}

/** `{ liveBytes, peakBytes }` of the wasm heap's allocator, in the worker when one is used. */
export async function heapStats(options = {}) {
  if (useWorker(options)) return callWorker('heapStats', []);
  return core.heapStats();
}

/** Starts a new heap peak from the bytes live now (in the worker when one is used). */
export async function resetHeapPeak(options = {}) {
  if (useWorker(options)) return callWorker('resetHeapPeak', []);
  return core.resetHeapPeak();
}

/** Destroys the WebGPU device models run on, as a loss would (tests of recovery). */
export async function loseDeviceForTesting(options = {}) {
  if (useWorker(options)) return callWorker('loseDeviceForTesting', []);
  return core.loseDeviceForTesting();
}

/** Crashes the instance that runs models on purpose (tests of recovery). */
export async function crashForTesting(options = {}) {
  if (useWorker(options)) return callWorker('crashForTesting', []);
  return core.crashForTesting();
}

// ---- grading and tokenizers (no model needed) ----

/**
 * Grades a prediction (a whole solution text or a bare answer) against a gold answer.
 * Resolves to `{ correct, pred_answer, gold_answer, rule }`.
 */
export async function grade(pred, gold) {
  return (await load()).grade(pred, gold);
}

/** The final answer of a solution text: `{ answer, rule }` (rule: "boxed", "answer_is", ...). */
export async function extractAnswer(text) {
  return (await load()).extractAnswer(text);
}

/** Whether two bare answers are mathematically equivalent ("\\frac12" and "0.5" are). */
export async function isEquivalent(pred, gold) {
  return (await load()).isEquivalent(pred, gold);
}

/** The canonical key of an answer: equal keys mean equivalent answers. */
export async function canonicalForm(answer) {
  return (await load()).canonicalForm(answer);
}

/** Groups answers into vote groups, first seen first: `[{ key, answer, members }]`. */
export async function groupAnswers(answers) {
  return (await load()).groupAnswers(answers);
}

/**
 * A model's tokenizer from the bytes (Uint8Array) of its tokenizer.json and, when available,
 * tokenizer_config.json and generation_config.json. The result has `encode(text,
 * addSpecialTokens)`, `decode(ids, skipSpecialTokens)`, `eosTokenIds` and `mathPrompt(problem,
 * partial?, system?, architecture?)` (resolving to `{ text, ids }`).
 */
export async function loadTokenizer(tokenizerJson, tokenizerConfig, generationConfig) {
  return (await load()).Tokenizer.fromFiles(tokenizerJson, tokenizerConfig, generationConfig);
}

/** A tokenizer from the bytes of a GGUF file (its metadata holds the vocabulary). */
export async function tokenizerFromGguf(bytes) {
  return (await load()).Tokenizer.fromGguf(bytes);
}
