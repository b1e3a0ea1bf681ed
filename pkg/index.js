// ttsearch: the npm package's entry point. Loads the WebAssembly module (browser or Node) and
// re-exports its API. Errors thrown by ttsearch are `Error`s named "TtsearchError" with a `code`.
import init, * as wasm from './wasm/ttsearch_wasm.js';

let ready = null;

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

async function defaultSource() {
  const url = new URL('./wasm/ttsearch_wasm_bg.wasm', import.meta.url);
  if (isNode && url.protocol === 'file:') {
    // Node's fetch cannot read file: URLs; read the bytes instead.
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  return url;
}

/**
 * Loads and instantiates the WebAssembly module, once. `source` is optional: a URL, a Response,
 * bytes or a WebAssembly.Module (default: the .wasm file next to this module).
 */
export function load(source) {
  ready ??= (async () => {
    await init({ module_or_path: source ?? (await defaultSource()) });
    return wasm;
  })().catch((error) => {
    ready = null;
    throw error;
  });
  return ready;
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

/** Whether `error` came from ttsearch (and so carries a stable `code`). */
export function isTtsearchError(error) {
  return error instanceof Error && error.name === 'TtsearchError' && typeof error.code === 'string';
}

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
