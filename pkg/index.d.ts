// Types of the ttsearch npm package.
import type { Gpu, Tokenizer } from './wasm/ttsearch_wasm.js';
export type { Gpu, Tokenizer } from './wasm/ttsearch_wasm.js';

/** Stable codes of the errors ttsearch throws. */
export type TtsearchErrorCode =
  | 'no_webgpu'
  | 'no_adapter'
  | 'request_device'
  | 'device_lost'
  | 'gpu'
  | 'readback'
  | 'buffer_too_large'
  | 'shape'
  | 'invalid_argument'
  | 'format'
  | 'unsupported'
  | 'io'
  | 'kv_cache_full'
  | 'template'
  | 'cancelled'
  | 'not_found'
  | 'unauthorized'
  | 'network'
  | 'out_of_memory'
  | 'internal';

/** An error thrown by ttsearch. */
export interface TtsearchError extends Error {
  name: 'TtsearchError';
  code: TtsearchErrorCode;
}
export const TtsearchError: {
  new (code: TtsearchErrorCode, message: string, options?: { cause?: unknown }): TtsearchError;
};
export function isTtsearchError(error: unknown): error is TtsearchError;

// ---- models ----

/** Where a model comes from. */
export type ModelSource =
  /** A hub repo id ("Qwen/Qwen2.5-0.5B-Instruct"). */
  | string
  /** A URL of a .gguf file or of a folder in the hub's layout (http/https). */
  | URL
  /** A GGUF file. */
  | Blob
  /** The files of a model folder (an `<input webkitdirectory>` selection). */
  | FileList
  | File[]
  /** The bytes of a GGUF file. */
  | ArrayBuffer
  | Uint8Array;

/** What `onProgress` receives while a model loads. */
export type LoadProgress =
  /** A file downloading (or read from the cache): monotone, ending with loaded == total. */
  | { phase: 'download'; file: string; loaded: number; total: number }
  /** A file read into the model: monotone, ending with loaded == total. */
  | { phase: 'load'; file: string; loaded: number; total: number }
  /** A file could not be cached (a full quota): the load goes on with it uncached. */
  | { phase: 'cache'; file: string; cached: false; reason: string }
  /** Where the model will run, in which format, and how many bytes it takes there. */
  | { phase: 'device'; device: 'webgpu' | 'cpu'; reason: string; dtype: WeightFormat; totalBytes: number }
  /** Loaded. */
  | { phase: 'ready'; source: string };

/**
 * Weight formats in the engine. "gguf": a GGUF file's own quantized blocks (Q8_0, Q4_0, Q5_0,
 * Q4_K, Q5_K, Q6_K; other types load as q8), read as they are by the WebGPU kernels and computed
 * with int8 products on the CPU. "auto": the file's own float format, and "gguf" for quantized
 * GGUF files.
 */
export type WeightFormat = 'f32' | 'f16' | 'q8' | 'q4' | 'gguf';

/** PRM families. */
export type PrmKind = 'skywork' | 'qwen-prm' | 'rlhflow' | 'math-shepherd' | 'trl' | 'generative';

