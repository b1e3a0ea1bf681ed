// Launches Debian's headless Chromium with WebGPU on and every network-seeking feature off
// (the flags DESIGN.md lists), through playwright-core from scripts/node_modules.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(new URL('../../scripts/package.json', import.meta.url));
const { chromium } = require('playwright-core');

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A persistent context on a fresh profile; `close()` also removes the profile. `webgpu: false`
 * launches a browser without WebGPU (no `navigator.gpu` in pages or workers).
 */
export async function launchChromium({ webgpu = true } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'ttsearch-chromium-'));
  const args = webgpu
    ? CHROMIUM_ARGS
    : [...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'), '--disable-blink-features=WebGPU'];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
