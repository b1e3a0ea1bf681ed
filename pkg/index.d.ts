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
  | 'cancelled';

/** An error thrown by ttsearch. */
export interface TtsearchError extends Error {
  name: 'TtsearchError';
  code: TtsearchErrorCode;
}

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
export function isTtsearchError(error: unknown): error is TtsearchError;
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