export interface LoadModelOptions {
  /** Weight format (default "auto"). */
  dtype?: WeightFormat | 'auto';
  /** "webgpu", "cpu", or "auto" (default: WebGPU when an adapter exists, else the CPU). */
  device?: 'webgpu' | 'cpu' | 'auto';
  /** "policy" or "prm" (default: "prm" when the checkpoint has a PRM head). */
  role?: 'policy' | 'prm';
  /** The PRM family (default: from the config and head; "generative" for a chat model as verifier). */
  prmKind?: PrmKind;
  /**
   * The step separator of a TRL PRM ("trl": a *ForTokenClassification model trained by
   * PRMTrainer); default: the `step_separator` its training_args.bin records, else "\n\n".
   */
  prmSeparator?: string;
  /** Hub revision (default "main"). */
  revision?: string;
  /** Hub address (default "https://huggingface.co"). */
  hubUrl?: string;
  /** The GGUF file of a GGUF repo (or the one among picked files). */
  file?: string;
  /** A hub access token, sent as a bearer token (gated repos answer 401 without one). */
  hfToken?: string;
  /** Keep downloads in Cache Storage (default true). */
  cache?: boolean;
  /** KV-cache bytes (default 256 MiB). */
  kvBytes?: number;
  /** KV-cache blocks (overrides kvBytes). */
  kvBlocks?: number;
  /** Positions per KV block (default 16). */
  blockSize?: number;
  /** The most bytes the model may take on its device, weights and KV cache. */
  maxBytes?: number;
  /** Run in a dedicated Worker (default true in browsers; Node runs in its thread). */
  worker?: boolean;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

/** What a loaded model is. */
export interface ModelInfo {
  id: string;
  source: string;
  architecture: 'Qwen2' | 'Llama' | 'Gemma3';
  layers: number;
  parameters: number;
  dtype: WeightFormat;
  /** "gpu" or "cpu". */
  backend: 'gpu' | 'cpu';
  device: 'webgpu' | 'cpu';
  deviceReason: string;
  /** Bytes of weights and KV cache on the GPU (0 on the CPU backend). */
  deviceBytes: number;
  kvBlocks: number;
  blockSize: number;
  contextLength: number;
  vocabSize: number;
  /** [text, id] of the BOS token, when the tokenizer has one. */
  bosToken: [string, number] | null;
  /** The tokens that end generation (the config's and the tokenizer's). */
  eosTokenIds: number[];
  chatTemplate: boolean;
  hasPrmHead: boolean;
  /** The PRM family the head implies, when it has one. */
  prmKind: PrmKind | null;
}

export interface GenerateOptions {
  /** Continuations sampled together (default 1). */
  n?: number;
  /** 0 is greedy (default 0). */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** New tokens at most per continuation (default 256). */
  maxTokens?: number;
  /** Strings that end a continuation (kept in its text). */
  stop?: string[];
  stopTokenIds?: number[];
  seed?: number;
  /** Top logprobs per token (at most 20). */
  logprobs?: number;
  ignoreEos?: boolean;
  /** New text of continuation `index` as it becomes valid UTF-8. */
  onText?: (piece: string, index: number) => void;
  /** Throttled progress events. */
  onEvent?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  outputs: { text: string; tokens: number[]; finishReason: 'eos' | 'length' | 'stop'; logprobs: (number | null)[] }[];
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
}

export interface Model {
  readonly info: ModelInfo;
  readonly role: 'policy' | 'prm';
  readonly prmKind: PrmKind | null;
  /** Samples continuations of `prompt`: text (no chat template applied) or token ids. */
  generate(prompt: string | number[] | Uint32Array, options?: GenerateOptions): Promise<GenerateResult>;
  /** One score in [0, 1] per step, the model read as a PRM (of `options.kind`). */
  score(question: string, steps: string[], options?: { kind?: PrmKind; signal?: AbortSignal }): Promise<number[]>;
  /** KV blocks the model holds now (0 between calls). */
  kvBlocksInUse(): Promise<number>;
  /** Frees the weights and cache (after calls already started). */
  dispose(): Promise<void>;
}

export function loadModel(source: ModelSource, options?: LoadModelOptions): Promise<Model>;

// ---- search ----

export type Strategy = 'cot' | 'majority' | 'bon' | 'weighted-bon' | 'beam' | 'dvts' | 'auto';

/** Search parameters: camelCase forms of search-and-learn's (defaults in parentheses). */
export interface SearchParams {
  /** (beam) */
  strategy?: Strategy;
  /** Budget: samples, beams or leaves (4). */
  n?: number;
  /** M: beams kept per survivor, candidates per DVTS step (4). */
  beamWidth?: number;
  /** Most steps per path (40). */
  numIterations?: number;
  /** Greedy rollout steps scored with each candidate (0). */
  lookahead?: number;
  /** Step-score aggregation (last). */
  aggStrategy?: 'last' | 'min' | 'prod' | 'mean';
  /** (0.8) */
  temperature?: number;
  /** (1.0) */
  topP?: number;
  /** Tokens per generate call (2048). */
  maxTokens?: number;
  /** (42) */
  seed?: number;
  filterDuplicates?: boolean;
  sortCompleted?: boolean;
  shrinkWidth?: boolean;
  autoProbes?: number;
  /** AIME-level problems (the compute-optimal rules for competitions). */
  competition?: boolean;
}

/** Throttled work counters while a search or a generation runs. */
export interface ProgressEvent {
  event: 'progress';
  phase?: 'decode';
  generatedTokens: number;
  tokensPerSecond?: number;
  kvBlocksInUse?: number;
  kvBlocksPeak?: number;
  kvBlocks?: number;
  prmTokensFed?: number;
  prmRescoreTokens?: number;
  policyKvBlocks?: number;
  seconds?: number;
}

/** A search event: enough to draw the tree (node 0 is the prompt). */
export type SearchEvent =
  | { event: 'started'; strategy: Strategy; n: number; beamWidth: number; numIterations: number; lookahead: number }
  | { event: 'auto_chose'; strategy: Strategy; n: number; difficulty: number; reason: string; probes: number; agreement: number; meanScore: number | null }
  | { event: 'step_proposed'; node: number; parent: number; iteration: number; text: string; scores: number[]; aggregated: number }
  | { event: 'pruned'; node: number; iteration: number; reason: 'score' | 'duplicate' | 'sibling' }
  | { event: 'completed'; node: number; iteration: number; text: string; aggregated: number; answer: string }
  | { event: 'answer_changed'; answer: string }
  | { event: 'finished'; answer: string | null; completions: number }
  | ProgressEvent;

export interface Completion {
  text: string;
  steps: string[];
  stepScores: number[];
  aggregated: number;
  answer: string;
  tokens: number;
}

export interface SolveResult {
  answer: string | null;
  strategy: Strategy;
  completions: Completion[];
  selection: {
    naive: string | null;
    weighted: string | null;
    majority: string | null;
    /** Answer groups: votes (members) and summed aggregated scores. */
    groups: { answer: string; votes: number; weight: number; members: number[] }[];
  };
  report: {
    policyPrefillTokens: number;
    policyDecodeTokens: number;
    generatedTokens: number;
    policyResubmittedTokens: number;
    prmTokensFed: number;
    prmRescoreTokens: number;
    policyKvBlocksPeak: number;
    prmKvBlocksPeak: number;
    iterations: number;
    seconds: { prefill: number; generate: number; score: number; total: number };
  };
  auto?: { strategy: Strategy; n: number; difficulty: number; reason: string };
}

export interface Solver {
  solve(
    problem: string,
    params?: SearchParams,
    options?: { onEvent?: (event: SearchEvent) => void; signal?: AbortSignal },
  ): Promise<SolveResult>;
  dispose(): Promise<void>;
}

export function createSolver(options: {
  policy: Model;
  prm?: Model;
  verifier?: 'self';
  prmKind?: PrmKind;
}): Promise<Solver>;

/** The cached models and their files. */
export function listCachedModels(): Promise<{ id: string; files: { name: string; url: string; bytes: number }[]; bytes: number }[]>;
/** Deletes a cached model's files; resolves to how many were deleted. */
export function deleteCachedModel(id: string): Promise<number>;
/** Buffers and bytes the WebGPU device that models run on holds, or null. */
export function deviceBufferStats(options?: { worker?: boolean }): Promise<{ buffers: number; bytes: number } | null>;
/** Bytes of the WebAssembly memory of the instance that runs models. */
export function wasmMemoryBytes(options?: { worker?: boolean }): Promise<number>;
/** Bytes the wasm heap's allocator holds now, and the most it held at once. */
export interface HeapStats {
  liveBytes: number;
  peakBytes: number;
}
/** The wasm heap's allocator counts (in the worker when one is used). */
export function heapStats(options?: { worker?: boolean }): Promise<HeapStats>;
/** Starts a new heap peak from the bytes live now. */
export function resetHeapPeak(options?: { worker?: boolean }): Promise<void>;
/** Destroys the WebGPU device models run on, as a loss would (tests of recovery). */
export function loseDeviceForTesting(options?: { worker?: boolean }): Promise<void>;
/** Crashes the instance that runs models (tests of recovery). */
export function crashForTesting(options?: { worker?: boolean }): Promise<void>;

// ---- the GPU, grading and tokenizers ----

/** The adapter and the limits of the device ttsearch created. */
export interface AdapterReport {
  name: string;
  backend: string;
  device_type: string;
  driver: string;
  driver_info: string;
  shader_f16: boolean;
  limits: {
    max_buffer_size: number;
    max_storage_buffer_binding_size: number;
    max_storage_buffers_per_shader_stage: number;
    max_compute_workgroup_storage_size: number;
    max_compute_invocations_per_workgroup: number;
    max_compute_workgroups_per_dimension: number;
  };
}

/** One kernel on one shape in a self-check. */
export interface CheckCase {
  kernel: string;
  shape: number[];
  max_abs_error: number;
  tolerance: number;
  passed: boolean;
}

/** The result of `Gpu.selfCheck(seed)`. */
export interface SelfCheckReport {
  seed: number;
  cases: CheckCase[];
  passed: boolean;
}

/** Which rule found the answer in a solution text. */
export type ExtractRule = 'boxed' | 'fbox' | 'final_answer_is' | 'answer_is' | 'bare' | 'last_number' | 'none';

/** The verdict on one prediction. */
export interface Grade {
  correct: boolean;
  pred_answer: string;
  gold_answer: string;
  rule: ExtractRule;
}

/** A vote group of equivalent answers. */
export interface AnswerGroup {
  key: string;
  answer: string;
  members: number[];
}

export function load(source?: URL | string | Response | BufferSource | WebAssembly.Module): Promise<unknown>;
export function version(): Promise<string>;
export function hasWebGpu(): Promise<boolean>;
export function createGpu(): Promise<Gpu>;
export function grade(pred: string, gold: string): Promise<Grade>;
export function extractAnswer(text: string): Promise<{ answer: string; rule: ExtractRule }>;
export function isEquivalent(pred: string, gold: string): Promise<boolean>;
export function canonicalForm(answer: string): Promise<string>;
export function groupAnswers(answers: string[]): Promise<AnswerGroup[]>;
export function loadTokenizer(
  tokenizerJson: Uint8Array,
  tokenizerConfig?: Uint8Array,
  generationConfig?: Uint8Array,
): Promise<Tokenizer>;
export function tokenizerFromGguf(bytes: Uint8Array): Promise<Tokenizer>;
