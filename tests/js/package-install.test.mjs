// The package as a user installs it: `npm pack` of pkg/, installed into a fresh project; it
// imports and solves in Node, and bundled with esbuild (the .wasm and the worker copied beside
// the bundle, as esbuild leaves `new URL(..., import.meta.url)` to the page) it solves in
// Chromium. `npm publish --dry-run` is clean.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';
import { startHub, root } from './support/hub.mjs';
import { cliSolve } from './support/cli.mjs';

let work;
let project;
let hub;

const PROBLEM = 'What is $1+1$?';
const PARAMS = { strategy: 'dvts', n: 4, beamWidth: 2, numIterations: 3, maxTokens: 12, seed: 7 };

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'ttsearch-pack-'));
  execFileSync('npm', ['pack', join(root, 'pkg'), '--pack-destination', work, '--silent'], { cwd: work });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made no tarball');
  project = join(work, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', join(work, tarball)], { cwd: project });
  hub = await startHub();
});

after(() => {
  hub?.close();
  rmSync(work, { recursive: true, force: true });
});

function sameCompletions(got, want) {
  assert.deepEqual(got.completions.map((c) => c.text), want.completions.map((c) => c.text));
  got.completions.forEach((c, i) => c.stepScores.forEach((s, j) => assert.ok(Math.abs(s - want.completions[i].scores[j]) < 1e-4)));
}

test('npm publish --dry-run is clean and ships what the package needs', () => {
  const run = spawnSync('npm', ['publish', '--dry-run', '--json', join(root, 'pkg')], { cwd: work, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  // Clean: no warning but the one a machine without an npm login always gets.
  const warnings = run.stderr.split('\n').filter((l) => /warn/i.test(l) && !/requires you to be logged in/.test(l));
  assert.deepEqual(warnings, []);
  const out = run.stdout;
  const parsed = JSON.parse(out.slice(out.indexOf('{')));
  // npm 10 reports the package at the top level, npm 11 under its name.
  const report = parsed.files ? parsed : parsed.ttsearch;
  const files = report.files.map((f) => f.path);
  for (const f of ['index.js', 'index.d.ts', 'core.js', 'worker.js', 'sources.js', 'fetch.js', 'node.js', 'errors.js', 'README.md', 'wasm/ttsearch_wasm_bg.wasm', 'wasm/ttsearch_wasm.js']) {
    assert.ok(files.includes(f), `${f} is not in the package: ${files}`);
  }
  assert.ok(!files.some((f) => f.includes('test')), `test files in the package: ${files}`);
});

test('installed, it imports and solves in Node like the CLI', () => {
  const script = `
    import { loadModel, createSolver } from 'ttsearch';
    const policy = await loadModel(${JSON.stringify(join(root, 'tests/fixtures/prms/policy-tiny'))}, { dtype: 'f32', kvBlocks: 256 });
    const prm = await loadModel(${JSON.stringify(join(root, 'tests/fixtures/prms/skywork-tiny'))}, { dtype: 'f32', kvBlocks: 256 });
    const solver = await createSolver({ policy, prm });
    console.log(JSON.stringify(await solver.solve(${JSON.stringify(PROBLEM)}, ${JSON.stringify(PARAMS)})));
  `;
  writeFileSync(join(project, 'solve.mjs'), script);
  const out = JSON.parse(execFileSync('node', ['solve.mjs'], { cwd: project, encoding: 'utf8' }));
  sameCompletions(out, cliSolve({ policy: 'tests/fixtures/prms/policy-tiny', prm: 'tests/fixtures/prms/skywork-tiny', problem: PROBLEM, params: PARAMS }));
});

test('bundled with esbuild, it solves in Chromium', async () => {
  const dist = join(project, 'dist');
  writeFileSync(
    join(project, 'app.js'),
    `import { loadModel, createSolver } from 'ttsearch';
     window.solve = async (hubUrl, problem, params) => {
       const opts = { hubUrl, dtype: 'f32', kvBlocks: 256 };
       const policy = await loadModel('ttsearch-test/policy-tiny', opts);
       const prm = await loadModel('ttsearch-test/skywork-tiny', opts);
       const solver = await createSolver({ policy, prm });
       return solver.solve(problem, params);
     };`,
  );
  const esbuild = join(root, 'scripts/node_modules/.bin/esbuild');
  execFileSync(esbuild, ['app.js', 'node_modules/ttsearch/worker.js', '--bundle', '--format=esm', '--entry-names=[name]', `--outdir=${dist}`, '--log-level=error'], { cwd: project });
  cpSync(join(project, 'node_modules/ttsearch/wasm'), join(dist, 'wasm'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="app.js"></script>');
  const site = await startServer({ port: 0, mounts: [['/app/', dist]] });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}app/index.html`);
    await page.waitForFunction(() => typeof window.solve === 'function');
    const out = await page.evaluate(({ hubUrl, problem, params }) => window.solve(hubUrl, problem, params), { hubUrl: hub.url, problem: PROBLEM, params: PARAMS });
    sameCompletions(out, cliSolve({ policy: 'tests/fixtures/prms/policy-tiny', prm: 'tests/fixtures/prms/skywork-tiny', problem: PROBLEM, params: PARAMS }));
  } finally {
    await browser.close();
    site.server.close();
  }
});
