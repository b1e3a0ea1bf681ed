// The package's model and search API in Node (the CPU backend in wasm): models from a path and
// from the test hub by repo id; greedy generation and searches equal the native CLI's; typed
// errors for a gated repo, a missing file, a truncated download, an unsupported architecture
// and invalid parameters; cancellation frees every KV block; a TRL PRM from the test hub scores
// like TRL and transformers (its separator from training_args.bin, or from prmSeparator).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ttsearch from '../../pkg/index.js';
import { startHub, root } from './support/hub.mjs';
import { assertClose, assertSameCompletions, cli, cliSolve } from './support/cli.mjs';

let hub;
before(async () => {
  hub = await startHub();
});
after(() => hub?.close());

const POLICY = 'tests/fixtures/prms/policy-tiny';
const PRM = 'tests/fixtures/prms/skywork-tiny';
const PROBLEM = 'What is $1+1$?';

test('a model loads from a path and generates what the CLI generates', async () => {
  const policy = await ttsearch.loadModel(join(root, POLICY), { dtype: 'f32', kvBlocks: 64 });
  assert.equal(policy.info.architecture, 'Qwen2');
  assert.equal(policy.info.device, 'cpu');
  assert.equal(policy.role, 'policy');
  const prompt = [5, 17, 200, 3, 99];
  const out = await policy.generate(prompt, { n: 1, temperature: 0, maxTokens: 12 });
  const want = cli(['generate', '--model', join(root, POLICY), '--prompt-tokens', prompt.join(','), '--temperature', '0', '--max-tokens', '12', '--dtype', 'f32', '--json']);
  assert.deepEqual(out.outputs[0].tokens, want.outputs[0].tokens);
  assert.equal(out.outputs[0].text, want.outputs[0].text);
  assert.equal(out.usage.completionTokens, want.outputs[0].tokens.length);
  const pieces = [];
  const streamed = await policy.generate('What is 2+2?', { n: 2, temperature: 0.8, seed: 1, maxTokens: 10, stop: ['\n\n'], onText: (p, i) => pieces.push([i, p]) });
  for (let i = 0; i < 2; i++) {
    assert.equal(pieces.filter(([j]) => j === i).map(([, p]) => p).join(''), streamed.outputs[i].text);
  }
  assert.equal(await policy.kvBlocksInUse(), 0);
  await policy.dispose();
  await assert.rejects(policy.generate(prompt), (e) => e.code === 'invalid_argument');
});

test('searches from the test hub equal the CLI (best-of-n, beam, dvts)', async () => {
  const policy = await ttsearch.loadModel('ttsearch-test/policy-tiny', { hubUrl: hub.url, dtype: 'f32', kvBlocks: 512 });
  const prm = await ttsearch.loadModel('ttsearch-test/skywork-tiny', { hubUrl: hub.url, dtype: 'f32', kvBlocks: 512 });
  assert.equal(prm.role, 'prm');
  assert.equal(prm.prmKind, 'skywork');
  const solver = await ttsearch.createSolver({ policy, prm });
  for (const params of [
    { strategy: 'bon', n: 4, maxTokens: 16, seed: 3 },
    { strategy: 'beam', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 5 },
    { strategy: 'dvts', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 7 },
  ]) {
    const got = await solver.solve(PROBLEM, params);
    const want = cliSolve({ policy: POLICY, prm: PRM, problem: PROBLEM, params });
    assertSameCompletions(got, want, params.strategy);
    assert.equal(got.strategy, params.strategy);
    assert.ok(got.report.prmTokensFed > 0);
  }
  // PRM scores equal the CLI's `score`.
  const steps = ['First, add.', 'So the answer is $2$.'];
  const scores = await prm.score(PROBLEM, steps);
  assert.equal(scores.length, 2);
  await solver.dispose();
  await policy.dispose();
  await prm.dispose();
});

