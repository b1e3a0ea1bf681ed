// The native CLI as the reference the JS API is compared with (built by the native tests; built
// here when missing).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './hub.mjs';

const binary = join(root, 'target/debug/ttsearch');

/** Runs `ttsearch args...` and parses its JSON output. */
export function cli(args) {
  if (!existsSync(binary)) {
    execFileSync('cargo', ['build', '-q', '-p', 'ttsearch-cli'], { cwd: root, stdio: 'inherit' });
  }
  const out = execFileSync(binary, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out);
}

/** `ttsearch solve` with a policy and a PRM folder of the fixtures, CPU, f32. */
export function cliSolve({ policy, prm, problem, params }) {
  const args = ['solve', '--policy', join(root, policy), '--prm', join(root, prm), '--problem', problem, '--dtype', 'f32', '--json'];
  for (const [key, flag] of [
    ['strategy', '--strategy'], ['n', '--n'], ['beamWidth', '--beam-width'], ['numIterations', '--num-iterations'],
    ['maxTokens', '--max-tokens'], ['seed', '--seed'], ['temperature', '--temperature'],
  ]) {
    if (params[key] !== undefined) args.push(flag, String(params[key]));
  }
  return cli(args).outcome;
}

/** Asserts two lists of numbers have one length and agree within `tolerance` (NaN never does). */
export function assertClose(got, want, tolerance, what) {
  assert.equal(got.length, want.length, `${what}: lengths differ`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < tolerance, `${what}: item ${i}: ${g} vs ${want[i]}`));
}

/** Asserts a JS solve's completions equal the CLI's: texts equal, scores within 1e-4, the answer equal. */
export function assertSameCompletions(got, want, what) {
  assert.equal(got.completions.length, want.completions.length, `${what}: completions`);
  got.completions.forEach((c, i) => {
    const w = want.completions[i];
    assert.equal(c.text, w.text, `${what}: completion ${i} text`);
    assertClose(c.stepScores, w.scores, 1e-4, `${what}: completion ${i} scores`);
  });
  assert.equal(got.answer ?? null, want.answer ?? null, `${what}: answer`);
}
