// The demo page in headless Chromium with WebGPU: it reports the adapter and the kernel
// self-check passes. Also checks what the server sends (MIME type, isolation headers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

let server;
let url;
let browser;

before(async () => {
  ({ server, url } = await startServer({ port: 0 }));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('serves wasm with its MIME type and cross-origin isolation headers', async () => {
  const wasm = await fetch(new URL('pkg/wasm/ttsearch_wasm_bg.wasm', url));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal(wasm.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const page = await fetch(url);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal((await fetch(new URL('pkg/../../Cargo.toml', url))).status, 404);
  assert.equal((await fetch(new URL('%2e%2e/Cargo.toml', url))).status, 404);
});

test('the page reports the adapter and a passing kernel self-check', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(
    () => ['pass', 'fail', 'error', 'no-webgpu'].includes(document.body.dataset.status),
    null,
    { timeout: 120_000 },
  );
  const status = await page.evaluate(() => document.body.dataset.status);
  const text = await page.evaluate(() => document.body.innerText);
  mkdirSync(new URL('../../target/', import.meta.url), { recursive: true });
  await page.screenshot({ path: new URL('../../target/demo.png', import.meta.url).pathname, fullPage: true });
  assert.equal(status, 'pass', `page status ${status}:\n${text}\n${errors.join('\n')}`);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.match(text, /backend\s+webgpu/);
  assert.match(text, /All \d+ cases passed/);
  const rows = await page.locator('#checks tbody tr').count();
  assert.ok(rows >= 20, `only ${rows} self-check rows`);
  assert.deepEqual(errors, []);
  await page.close();
});