test('a TRL PRM from the test hub scores like TRL and transformers, and beam search runs with it', async () => {
  const golden = JSON.parse(readFileSync(join(root, 'tests/fixtures/prms/trl-golden.json'), 'utf8'));
  const cases = golden.cases;
  for (const [key, options] of [['trl', {}], ['trl-blank-line', { prmSeparator: golden.separators['trl-blank-line'] }]]) {
    const prm = await ttsearch.loadModel('ttsearch-test/trl-tiny', { hubUrl: hub.url, dtype: 'f32', kvBlocks: 128, ...options });
    assert.equal(prm.role, 'prm');
    assert.equal(prm.prmKind, 'trl');
    for (const c of cases) assertClose(await prm.score(c.question, c.steps), c.scores[key], 1e-4, key);
    if (key === 'trl') {
      const policy = await ttsearch.loadModel('ttsearch-test/policy-tiny', { hubUrl: hub.url, dtype: 'f32', kvBlocks: 256 });
      const solver = await ttsearch.createSolver({ policy, prm, prmKind: 'trl' });
      const params = { strategy: 'beam', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 5 };
      const got = await solver.solve(PROBLEM, params);
      assertSameCompletions(got, cliSolve({ policy: POLICY, prm: 'tests/fixtures/prms/trl-tiny', problem: PROBLEM, params }), 'trl beam');
      assert.ok(got.report.prmTokensFed > 0);
      await solver.dispose();
      await policy.dispose();
    }
    await prm.dispose();
  }
  await assert.rejects(ttsearch.loadModel('ttsearch-test/trl-tiny', { hubUrl: hub.url, prmSeparator: 3 }), (e) => e.code === 'invalid_argument');
});

test('invalid search parameters reject before any work, saying what to change', async () => {
  const policy = await ttsearch.loadModel(join(root, POLICY), { dtype: 'f32', kvBlocks: 64 });
  const solver = await ttsearch.createSolver({ policy, verifier: 'self' });
  await assert.rejects(solver.solve(PROBLEM, { strategy: 'beam', n: 3, beamWidth: 2 }), (e) => {
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /use n = 4/);
    return true;
  });
  await assert.rejects(solver.solve(PROBLEM, { beam_width: 2 }), (e) => e.code === 'invalid_argument' && /beam_width/.test(e.message));
  await assert.rejects(solver.solve(PROBLEM, { strategy: 'wide' }), (e) => e.code === 'invalid_argument');
  await assert.rejects(ttsearch.createSolver({ policy, verifier: 'other' }), (e) => e.code === 'invalid_argument');
  await assert.rejects(ttsearch.loadModel(join(root, POLICY), { dtype: 'q3' }), (e) => e.code === 'invalid_argument');
  await policy.dispose();
});

test('an aborted search rejects, frees every KV block, and the models stay usable', async () => {
  const policy = await ttsearch.loadModel(join(root, POLICY), { dtype: 'f32', kvBlocks: 256 });
  const prm = await ttsearch.loadModel(join(root, PRM), { dtype: 'f32', kvBlocks: 256 });
  const solver = await ttsearch.createSolver({ policy, prm });
  for (let i = 0; i < 5; i++) {
    const controller = new AbortController();
    let steps = 0;
    const params = { strategy: 'beam', n: 4, beamWidth: 2, numIterations: 6, maxTokens: 16, seed: i };
    await assert.rejects(
      solver.solve(PROBLEM, params, { signal: controller.signal, onEvent: (e) => { if (e.event === 'step_proposed' && ++steps === 2) controller.abort(); } }),
      (e) => e.code === 'cancelled',
    );
    assert.equal(await policy.kvBlocksInUse(), 0);
    assert.equal(await prm.kvBlocksInUse(), 0);
  }
  const done = await solver.solve(PROBLEM, { strategy: 'bon', n: 2, maxTokens: 8 });
  assert.equal(done.completions.length, 2);
  await policy.dispose();
  await prm.dispose();
});

