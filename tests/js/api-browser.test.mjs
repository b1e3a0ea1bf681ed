// The package in headless Chromium, imported as a page imports it (/pkg/index.js, models in
// its Worker), against the test hub on another origin: models load by repo id; greedy tokens
// and searches equal the native CLI's; the events draw a tree that ends in the completions;
// aborts free every KV block and 100 aborted searches leave the device's buffers as they were;
// the second load is served by the cache, a full quota leaves files uncached; typed errors; the
// Gemma 3 270M GGUF loads (its wasm memory under 100 MB) and
// generates the CLI's greedy tokens; the page stays responsive; crashes and a lost device are
// recovered from; a PyTorch checkpoint scores like its safetensors twin; a TRL PRM scores like
// TRL and transformers on WebGPU, with its recorded separator and with prmSeparator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';
import { startHub, root, fixtures, gemmaPath } from './support/hub.mjs';
import { assertClose, assertSameCompletions, cli, cliSolve } from './support/cli.mjs';

let hub;
let site;
let browser;
let page;

const POLICY = 'tests/fixtures/prms/policy-tiny';
const PRM = 'tests/fixtures/prms/skywork-tiny';
const PROBLEM = 'What is $1+1$?';
const figures = {};

before(async () => {
  hub = await startHub();
  site = await startServer({ port: 0, mounts: [['/test/', join(root, 'tests/js/support')]] });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${site.url}test/harness.html`);
  await page.evaluate(async (hubUrl) => {
    window.tts = await import('/pkg/index.js');
    window.hubUrl = hubUrl;
  }, hub.url);
});

after(async () => {
  console.log('figures:', JSON.stringify(figures));
  await browser?.close();
  site?.server.close();
  hub?.close();
});

test('models load by repo id in the worker and search like the CLI', async () => {
  const result = await page.evaluate(async (problem) => {
    const opts = { hubUrl, dtype: 'f32', kvBlocks: 256 };
    const progress = [];
    const policy = await tts.loadModel('ttsearch-test/policy-tiny', { ...opts, onProgress: (p) => progress.push(p) });
    const prm = await tts.loadModel('ttsearch-test/skywork-tiny', opts);
    window.policy = policy;
    window.prm = prm;
    const greedy = await policy.generate([5, 17, 200, 3, 99], { temperature: 0, maxTokens: 12 });
    const solver = await tts.createSolver({ policy, prm });
    window.solver = solver;
    const runs = [];
    for (const params of [
      { strategy: 'bon', n: 4, maxTokens: 16, seed: 3 },
      { strategy: 'beam', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 5 },
      { strategy: 'dvts', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 7 },
    ]) {
      const events = [];
      const out = await solver.solve(problem, params, { onEvent: (e) => events.push(e) });
      runs.push({ params, out, events });
    }
    return { info: policy.info, progress, greedy, runs, kv: [await policy.kvBlocksInUse(), await prm.kvBlocksInUse()] };
  }, PROBLEM);
  assert.equal(result.info.device, 'webgpu');
  assert.equal(result.info.backend, 'gpu');
  // Progress: monotone per file and phase, every file ending with loaded == total.
  const byFile = new Map();
  for (const p of result.progress.filter((p) => p.phase === 'download' || p.phase === 'load')) {
    const key = `${p.phase}:${p.file}`;
    const last = byFile.get(key);
    assert.ok(!last || p.loaded >= last.loaded, `${key} went back`);
    byFile.set(key, p);
  }
  assert.ok(byFile.has('download:model.safetensors'));
  for (const [key, p] of byFile) assert.equal(p.loaded, p.total, `${key} did not end complete`);
  const want = cli(['generate', '--model', join(root, POLICY), '--prompt-tokens', '5,17,200,3,99', '--temperature', '0', '--max-tokens', '12', '--dtype', 'f32', '--json']);
  assert.deepEqual(result.greedy.outputs[0].tokens, want.outputs[0].tokens);
  for (const { params, out, events } of result.runs) {
    assertSameCompletions(out, cliSolve({ policy: POLICY, prm: PRM, problem: PROBLEM, params }), params.strategy);
    // Every event's parent exists, and the tree ends in the returned completions.
    const nodes = new Set([0]);
    for (const e of events.filter((e) => e.event === 'step_proposed')) {
      assert.ok(nodes.has(e.parent), `${params.strategy}: node ${e.node}'s parent ${e.parent} is unknown`);
      nodes.add(e.node);
    }
    const completed = events.filter((e) => e.event === 'completed');
    for (const e of completed) assert.ok(nodes.has(e.node));
    const texts = new Set(completed.map((e) => e.text));
    for (const c of out.completions) assert.ok(texts.has(c.text), `${params.strategy}: a completion no event completed`);
    assert.equal(events.at(-1).event, 'finished');
    assert.ok(events.some((e) => e.event === 'progress'));
  }
  assert.deepEqual(result.kv, [0, 0]);
});

