// The demo page: pick a problem and a model preset, press Solve, watch the search. Built on the
// public API of the npm package alone (/pkg/index.js), so it doubles as its reference example.
// document.body.dataset.status: "loading", "ready", "starting", "loading-models", "solving",
// "done", "stopped" or "error" (tests read it); data-webgpu: "yes", "software" or "no".
import {
  createSolver, grade, hasWebGpu, isTtsearchError, loadModel, TtsearchError, version,
} from '/pkg/index.js';
import { budgetLine } from './budget.js';
import { bytes, showCache } from './cache.js';
import { setupDiagnostics } from './diagnostics.js';
import { setupExamples } from './examples.js';
import { LiveView } from './live.js';
import { loadArgs, loadPresets } from './presets.js';
import { renderMarkdown, renderMath } from './render.js';
import { describe, SearchTree } from './tree.js';

const $ = (id) => document.getElementById(id);
const DEFAULTS = { strategy: 'beam', n: 4, beamWidth: 4, numIterations: 40, maxTokens: 2048, temperature: 0.8, seed: 42 };
const FIELDS = { n: 'n', beamWidth: 'beam-width', numIterations: 'iterations', maxTokens: 'max-tokens', temperature: 'temperature', seed: 'seed' };

let presets = [];
let cached = new Set();
let example = null;
let loaded = null; // { key, policy, prm, solver }
let controller = null;

function setStatus(status, text) {
  document.body.dataset.status = status;
  $('status').textContent = text;
}

/** What to do about an error, by its code. */
const ADVICE = {
  out_of_memory: 'Pick a smaller preset or weights format (q4), or lower N.',
  kv_cache_full: 'Lower N or max tokens.',
  no_webgpu: 'Choose "the CPU" under Run on.',
  no_adapter: 'Choose "the CPU" under Run on.',
  request_device: 'Choose "the CPU" under Run on, or close other GPU-heavy tabs.',
  device_lost: 'The GPU was reset (a driver update, or too much memory asked for): press Solve again.',
  network: 'Check the connection and press Solve again: finished files come from the cache.',
  not_found: 'Check the repo id and the file name.',
  unauthorized: 'The repo is gated: accept its licence on the hub, then paste a hub token under Custom models.',
  format: 'The file is damaged or in a format ttsearch does not read (GGUF and safetensors are read).',
  unsupported: 'ttsearch runs Qwen2, Llama 3 and Gemma 3 models.',
  template: 'This model has no chat template: pick an instruct model.',
  invalid_argument: 'Change the search settings.',
  io: 'A file could not be read: pick it again.',
  internal: 'An internal error: press Solve again (a fresh engine starts). Please report it.',
};

function showError(error) {
  const code = isTtsearchError(error) ? error.code : 'internal';
  const box = $('error');
  box.replaceChildren();
  const head = document.createElement('strong');
  head.textContent = `Error [${code}]: `;
  const message = document.createElement('span');
  message.textContent = error.message;
  const advice = document.createElement('p');
  advice.textContent = ADVICE[code] ?? '';
  if (code === 'out_of_memory' || code === 'device_lost' || code === 'internal') loaded = null;
  box.append(head, message, advice);
  if (/quota/i.test(error.message)) {
    const p = document.createElement('p');
    p.textContent = 'The browser\'s storage is full: delete models under Cached models.';
    box.append(p);
  }
  box.hidden = false;
  setStatus('error', `Stopped by an error (${code}).`);
  console.error(error);
}

// ---- presets ----

function presetIds(preset) {
  return [preset.policy?.source, preset.prm?.source].filter(Boolean);
}

function drawPresets() {
  const box = $('presets');
  const current = box.querySelector('input:checked')?.value ?? presets[0]?.id;
  box.querySelectorAll('.preset').forEach((n) => n.remove());
  for (const preset of [...presets, { id: 'custom', label: 'Custom models', note: 'Your own repo ids, URLs or files.' }]) {
    const label = document.createElement('label');
    label.className = 'preset';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'preset';
    input.value = preset.id;
    input.checked = preset.id === current;
    const text = document.createElement('span');
    const name = document.createElement('strong');
    name.textContent = preset.label;
    text.append(name);
    if (preset.downloadBytes) {
      const isCached = presetIds(preset).every((id) => cached.has(id));
      const size = document.createElement('span');
      size.className = 'size';
      size.textContent = ` ${isCached ? 'cached' : `${bytes(preset.downloadBytes)} download`}, about ${bytes(preset.deviceBytes)} of GPU memory`;
      if (isCached) label.classList.add('cached');
      text.append(size);
    }
    if (preset.unavailable) {
      const off = document.createElement('span');
      off.className = 'size';
      off.textContent = ` ${preset.unavailable}`;
      text.append(off);
      input.disabled = true;
    }
    const note = document.createElement('small');
    note.textContent = preset.note ?? '';
    text.append(note);
    label.append(input, text);
    box.append(label);
  }
  choosePreset(false);
}

