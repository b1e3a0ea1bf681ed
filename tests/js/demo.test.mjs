// The demo page in headless Chromium, used as a person uses it, against scripts/serve.mjs with
// the tiny fixture models in the hub's layout on the same origin (`?presets=` points the page at
// them): a beam search from the page draws its tree while it runs and ends in a KaTeX-rendered
// answer; Stop aborts and a second solve works; the cache manager lists the models and deletes
// them; without WebGPU the page says so and solves on the CPU; the diagnostics panel's kernel
// self-check passes; a preset with a TRL PRM searches; the offline Gemma 3 270M preset (when fetched) runs a search. Screenshots (desktop and 390-pixel phone, mid-search and at the end, light
// and dark) go to target/demo-*.png for review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { GEMMA_FILE, GEMMA_REPO, startServer } from '../../scripts/serve.mjs';
import { hubHandler } from '../../scripts/hub.mjs';
import { launchChromium } from './chromium.mjs';
import { gemmaPath, root, testRepos } from './support/hub.mjs';

const shots = new URL('../../target/', import.meta.url);
const PAGE = '?presets=/test/demo-presets.json';
const PROBLEM = 'What is 1+1?';
const FINAL = ['done', 'error', 'stopped'];
let fixtures;
let site;
let browser;
const figures = {};

before(async () => {
  fixtures = testRepos();
  // The offline preset's Gemma GGUF beside the fixtures, where scripts/demo.sh serves it.
  if (existsSync(gemmaPath)) fixtures.repos[GEMMA_REPO] = { dir: root, files: { [GEMMA_FILE]: gemmaPath } };
  const hub = hubHandler(fixtures.repos, { prefix: '/hub' });
  site = await startServer({ port: 0, handlers: [hub.handle], mounts: [['/test/', `${root}tests/js/support`]] });
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  console.log('figures:', JSON.stringify(figures));
  await browser?.close();
  site?.server.close();
  fixtures?.close();
});