test('an aborted search rejects and frees everything; 100 in a row leave the device as it was', async () => {
  const result = await page.evaluate(async (problem) => {
    const params = { strategy: 'beam', n: 4, beamWidth: 2, numIterations: 8, maxTokens: 16 };
    // Aborted at the first decode step's progress event (the search then holds every beam's
    // sequence on both models), or as soon as it starts (its prompts prefilled).
    const abortAfterFirstStep = async (seed, at = 'progress') => {
      const controller = new AbortController();
      try {
        await solver.solve(problem, { ...params, seed }, { signal: controller.signal, onEvent: (e) => e.event === at && controller.abort() });
        return 'finished';
      } catch (e) {
        return e.code;
      }
    };
    const first = await abortAfterFirstStep(0);
    const kv = [await policy.kvBlocksInUse(), await prm.kvBlocksInUse()];
    const before = await tts.deviceBufferStats();
    const codes = [];
    const t0 = performance.now();
    for (let i = 1; i <= 100; i++) codes.push(await abortAfterFirstStep(i, i % 4 === 0 ? 'progress' : 'started'));
    const seconds = (performance.now() - t0) / 1000;
    const after = await tts.deviceBufferStats();
    const again = await solver.solve(problem, { strategy: 'bon', n: 2, maxTokens: 8 });
    return { first, kv, before, after, codes, seconds, again: again.completions.length, kvAfter: [await policy.kvBlocksInUse(), await prm.kvBlocksInUse()] };
  }, PROBLEM);
  assert.equal(result.first, 'cancelled');
  assert.deepEqual(result.kv, [0, 0]);
  assert.ok(result.codes.every((c) => c === 'cancelled'), `codes: ${[...new Set(result.codes)]}`);
  assert.deepEqual(result.after, result.before, 'buffers after 100 aborted searches');
  assert.equal(result.again, 2);
  assert.deepEqual(result.kvAfter, [0, 0]);
  figures.hundredAbortedSolvesSeconds = result.seconds;
});

test('the page stays responsive while the worker searches', async () => {
  const gap = await page.evaluate(async (problem) => {
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    await solver.solve(problem, { strategy: 'beam', n: 4, beamWidth: 2, numIterations: 4, maxTokens: 16, seed: 11 });
    clearInterval(timer);
    return worst;
  }, PROBLEM);
  figures.longestMainThreadGapMs = gap;
  assert.ok(gap < 250, `the main thread stalled for ${gap} ms`);
});

test('a second load is served by the cache; deleting empties it', async () => {
  const before = hub.log.length;
  const result = await page.evaluate(async () => {
    const again = await tts.loadModel('ttsearch-test/policy-tiny', { hubUrl, dtype: 'f32', kvBlocks: 16 });
    await again.dispose();
    const listed = await tts.listCachedModels();
    const deleted = await tts.deleteCachedModel('ttsearch-test/policy-tiny');
    const after = await tts.listCachedModels();
    return { listed, deleted, after };
  });
  assert.equal(hub.log.length, before, `requests on a cached load: ${JSON.stringify(hub.log.slice(before))}`);
  const entry = result.listed.find((m) => m.id === 'ttsearch-test/policy-tiny');
  assert.ok(entry, JSON.stringify(result.listed.map((m) => m.id)));
  assert.ok(entry.files.some((f) => f.name === 'model.safetensors'));
  assert.ok(entry.bytes > 0);
  assert.ok(result.deleted >= 3);
  assert.ok(!result.after.some((m) => m.id === 'ttsearch-test/policy-tiny'));
});

test('a full storage quota leaves files uncached, says so, and the load goes on', async () => {
  const cdp = await browser.context.newCDPSession(page);
  const origin = new URL(site.url).origin;
  // 200 kB for the whole origin: the 565 kB model.safetensors cannot be stored.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 200_000 });
  try {
    const result = await page.evaluate(async () => {
      await tts.deleteCachedModel('ttsearch-test/policy-tiny');
      const progress = [];
      const model = await tts.loadModel('ttsearch-test/policy-tiny', { hubUrl, dtype: 'f32', kvBlocks: 16, onProgress: (p) => progress.push(p) });
      const tokens = (await model.generate([5, 17, 200], { maxTokens: 3 })).outputs[0].tokens.length;
      await model.dispose();
      const listed = await tts.listCachedModels();
      return { progress, tokens, listed };
    });
    const skipped = result.progress.filter((p) => p.phase === 'cache');
    assert.ok(skipped.some((p) => p.file === 'model.safetensors' && p.cached === false && p.reason === 'quota'), JSON.stringify(skipped));
    assert.equal(result.tokens, 3);
    const entry = result.listed.find((m) => m.id === 'ttsearch-test/policy-tiny');
    assert.ok(!entry?.files.some((f) => f.name === 'model.safetensors'), 'a file was cached past the quota');
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await cdp.detach();
  }
});