function selectedPreset() {
  const id = $('presets').querySelector('input:checked')?.value;
  return presets.find((p) => p.id === id) ?? (id === 'custom' ? 'custom' : null);
}

/** Applies a preset's search defaults (when `apply`) and enables the custom fields for "custom". */
function choosePreset(apply = true) {
  const preset = selectedPreset();
  $('custom').disabled = preset !== 'custom';
  $('custom').hidden = preset !== 'custom';
  if (apply && preset && preset !== 'custom') setParams({ ...DEFAULTS, ...preset.params });
  updateBudget();
}

/** The offline preset is served by this page's server only after scripts/fetch_gemma.sh. */
async function checkLocalPresets() {
  for (const preset of presets) {
    const side = preset.policy;
    if (!side.hubUrl?.startsWith('/') || !side.file) continue;
    const { source, options } = loadArgs(side);
    const url = `${options.hubUrl}/${source}/resolve/main/${side.file}`;
    const response = await fetch(url, { method: 'HEAD' }).catch(() => null);
    if (!response?.ok) preset.unavailable = '(not on this server: run scripts/demo.sh, which fetches it)';
  }
}

// ---- search parameters ----

function setParams(params) {
  $('strategy').value = params.strategy;
  for (const [key, id] of Object.entries(FIELDS)) $(id).value = String(params[key]);
}

function readParams() {
  const params = { strategy: $('strategy').value };
  for (const [key, id] of Object.entries(FIELDS)) params[key] = Number($(id).value);
  return params;
}

function speedKey() {
  const preset = selectedPreset();
  return `ttsearch-speed:${preset === 'custom' ? 'custom' : preset?.id}:${$('device').value}`;
}

function updateBudget() {
  const preset = selectedPreset();
  const verifier = preset === 'custom' ? ($('custom-prm').value || $('custom-prm-folder').files.length ? 'prm' : 'self') : preset?.verifier ?? 'prm';
  let speed = null;
  try {
    speed = JSON.parse(localStorage.getItem(speedKey()) ?? 'null');
  } catch {
    speed = null;
  }
  const promptTokens = Math.ceil($('problem').value.length / 3.5) + 40;
  const params = readParams();
  const strategyFields = { cot: [], majority: ['n'], bon: ['n'], 'weighted-bon': ['n'], beam: ['n', 'beam-width', 'iterations'], dvts: ['n', 'beam-width', 'iterations'], auto: [] };
  for (const id of ['n', 'beam-width', 'iterations']) {
    $(id).closest('label').classList.toggle('unused', !strategyFields[params.strategy]?.includes(id));
  }
  $('budget').textContent = budgetLine(params, { promptTokens, verifier, speed });
}

// ---- models ----

/** The policy and PRM sources and options for the chosen preset. */
function modelPlan() {
  const preset = selectedPreset();
  const device = $('device').value;
  if (preset && preset !== 'custom') {
    const policy = loadArgs(preset.policy, { device });
    const prm = preset.prm ? loadArgs(preset.prm, { device, role: 'prm' }) : null;
    return { policy, prm, verifier: preset.verifier };
  }
  const dtype = $('custom-dtype').value;
  const hfToken = $('hf-token').value.trim() || undefined;
  const side = (text, fileName, file, folder) => {
    const options = { dtype, device, hfToken };
    if (file) return { source: file, options };
    if (folder?.length) return { source: folder, options };
    if (!text) return null;
    if (fileName) options.file = fileName;
    return { source: /^https?:/.test(text) ? new URL(text) : text, options };
  };
  const policy = side($('custom-policy').value.trim(), $('custom-policy-file').value.trim(), $('custom-policy-pick').files[0], $('custom-policy-folder').files);
  if (!policy) throw new TtsearchError('invalid_argument', 'Give a policy: a repo id, a URL or a file.');
  const prm = side($('custom-prm').value.trim(), '', null, $('custom-prm-folder').files);
  if (prm) prm.options.role = 'prm';
  return { policy, prm, verifier: prm ? undefined : 'self' };
}