test('hub errors are typed: 401, 404, a truncated file, an unsupported architecture', async () => {
  const opts = { hubUrl: hub.url, dtype: 'f32', kvBlocks: 16 };
  await assert.rejects(ttsearch.loadModel('ttsearch-test/gated', opts), (e) => {
    assert.equal(e.code, 'unauthorized');
    assert.match(e.message, /hfToken/);
    return true;
  });
  const gated = await ttsearch.loadModel('ttsearch-test/gated', { ...opts, hfToken: 'hf_test_token' });
  await gated.dispose();
  // The hub answers 401 RepoNotFound for a repo that does not exist.
  await assert.rejects(ttsearch.loadModel('ttsearch-test/nothing-here', opts), (e) => {
    assert.equal(e.code, 'not_found');
    assert.match(e.message, /does not exist/);
    return true;
  });
  await assert.rejects(ttsearch.loadModel('ttsearch-test/gguf-tiny', { ...opts, file: 'missing.gguf' }), (e) => {
    assert.equal(e.code, 'not_found');
    assert.match(e.message, /missing\.gguf/);
    return true;
  });
  await assert.rejects(ttsearch.loadModel('ttsearch-test/truncated', opts), (e) => {
    assert.equal(e.code, 'network');
    assert.match(e.message, /truncated|broke off/);
    return true;
  });
  await assert.rejects(ttsearch.loadModel('ttsearch-test/unsupported', opts), (e) => {
    assert.equal(e.code, 'unsupported');
    assert.match(e.message, /MistralForCausalLM/);
    return true;
  });
  await assert.rejects(ttsearch.loadModel(join(root, POLICY), { dtype: 'f32', maxBytes: 1e5 }), (e) => {
    assert.equal(e.code, 'out_of_memory');
    assert.match(e.message, /MB/);
    return true;
  });
});

test('a GGUF file loads from the hub layout and from bytes', async () => {
  const opts = { hubUrl: hub.url, dtype: 'f32', kvBlocks: 16 };
  const m = await ttsearch.loadModel('ttsearch-test/gguf-tiny', { ...opts, file: 'qwen2-tiny-f32.gguf' });
  assert.equal(m.info.architecture, 'Qwen2');
  const out = await m.generate([5, 17, 200], { maxTokens: 4 });
  const want = cli(['generate', '--model', join(root, 'tests/fixtures/models/gguf/qwen2-tiny-f32.gguf'), '--prompt-tokens', '5,17,200', '--temperature', '0', '--max-tokens', '4', '--dtype', 'f32', '--json']);
  assert.deepEqual(out.outputs[0].tokens, want.outputs[0].tokens);
  await m.dispose();
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(join(root, 'tests/fixtures/models/gguf/qwen2-tiny-f32.gguf'));
  const fromBytes = await ttsearch.loadModel(new Uint8Array(bytes), { dtype: 'f32', kvBlocks: 16 });
  assert.deepEqual((await fromBytes.generate([5, 17, 200], { maxTokens: 4 })).outputs[0].tokens, want.outputs[0].tokens);
  await fromBytes.dispose();
});

test('a PyTorch checkpoint (pytorch_model.bin shards) loads by repo id and scores like the CLI', async () => {
  const steps = ['First, 1 + 1 = 2.', 'The answer is $\\boxed{2}$.'];
  const file = join(mkdtempSync(join(tmpdir(), 'ttsearch-steps-')), 'steps.json');
  writeFileSync(file, JSON.stringify(steps));
  const want = cli(['score', '--prm', join(root, PRM), '--question', PROBLEM, '--steps', file, '--json']);
  const log = hub.log.length;
  const prm = await ttsearch.loadModel('ttsearch-test/skywork-tiny-bin', { hubUrl: hub.url, dtype: 'f32', kvBlocks: 16 });
  assert.equal(prm.role, 'prm');
  assert.equal(prm.prmKind, 'skywork');
  assert.ok(hub.log.slice(log).some((l) => l.path.includes('pytorch_model-00002-of-00002.bin')));
  assertClose(await prm.score(PROBLEM, steps), want.scores, 1e-5, 'scores');
  await prm.dispose();
});

test('a crash of the instance rejects with code internal and the next call works', async () => {
  await assert.rejects(ttsearch.crashForTesting(), (e) => {
    assert.equal(e.code, 'internal');
    assert.match(e.message, /deliberate panic/);
    return true;
  });
  const policy = await ttsearch.loadModel(join(root, POLICY), { dtype: 'f32', kvBlocks: 16 });
  assert.equal((await policy.generate([5, 17], { maxTokens: 2 })).outputs[0].tokens.length, 2);
  await policy.dispose();
});