test('errors reach the page typed', async () => {
  const codes = await page.evaluate(async () => {
    const code = (p) => p.then(() => 'ok', (e) => (tts.isTtsearchError(e) ? e.code : `untyped: ${e}`));
    const o = { hubUrl, dtype: 'f32', kvBlocks: 16 };
    return {
      unauthorized: await code(tts.loadModel('ttsearch-test/gated', o)),
      notFound: await code(tts.loadModel('ttsearch-test/gguf-tiny', { ...o, file: 'missing.gguf' })),
      truncated: await code(tts.loadModel('ttsearch-test/truncated', o)),
      unsupported: await code(tts.loadModel('ttsearch-test/unsupported', o)),
      outOfMemory: await code(tts.loadModel('ttsearch-test/skywork-tiny', { ...o, maxBytes: 1e5 })),
      invalid: await code(solver.solve('x', { strategy: 'beam', n: 3, beamWidth: 2 })),
    };
  });
  assert.deepEqual(codes, {
    unauthorized: 'unauthorized',
    notFound: 'not_found',
    truncated: 'network',
    unsupported: 'unsupported',
    outOfMemory: 'out_of_memory',
    invalid: 'invalid_argument',
  });
});

test('an aborted load stops and caches nothing partial', async () => {
  const result = await page.evaluate(async () => {
    const controller = new AbortController();
    const loading = tts.loadModel('ttsearch-test/slow', { hubUrl, dtype: 'f32', kvBlocks: 16, signal: controller.signal, onProgress: (p) => p.phase === 'download' && p.file === 'model.safetensors' && p.loaded > 0 && controller.abort() });
    const code = await loading.then(() => 'loaded', (e) => e.code);
    const cached = (await tts.listCachedModels()).find((m) => m.id === 'ttsearch-test/slow');
    return { code, cachedWeights: cached?.files.some((f) => f.name === 'model.safetensors') ?? false };
  });
  assert.equal(result.code, 'cancelled');
  assert.equal(result.cachedWeights, false);
});

test('in this thread (worker: false) a search gives the same completions', async () => {
  const result = await page.evaluate(async (problem) => {
    const o = { hubUrl, dtype: 'f32', kvBlocks: 256, worker: false };
    const policy = await tts.loadModel('ttsearch-test/policy-tiny', o);
    const prm = await tts.loadModel('ttsearch-test/skywork-tiny', o);
    const solver = await tts.createSolver({ policy, prm });
    const out = await solver.solve(problem, { strategy: 'dvts', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 7 });
    await policy.dispose();
    await prm.dispose();
    return out;
  }, PROBLEM);
  assertSameCompletions(result, cliSolve({ policy: POLICY, prm: PRM, problem: PROBLEM, params: { strategy: 'dvts', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 7 } }), 'dvts in this thread');
});

test('a PyTorch checkpoint (pytorch_model.bin shards) loads on the GPU and scores like its safetensors twin', async () => {
  const [fromBin, fromSafetensors] = await page.evaluate(async (problem) => {
    const steps = ['First, 1 + 1 = 2.', 'The answer is $\\boxed{2}$.'];
    const scores = [];
    for (const repo of ['ttsearch-test/skywork-tiny-bin', 'ttsearch-test/skywork-tiny']) {
      const prm = await tts.loadModel(repo, { hubUrl, dtype: 'f32', kvBlocks: 16 });
      if (prm.info.device !== 'webgpu' || prm.prmKind !== 'skywork') throw new Error(`${repo}: ${JSON.stringify(prm.info)}`);
      scores.push(await prm.score(problem, steps));
      await prm.dispose();
    }
    return scores;
  }, PROBLEM);
  assertClose(fromBin, fromSafetensors, 1e-5, 'scores');
});

test('a TRL PRM loads on the GPU in the worker and scores like TRL and transformers', async () => {
  const golden = JSON.parse(readFileSync(join(root, 'tests/fixtures/prms/trl-golden.json'), 'utf8'));
  for (const [key, extra] of [['trl', {}], ['trl-blank-line', { prmSeparator: golden.separators['trl-blank-line'] }]]) {
    const got = await page.evaluate(async ({ cases, extra }) => {
      const prm = await tts.loadModel('ttsearch-test/trl-tiny', { hubUrl, dtype: 'f32', kvBlocks: 32, ...extra });
      if (prm.info.device !== 'webgpu' || prm.prmKind !== 'trl') throw new Error(JSON.stringify(prm.info));
      const scores = [];
      for (const c of cases) scores.push(await prm.score(c.question, c.steps));
      await prm.dispose();
      return scores;
    }, { cases: golden.cases, extra });
    golden.cases.forEach((c, i) => assertClose(got[i], c.scores[key], 1e-4, key));
  }
});