function planKey(plan) {
  const part = (s) => s && [s.source instanceof FileList ? [...s.source].map((f) => f.webkitRelativePath || f.name).join('|') : s.source instanceof File ? `file:${s.source.name}:${s.source.size}` : String(s.source), JSON.stringify(s.options)];
  return JSON.stringify([part(plan.policy), part(plan.prm), plan.verifier]);
}

async function ensureModels(plan, live, signal) {
  const key = planKey(plan);
  if (loaded?.key === key) return loaded;
  if (loaded) {
    await loaded.solver.dispose();
    await loaded.policy.dispose();
    await loaded.prm?.dispose();
    loaded = null;
  }
  setStatus('loading-models', 'Loading the models…');
  const policy = await loadModel(plan.policy.source, { ...plan.policy.options, signal, onProgress: (p) => live.progress('policy', p) });
  let prm = null;
  try {
    if (plan.prm) prm = await loadModel(plan.prm.source, { ...plan.prm.options, signal, onProgress: (p) => live.progress('PRM', p) });
    const solver = await createSolver(prm ? { policy, prm } : { policy, verifier: 'self' });
    loaded = { key, policy, prm, solver };
    return loaded;
  } catch (error) {
    await policy.dispose();
    await prm?.dispose();
    throw error;
  }
}

// ---- solving ----

async function solve(tree, live) {
  setStatus('starting', 'Starting…');
  $('error').hidden = true;
  $('result').hidden = true;
  $('node-detail').replaceChildren();
  live.reset();
  controller = new AbortController();
  const { signal } = controller;
  $('solve').disabled = true;
  $('stop').disabled = false;
  const problem = $('problem').value.trim();
  const gold = example && example.problem === $('problem').value ? example.answer : null;
  try {
    const plan = modelPlan();
    const models = await ensureModels(plan, live, signal);
    setStatus('solving', `Searching on the ${models.policy.info.device === 'webgpu' ? 'GPU' : 'CPU'}…`);
    live.startSearch(models.policy);
    const params = readParams();
    const result = await models.solver.solve(problem, params, { signal, onEvent: (e) => live.event(e) });
    live.stop();
    await showResult(result, gold);
    localStorage.setItem(speedKey(), JSON.stringify(LiveView.speedOf(result.report)));
    setStatus('done', `Done in ${result.report.seconds.total.toFixed(1)} s.`);
  } catch (error) {
    live.stop();
    if (isTtsearchError(error) && error.code === 'cancelled') setStatus('stopped', 'Stopped. Press Solve to start again.');
    else showError(error);
  } finally {
    controller = null;
    $('solve').disabled = false;
    $('stop').disabled = true;
    updateBudget();
    cached = await showCache(refreshPresets).catch(() => cached);
    drawPresets();
  }
}

function refreshPresets() {
  showCache(refreshPresets).then((ids) => {
    cached = ids;
    drawPresets();
  }, () => {});
}

async function showResult(result, gold) {
  $('result').hidden = false;
  if (result.answer) renderMath($('answer'), result.answer);
  else $('answer').textContent = 'No answer: no solution ended in one.';
  const badge = $('badge');
  badge.hidden = true;
  if (gold !== null && result.answer !== null) {
    const verdict = await grade(`\\boxed{${result.answer}}`, gold);
    badge.hidden = false;
    badge.textContent = verdict.correct ? 'correct' : `incorrect (the answer is ${gold})`;
    badge.className = verdict.correct ? 'badge correct' : 'badge incorrect';
  } else if (gold !== null) {
    badge.hidden = false;
    badge.textContent = `no answer (the answer is ${gold})`;
    badge.className = 'badge incorrect';
  }
  const rules = [
    ['chosen', result.answer, `${result.strategy}${result.auto ? ` (auto: ${result.auto.reason})` : ''}`],
    ['naive (the best-scored solution)', result.selection.naive],
    ['weighted (the most summed score)', result.selection.weighted],
    ['majority (the most votes)', result.selection.majority],
  ];
  $('selection').querySelector('tbody').replaceChildren(...rules.map(([rule, answer, extra]) => {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    a.textContent = extra ? `${rule}: ${extra}` : rule;
    const b = document.createElement('td');
    if (answer) renderMath(b, answer);
    else b.textContent = '–';
    tr.append(a, b);
    return tr;
  }));
  $('groups').hidden = result.selection.groups.length === 0;
  $('groups').querySelector('tbody').replaceChildren(...result.selection.groups.map((g) => {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    if (g.answer) renderMath(a, g.answer);
    else a.textContent = '(none)';
    const v = document.createElement('td');
    v.textContent = String(g.votes);
    const w = document.createElement('td');
    w.textContent = g.weight.toFixed(3);
    tr.append(a, v, w);
    return tr;
  }));
  // The chosen solution: the best-scored completion with the chosen answer.
  const withAnswer = result.completions.filter((c) => c.answer === result.answer);
  const pool = withAnswer.length > 0 ? withAnswer : result.completions;
  const best = pool.reduce((a, c) => (a && a.aggregated >= c.aggregated ? a : c), null);
  renderMarkdown($('solution'), best ? best.text : '(no solution)');
  const r = result.report;
  $('report').textContent =
    `${result.completions.length} solutions; the policy generated ${r.generatedTokens} tokens ` +
    `(prefill ${r.policyPrefillTokens}), the verifier read ${r.prmTokensFed} ` +
    `(whole-prefix re-scoring: ${r.prmRescoreTokens}); ${r.iterations} iterations; ` +
    `${r.seconds.generate.toFixed(1)} s generating, ${r.seconds.score.toFixed(1)} s scoring.`;
}