/** Opens the page at `width` (and colour scheme); resolves once it is ready. */
async function openPage({ width = 1280, colorScheme = 'light', context = browser.context, query = PAGE } = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setViewportSize({ width, height: 900 });
  await page.emulateMedia({ colorScheme });
  // Records every change of the tree's node count with the page's status at that moment.
  await page.addInitScript(() => {
    window.treeLog = [];
    new MutationObserver(() => {
      const tree = document.getElementById('tree');
      if (tree) window.treeLog.push({ nodes: Number(tree.dataset.nodes), status: document.body.dataset.status });
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-nodes'] });
  });
  await page.goto(new URL(query, site.url).href);
  await page.waitForFunction(() => document.body.dataset.status !== 'loading', null, { timeout: 120_000 });
  const status = await page.evaluate(() => document.body.dataset.status);
  assert.equal(status, 'ready', `page status ${status}: ${await page.locator('#error').innerText()} ${errors.join('\n')}`);
  return { page, errors };
}

const status = (page) => page.evaluate(() => document.body.dataset.status);
const shot = (page, name) => page.screenshot({ path: new URL(`demo-${name}.png`, shots).pathname, fullPage: true });

async function waitFinal(page, timeout = 300_000) {
  await page.waitForFunction((final) => final.includes(document.body.dataset.status), FINAL, { timeout });
  return status(page);
}

test('serves the page, the package and its libraries with their types and isolation headers', async () => {
  const wasm = await fetch(new URL('pkg/wasm/ttsearch_wasm_bg.wasm', site.url));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal(wasm.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match((await fetch(site.url)).headers.get('content-type'), /^text\/html/);
  for (const path of ['vendor/katex/katex.mjs', 'vendor/marked/marked.esm.js', 'vendor/marked-katex-extension/index.esm.js', 'vendor/dompurify/purify.es.mjs']) {
    const response = await fetch(new URL(path, site.url));
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get('content-type'), /^text\/javascript/, path);
  }
  const font = await fetch(new URL('vendor/katex/fonts/KaTeX_Main-Regular.woff2', site.url));
  assert.equal(font.headers.get('content-type'), 'font/woff2');
  assert.equal((await fetch(new URL('pkg/../../Cargo.toml', site.url))).status, 404);
  assert.equal((await fetch(new URL('%2e%2e/Cargo.toml', site.url))).status, 404);
  assert.equal((await fetch(new URL('vendor/katex/../../package.json', site.url))).status, 404);
});

test('a beam search from the page draws its tree live and renders the answer', async () => {
  const { page, errors } = await openPage();
  assert.equal(await page.locator('#presets input[value="tiny-skywork"]').isChecked(), true);
  // SwiftShader (the adapter here without a GPU) is reported as a software renderer.
  const webgpu = await page.evaluate(() => document.body.dataset.webgpu);
  assert.ok(['yes', 'software'].includes(webgpu), webgpu);
  if (webgpu === 'software') {
    assert.match(await page.locator('#no-webgpu').innerText(), /software renderer/);
    assert.equal(await page.inputValue('#device'), 'cpu');
  }
  // This search runs on WebGPU, whatever the adapter.
  await page.selectOption('#device', 'webgpu');
  await page.fill('#problem', PROBLEM);
  assert.match(await page.locator('#budget').innerText(), /tokens to generate/);
  const started = Date.now();
  // By keyboard: focus the Solve button and press Enter.
  await page.focus('#solve');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.body.dataset.status === 'solving' && Number(document.getElementById('tree').dataset.nodes) > 0, null, { timeout: 120_000 });
  await shot(page, 'desktop-mid');
  assert.equal(await waitFinal(page), 'done', await page.locator('#error').innerText());
  figures.tinyBeamSeconds = (Date.now() - started) / 1000;
  await shot(page, 'desktop-end');

  // Nodes appeared while the search ran, and more came after the first.
  const log = await page.evaluate(() => window.treeLog);
  const during = log.filter((l) => l.status === 'solving' && l.nodes > 0);
  const final = Number(await page.locator('#tree').getAttribute('data-nodes'));
  assert.ok(during.length > 0, `no tree nodes while solving: ${JSON.stringify(log)}`);
  assert.ok(during[0].nodes < final, `the tree was drawn at once: ${JSON.stringify(log)}`);
  assert.ok(final >= 8, `only ${final} nodes`);
  assert.ok((await page.locator('#tree .node.pruned').count()) > 0, 'no pruned nodes drawn');
  assert.ok((await page.locator('#tree .node.completed').count()) > 0, 'no completed nodes drawn');
  assert.ok((await page.locator('#tree .edge.best').count()) > 0, 'no best path');

  // The answer, in KaTeX; the selection table; the stats.
  assert.ok((await page.locator('#answer .katex').count()) > 0, `answer not KaTeX: ${await page.locator('#answer').innerHTML()}`);
  assert.match(await page.locator('#selection').innerText(), /majority/);
  assert.match(await page.locator('[data-stat="generated"]').innerText(), /^[1-9]\d* tokens/);
  assert.match(await page.locator('[data-stat="verifier read"]').innerText(), /re-scoring every prefix/);
  assert.match(await page.locator('#downloads').innerText(), /policy: on the GPU/);
  assert.match(await page.locator('#downloads').innerText(), /policy: model\.safetensors \(\d+ kB\) ready/);
  assert.match(await page.locator('#downloads').innerText(), /PRM: model\.safetensors \(\d+ kB\) ready/);

  // The budget line now knows this device's speed.
  assert.match(await page.locator('#budget').innerText(), /on this device/);
  // A node read by keyboard: focusing it shows its step.
  await page.locator('#tree .node[tabindex]').first().focus();
  assert.match(await page.locator('#node-detail').innerText(), /step 1, score \d\.\d{3}/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('an example problem is graded against its gold answer, in dark mode at phone width', async () => {
  const { page, errors } = await openPage({ width: 390, colorScheme: 'dark' });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width} px wide at 390`);
  await page.selectOption('#examples', '0');
  assert.notEqual(await page.inputValue('#problem'), '');
  assert.ok((await page.locator('#preview .katex').count()) > 0, 'the preview renders no math');
  assert.match(await page.locator('#gold').innerText(), /the answer is/);
  // On WebGPU, so that the mid-search screenshot is taken mid-search (the CPU backend finishes
  // the tiny search in a tenth of a second).
  await page.selectOption('#device', 'webgpu');
  await page.click('#solve');
  await page.waitForFunction(() => document.body.dataset.status === 'solving' && Number(document.getElementById('tree').dataset.nodes) > 0, null, { timeout: 120_000 });
  await shot(page, 'phone-mid');
  assert.equal(await waitFinal(page), 'done', await page.locator('#error').innerText());
  await page.locator('#result').scrollIntoViewIfNeeded();
  await shot(page, 'phone-end');
  assert.match(await page.locator('#badge').innerText(), /correct|no answer/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a preset with a TRL PRM (token classification) runs a beam search in the page', async () => {
  const { page, errors } = await openPage();
  await page.check('#presets input[value="tiny-trl"]');
  await page.fill('#problem', PROBLEM);
  await page.selectOption('#device', 'cpu');
  await page.click('#solve');
  assert.equal(await waitFinal(page), 'done', await page.locator('#error').innerText());
  assert.ok(Number(await page.locator('#tree').getAttribute('data-nodes')) > 0);
  assert.match(await page.locator('[data-stat="verifier read"]').innerText(), /re-scoring every prefix/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('custom models: a folder URL in the hub layout, a picked GGUF file, and a typed error', async () => {
  const { page, errors } = await openPage();
  await page.check('#presets input[value="custom"]');
  assert.equal(await page.locator('#custom').isVisible(), true);
  await page.fill('#problem', PROBLEM);
  await page.selectOption('#strategy', 'bon');
  await page.fill('#n', '2');
  await page.fill('#max-tokens', '8');
  await page.selectOption('#custom-dtype', 'f32');
  // A missing repo: its code and what to do.
  await page.fill('#custom-policy', new URL('hub/ttsearch-test/no-such-repo/resolve/main/', site.url).href);
  await page.click('#solve');
  assert.equal(await waitFinal(page), 'error');
  assert.match(await page.locator('#error').innerText(), /Error \[not_found\]:[\s\S]*Check the repo id/);
  // The tiny policy by folder URL, verifying itself.
  await page.fill('#custom-policy', new URL('hub/ttsearch-test/policy-tiny/resolve/main/', site.url).href);
  await page.click('#solve');
  assert.equal(await waitFinal(page), 'done', await page.locator('#error').innerText());
  assert.equal(await page.locator('#error').isHidden(), true);
  // A model folder picked from this computer.
  await page.fill('#custom-policy', '');
  await page.setInputFiles('#custom-policy-folder', `${root}tests/fixtures/prms/policy-tiny`);
  await page.click('#solve');
  assert.equal(await waitFinal(page), 'done', await page.locator('#error').innerText());
  // A picked GGUF file (it comes before a picked folder) whose vocabulary is broken (the tiny
  // llama.cpp fixture's): its code shown.
  await page.setInputFiles('#custom-policy-pick', `${root}tests/fixtures/models/gguf/qwen2-tiny-f32.gguf`);
  await page.click('#solve');
  assert.equal(await waitFinal(page), 'error');
  assert.match(await page.locator('#error').innerText(), /Error \[invalid_argument\]:.*tokenizer/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the offline Gemma 3 270M preset searches in the page', { skip: !existsSync(gemmaPath) && 'scripts/fetch_gemma.sh has not run' }, async () => {
  const { page, errors } = await openPage({ query: '' });
  assert.equal(await page.locator('#presets input[value="gemma-270m-offline"]').isChecked(), true);
  assert.match(await page.locator('#presets').innerText(), /253 MB download/);
  await page.selectOption('#examples', '1');
  // Short, so that the software adapter's CPU (the default here) finishes in a minute or two.
  await page.fill('#n', '2');
  await page.fill('#beam-width', '2');
  await page.fill('#iterations', '2');
  await page.fill('#max-tokens', '24');
  const started = Date.now();
  await page.click('#solve');
  await page.waitForFunction(() => Number(document.getElementById('tree').dataset.nodes) > 0 || ['error', 'done'].includes(document.body.dataset.status), null, { timeout: 600_000 });
  figures.gemmaFirstStepSeconds = (Date.now() - started) / 1000;
  assert.equal(await waitFinal(page, 900_000), 'done', await page.locator('#error').innerText());
  figures.gemmaSolveSeconds = (Date.now() - started) / 1000;
  figures.gemmaDevice = /on the GPU/.test(await page.locator('#downloads').innerText()) ? 'webgpu' : 'cpu';
  assert.ok(Number(await page.locator('#tree').getAttribute('data-nodes')) >= 2);
  await shot(page, 'gemma');
  assert.deepEqual(errors, []);
  await page.close();
});

test('Stop aborts within a step and a second solve then works', async () => {
  const { page } = await openPage();
  await page.fill('#problem', PROBLEM);
  // A budget that runs long: 16 beams, 40 iterations.
  await page.fill('#n', '16');
  await page.fill('#beam-width', '4');
  await page.fill('#iterations', '40');
  await page.fill('#max-tokens', '64');
  await page.click('#solve');
  await page.waitForFunction(() => document.body.dataset.status === 'solving' && Number(document.getElementById('tree').dataset.nodes) > 0, null, { timeout: 120_000 });
  const pressed = Date.now();
  await page.click('#stop');
  assert.equal(await waitFinal(page, 60_000), 'stopped');
  figures.stopSeconds = (Date.now() - pressed) / 1000;
  assert.equal(await page.locator('#error').isHidden(), true);
  await page.fill('#n', '4');
  await page.fill('#beam-width', '2');
  await page.fill('#iterations', '4');
  await page.fill('#max-tokens', '24');
  await page.click('#solve');
  assert.equal(await waitFinal(page), 'done', await page.locator('#error').innerText());
  assert.ok((await page.locator('#answer .katex').count()) > 0);
  await page.close();
});

test('the cache manager lists the cached models and deletes them', async () => {
  const { page } = await openPage();
  await page.click('#cache-section summary');
  await page.waitForFunction(() => document.querySelectorAll('#cache tbody tr').length > 0, null, { timeout: 10_000 });
  const listed = await page.locator('#cache tbody').innerText();
  assert.match(listed, /ttsearch-test\/policy-tiny/);
  assert.match(listed, /ttsearch-test\/skywork-tiny/);
  assert.match(await page.locator('#presets').innerText(), /cached/);
  while ((await page.locator('#cache tbody tr').count()) > 0) {
    const before = await page.locator('#cache tbody tr').count();
    await page.locator('#cache tbody tr button').first().click();
    await page.waitForFunction((n) => document.querySelectorAll('#cache tbody tr').length < n, before);
  }
  assert.match(await page.locator('#cache-summary').innerText(), /No models are cached/);
  assert.doesNotMatch(await page.locator('#presets').innerText(), /cached/);
  await page.close();
});

test('the diagnostics panel shows the adapter and a passing kernel self-check', async () => {
  const { page } = await openPage();
  await page.click('#diagnostics summary');
  await page.click('#rerun');
  await page.waitForFunction(() => ['pass', 'fail', 'error', 'no-webgpu'].includes(document.getElementById('diagnostics').dataset.check), null, { timeout: 120_000 });
  assert.equal(await page.locator('#diagnostics').getAttribute('data-check'), 'pass', await page.locator('#check-summary').innerText());
  assert.match(await page.locator('#adapter').innerText(), /backend\s+webgpu/);
  assert.match(await page.locator('#check-summary').innerText(), /All \d+ cases passed/);
  assert.ok((await page.locator('#checks tbody tr').count()) >= 20);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  await page.close();
});

test('without WebGPU the page says so and solves on the CPU', async () => {
  const plain = await launchChromium({ webgpu: false });
  try {
    const { page, errors } = await openPage({ context: plain.context });
    assert.equal(await page.evaluate(() => document.body.dataset.webgpu), 'no');
    assert.match(await page.locator('#no-webgpu').innerText(), /no WebGPU.*on the CPU/s);
    assert.equal(await page.inputValue('#device'), 'cpu');
    await page.fill('#problem', PROBLEM);
    await page.click('#solve');
    assert.equal(await waitFinal(page), 'done', await page.locator('#error').innerText());
    assert.match(await page.locator('#downloads').innerText(), /on the CPU/);
    assert.ok((await page.locator('#answer .katex').count()) > 0);
    await shot(page, 'no-webgpu');
    assert.deepEqual(errors, []);
  } finally {
    await plain.close();
  }
});