test('a crashed worker and a lost device are recovered from', async () => {
  const result = await page.evaluate(async () => {
    const o = { hubUrl, dtype: 'f32', kvBlocks: 16 };
    const lost = await tts.loadModel('ttsearch-test/policy-tiny', o);
    await tts.loseDeviceForTesting();
    const lostCode = await lost.generate([5, 17], { maxTokens: 2 }).then(() => 'ok', (e) => e.code);
    const fresh = await tts.loadModel('ttsearch-test/policy-tiny', o);
    const afterLoss = (await fresh.generate([5, 17], { maxTokens: 2 })).outputs[0].tokens.length;
    const crash = await tts.crashForTesting().then(() => 'ok', (e) => [e.code, e.message]);
    const stale = await fresh.generate([5, 17], { maxTokens: 2 }).then(() => 'ok', (e) => e.code);
    const reborn = await tts.loadModel('ttsearch-test/policy-tiny', o);
    const afterCrash = (await reborn.generate([5, 17], { maxTokens: 2 })).outputs[0].tokens.length;
    await reborn.dispose();
    return { lostCode, afterLoss, crash, stale, afterCrash };
  });
  assert.equal(result.lostCode, 'device_lost');
  assert.equal(result.afterLoss, 2);
  assert.equal(result.crash[0], 'internal');
  assert.match(result.crash[1], /deliberate panic/);
  assert.equal(result.stale, 'internal');
  assert.equal(result.afterCrash, 2);
});

test('the Gemma 3 270M GGUF loads through the hub and generates the CLI greedy tokens', { skip: !existsSync(gemmaPath) && 'scripts/fetch_gemma.sh has not run' }, async () => {
  const golden = JSON.parse(readFileSync(join(fixtures, 'gemma3-270m/greedy.json'), 'utf8'));
  const result = await page.evaluate(async (prompt) => {
    await tts.resetHeapPeak();
    const heapBefore = await tts.heapStats();
    const t0 = performance.now();
    const model = await tts.loadModel('ttsearch-test/gemma-3-270m-GGUF', { hubUrl, file: 'gemma-3-270m-q4_k_m.gguf', dtype: 'q8', kvBlocks: 64 });
    const loadSeconds = (performance.now() - t0) / 1000;
    const memory = await tts.wasmMemoryBytes();
    const heapLoaded = await tts.heapStats();
    const t1 = performance.now();
    const out = await model.generate(prompt, { temperature: 0, maxTokens: 8 });
    const genSeconds = (performance.now() - t1) / 1000;
    const info = model.info;
    await model.dispose();
    const heapAfter = await tts.heapStats();
    return { loadSeconds, memory, out, genSeconds, info, heapBefore, heapLoaded, heapAfter };
  }, golden.prompt);
  figures.gemma = {
    wasmMemoryMB: result.memory / 1e6,
    heapPeakMB: result.heapLoaded.peakBytes / 1e6,
    heapLoadedMB: result.heapLoaded.liveBytes / 1e6,
    heapBeforeMB: result.heapBefore.liveBytes / 1e6,
    heapAfterDisposeMB: result.heapAfter.liveBytes / 1e6,
    loadSeconds: result.loadSeconds,
    generateSeconds: result.genSeconds,
    tokensPerSecond: 8 / result.genSeconds,
    deviceMB: result.info.deviceBytes / 1e6,
  };
  assert.deepEqual(result.out.outputs[0].tokens, golden.tokens);
  assert.equal(result.out.outputs[0].text, golden.text);
});

// A wasm memory never shrinks, so the figure after loading is the load's peak: about 92 MB (the
// allocator's live peak about 63 MB, most of it the tokenizers crate building Gemma's 262k-token
// BPE), far below the 253 MB file.
test('loading the Gemma 3 270M GGUF keeps the wasm memory under 100 MB', { skip: !existsSync(gemmaPath) && 'scripts/fetch_gemma.sh has not run' }, () => {
  assert.ok(figures.gemma, 'the Gemma test did not run');
  assert.ok(figures.gemma.wasmMemoryMB < 100, `wasm memory ${figures.gemma.wasmMemoryMB} MB after loading`);
  assert.ok(figures.gemma.heapPeakMB <= figures.gemma.wasmMemoryMB, 'the allocator peak fits in the memory');
  // Disposing of the model frees what its load allocated.
  assert.ok(figures.gemma.heapAfterDisposeMB - figures.gemma.heapBeforeMB < 1, `${figures.gemma.heapAfterDisposeMB} MB live after dispose`);
});
