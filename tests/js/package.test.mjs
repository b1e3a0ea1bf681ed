// The npm package in Node: it loads, reports its version, and fails with typed errors where
// there is no WebGPU instead of crashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as ttsearch from '../../pkg/index.js';
import { cli } from './support/cli.mjs';
import { gemmaPath } from './support/hub.mjs';

const cargoVersion = readFileSync(new URL('../../Cargo.toml', import.meta.url), 'utf8')
  .match(/^version = "([^"]+)"/m)[1];

test('loads in Node and reports the core version', async () => {
  assert.equal(await ttsearch.version(), cargoVersion);
  const pkg = JSON.parse(readFileSync(new URL('../../pkg/package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.version, cargoVersion, 'pkg/package.json and Cargo.toml versions differ');
});

test('createGpu rejects with a typed no_webgpu error where navigator.gpu is missing', async () => {
  assert.equal(globalThis.navigator?.gpu, undefined, 'this test expects Node without WebGPU');
  assert.equal(await ttsearch.hasWebGpu(), false);
  await assert.rejects(ttsearch.createGpu(), (error) => {
    assert.ok(ttsearch.isTtsearchError(error), `not a TtsearchError: ${error}`);
    assert.equal(error.code, 'no_webgpu');
    assert.match(error.message, /WebGPU is not available/);
    return true;
  });
  // The module is still usable after the rejection.
  assert.equal(await ttsearch.version(), cargoVersion);
});

test('grades answers from JS', async () => {
  const g = await ttsearch.grade('Therefore, the final answer is: $\\boxed{\\dfrac{14}{3}}$.', '4\\frac{2}{3}');
  assert.deepEqual(g, { correct: true, pred_answer: '\\dfrac{14}{3}', gold_answer: '4\\frac{2}{3}', rule: 'boxed' });
  assert.equal(await ttsearch.isEquivalent('\\text{west}', '\\text{east}'), false);
  assert.equal(await ttsearch.canonicalForm('\\frac12'), await ttsearch.canonicalForm('0.5'));
  assert.deepEqual(await ttsearch.extractAnswer('The answer is 7.'), { answer: '7', rule: 'answer_is' });
  const groups = await ttsearch.groupAnswers(['3', '\\frac{6}{2}', '4', '3.0']);
  assert.deepEqual(groups.map((g) => g.members), [[0, 1, 3], [2]]);
});

test('tokenizes and builds prompts from JS (no WebGPU needed)', async () => {
  const dir = new URL('../../tests/fixtures/prms/skywork-tiny/', import.meta.url);
  const tok = await ttsearch.loadTokenizer(
    readFileSync(new URL('tokenizer.json', dir)),
    readFileSync(new URL('tokenizer_config.json', dir)),
  );
  const ids = tok.encode('What is $3 \\cdot 4$?\n\n', false);
  assert.ok(ids.length > 3);
  assert.equal(tok.decode(ids, true), 'What is $3 \\cdot 4$?\n\n');
  assert.deepEqual([...tok.eosTokenIds], [tok.encode('<|im_end|>', false)[0]]);
  await assert.rejects(ttsearch.loadTokenizer(new Uint8Array([123, 1])), (error) => {
    assert.ok(ttsearch.isTtsearchError(error));
    assert.equal(error.code, 'format');
    return true;
  });
});

test('a GGUF tokenizer loads from the file\'s bytes as the CLI reads it, without the file in the heap', { skip: !existsSync(gemmaPath) && 'scripts/fetch_gemma.sh has not run' }, async () => {
  const text = 'Find $x$ if $2x + 3 = 11$.\n\n';
  const want = cli(['tokenize', '--model', gemmaPath, '--text', text, '--add-special-tokens', '--json']);
  const bytes = readFileSync(gemmaPath); // 253 MB, read where it lies
  const tok = await ttsearch.tokenizerFromGguf(bytes);
  assert.deepEqual([...tok.encode(text, true)], want.ids);
  const heapMB = (await ttsearch.wasmMemoryBytes()) / 1e6;
  assert.ok(heapMB < bytes.length / 2e6, `wasm memory ${heapMB} MB for a ${bytes.length / 1e6} MB file`);
  await assert.rejects(ttsearch.tokenizerFromGguf(bytes.subarray(0, 1000)), (error) => {
    assert.ok(ttsearch.isTtsearchError(error));
    assert.equal(error.code, 'format');
    return true;
  });
});