function showNode(node) {
  const box = $('node-detail');
  box.replaceChildren();
  if (!node || node.id === 0) return;
  const head = document.createElement('p');
  head.className = 'muted';
  head.textContent = describe(node);
  const body = document.createElement('div');
  renderMarkdown(body, node.text);
  box.append(head, body);
}

// ---- start ----

/**
 * Whether WebGPU is here and gives an adapter (Chrome on Linux has the API but no adapter):
 * { usable, software } (software: a fallback adapter such as SwiftShader, which runs the
 * kernels on the CPU, far slower than the CPU backend).
 */
async function webGpuAdapter() {
  if (!(await hasWebGpu())) return { usable: false, software: false };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    const info = adapter?.info ?? {};
    return { usable: adapter !== null, software: Boolean(info.isFallbackAdapter || adapter?.isFallbackAdapter) };
  } catch {
    return { usable: false, software: false };
  }
}

async function main() {
  $('version').textContent = `ttsearch ${await version()}`;
  const tree = new SearchTree($('tree'), showNode);
  const live = new LiveView(tree);
  setupDiagnostics();
  const adapter = await webGpuAdapter();
  const webgpu = adapter.usable;
  document.body.dataset.webgpu = webgpu ? (adapter.software ? 'software' : 'yes') : 'no';
  if (!webgpu) {
    $('no-webgpu').hidden = false;
    $('no-webgpu').textContent =
      'This browser has no WebGPU (or no GPU it may use), so the models run on the CPU instead: it works, slowly. WebGPU is in ' +
      'Chrome and Edge 113+ (Windows, macOS, ChromeOS, Android), Safari 26 and Firefox 141+ on Windows; ' +
      'on Linux, Chrome needs --enable-unsafe-webgpu.';
    $('device').value = 'cpu';
  } else if (adapter.software) {
    // A software adapter runs every kernel on the CPU, far slower than the CPU backend (with
    // Gemma 3 270M in headless Chromium, SwiftShader had not finished a first step after
    // 20 minutes where the CPU backend took about 80 seconds).
    $('no-webgpu').hidden = false;
    $('no-webgpu').textContent =
      'This browser\'s WebGPU adapter is a software renderer (no GPU it may use), so the models run on ' +
      'the CPU, many times faster here. Choose "the GPU" under Run on to try the adapter anyway.';
    $('device').value = 'cpu';
  }
  presets = await loadPresets();
  await checkLocalPresets();
  cached = await showCache(refreshPresets).catch(() => new Set());
  drawPresets();
  if (presets[0]) setParams({ ...DEFAULTS, ...presets[0].params });

  const preview = () => renderMarkdown($('preview'), $('problem').value);
  await setupExamples((picked) => {
    example = picked;
    $('gold').hidden = !picked;
    if (picked) $('gold').textContent = `${picked.set} ${picked.id}, ${picked.level}: the answer is ${picked.answer}`;
    preview();
    updateBudget();
  });
  $('problem').addEventListener('input', () => {
    preview();
    updateBudget();
  });
  preview();
  $('presets').addEventListener('change', () => choosePreset(true));
  $('setup').addEventListener('input', (event) => {
    if (event.target.name !== 'preset') updateBudget();
  });
  $('setup').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!controller) solve(tree, live);
  });
  $('stop').addEventListener('click', () => controller?.abort());
  $('cache-section').addEventListener('toggle', refreshPresets);
  updateBudget();
  $('solve').disabled = false;
  setStatus('ready', webgpu ? 'Ready.' : 'Ready (on the CPU: this browser has no WebGPU).');
}

main().catch(showError);
