// The model presets: every hub repo id and file name the page uses, in one place. A preset
// pairs a policy with a PRM (or self-verification) and says what it will download and about
// how much GPU memory it takes, before anything downloads. `?presets=URL` replaces the list
// with a JSON array of the same shape (the tests point it at the tiny fixture models).

const GB = 1e9;

// Device bytes: parameters x 0.5625 (q4) or 1.0625 (q8) bytes, plus the 256 MiB KV cache.
// The GGUF files are bartowski's where Qwen's own repos are larger (they store the tied
// embedding twice); Llama 3.2 is bartowski's ungated copy of meta-llama's gated weights.

/** Skywork's 1.5B PRM: a Qwen2.5-Math-1.5B with a value head, shipped as one bf16 pytorch_model.bin. */
const SKYWORK_1_5B = { source: 'Skywork/Skywork-o1-Open-PRM-Qwen-2.5-1.5B', dtype: 'q8' };
const SKYWORK_BYTES = 3.09 * GB;

/**
 * HuggingFaceH4's 1.5B PRM, trained with TRL's PRMTrainer by search-and-learn's recipe (a
 * Qwen2.5-Math-1.5B-Instruct token classifier, step separator "\n\n"), one model.safetensors.
 * Its size here assumes bf16 weights like Skywork's (not checked against the hub).
 */
const H4_PRM_1_5B = { source: 'HuggingFaceH4/Qwen2.5-Math-1.5B-Instruct-PRM-0.2', dtype: 'q8' };
const H4_PRM_BYTES = 3.09 * GB;

/**
 * A preset: { id, label, note, policy, prm?, verifier?, downloadBytes, deviceBytes, params? }.
 * `policy`/`prm`: { source, file?, hubUrl?, dtype } as loadModel takes them; a `hubUrl`
 * starting with "/" is on this page's origin. `params`: search defaults for this preset.
 */
export const PRESETS = [
  {
    id: 'gemma-270m-offline',
    label: 'Gemma 3 270M, self-verifying (offline)',
    note:
      'A 270M-parameter base model that also judges its own steps. It runs with no internet ' +
      '(this server hands it out), and it shows the machinery, not accuracy: expect wrong answers.',
    policy: { source: 'local/gemma-3-270m-GGUF', file: 'gemma-3-270m-q4_k_m.gguf', hubUrl: '/hub', dtype: 'q8' },
    verifier: 'self',
    downloadBytes: 253_113_024,
    deviceBytes: 0.55 * GB,
    params: { strategy: 'beam', n: 4, beamWidth: 2, numIterations: 6, maxTokens: 96 },
  },
  {
    id: 'qwen-0.5b-skywork',
    label: 'Qwen2.5 0.5B Instruct + Skywork PRM 1.5B',
    note: 'The smallest policy, with a real PRM.',
    policy: { source: 'bartowski/Qwen2.5-0.5B-Instruct-GGUF', file: 'Qwen2.5-0.5B-Instruct-Q4_K_M.gguf', dtype: 'q4' },
    prm: SKYWORK_1_5B,
    downloadBytes: 397_808_192 + SKYWORK_BYTES,
    deviceBytes: 0.55 * GB + 1.9 * GB,
  },
  {
    id: 'qwen-1.5b-skywork',
    label: 'Qwen2.5 1.5B Instruct + Skywork PRM 1.5B',
    note: 'A stronger general policy with the same PRM.',
    policy: { source: 'bartowski/Qwen2.5-1.5B-Instruct-GGUF', file: 'Qwen2.5-1.5B-Instruct-Q4_K_M.gguf', dtype: 'q4' },
    prm: SKYWORK_1_5B,
    downloadBytes: 986_048_768 + SKYWORK_BYTES,
    deviceBytes: 1.15 * GB + 1.9 * GB,
  },
  {
    id: 'qwen-math-1.5b-skywork',
    label: 'Qwen2.5-Math 1.5B Instruct + Skywork PRM 1.5B',
    note: 'A math-tuned policy: the strongest preset.',
    policy: { source: 'bartowski/Qwen2.5-Math-1.5B-Instruct-GGUF', file: 'Qwen2.5-Math-1.5B-Instruct-Q4_K_M.gguf', dtype: 'q4' },
    prm: SKYWORK_1_5B,
    downloadBytes: 986_048_832 + SKYWORK_BYTES,
    deviceBytes: 1.15 * GB + 1.9 * GB,
  },
  {
    id: 'llama-1b-skywork',
    label: 'Llama 3.2 1B Instruct + Skywork PRM 1.5B',
    note: 'The Llama pairing of the test-time compute papers (an ungated GGUF copy of the weights).',
    policy: { source: 'bartowski/Llama-3.2-1B-Instruct-GGUF', file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf', dtype: 'q4' },
    prm: SKYWORK_1_5B,
    downloadBytes: 807_694_464 + SKYWORK_BYTES,
    deviceBytes: 0.97 * GB + 1.9 * GB,
  },
  {
    id: 'llama-1b-h4-prm',
    label: 'Llama 3.2 1B Instruct + HuggingFaceH4 PRM 1.5B (TRL)',
    note:
      "search-and-learn's own PRM, trained with TRL on PRM800K: a token classifier that scores " +
      'each step at its blank line.',
    policy: { source: 'bartowski/Llama-3.2-1B-Instruct-GGUF', file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf', dtype: 'q4' },
    prm: H4_PRM_1_5B,
    downloadBytes: 807_694_464 + H4_PRM_BYTES,
    deviceBytes: 0.97 * GB + 1.9 * GB,
  },
  {
    id: 'qwen-0.5b-self',
    label: 'Qwen2.5 0.5B Instruct, self-verifying (no PRM)',
    note: 'No PRM download: the policy judges its own steps. Cheaper and weaker.',
    policy: { source: 'bartowski/Qwen2.5-0.5B-Instruct-GGUF', file: 'Qwen2.5-0.5B-Instruct-Q4_K_M.gguf', dtype: 'q4' },
    verifier: 'self',
    downloadBytes: 397_808_192,
    deviceBytes: 0.55 * GB,
  },
];

/** The preset list this page uses: `?presets=URL` when given, else PRESETS. */
export async function loadPresets(search = location.search) {
  const url = new URLSearchParams(search).get('presets');
  if (!url) return PRESETS;
  const response = await fetch(new URL(url, location.href));
  if (!response.ok) throw new Error(`presets ${url}: HTTP ${response.status}`);
  return response.json();
}

/** The loadModel source and options of one side of a preset (hub paths made absolute). */
export function loadArgs(side, extra = {}) {
  const options = { dtype: side.dtype ?? 'auto', ...extra };
  if (side.file) options.file = side.file;
  if (side.hubUrl) options.hubUrl = new URL(side.hubUrl, location.href).href.replace(/\/$/, '');
  if (side.kvBlocks) options.kvBlocks = side.kvBlocks;
  return { source: side.source, options };
}
