// The native CLI as the reference the JS API is compared with (built by the native tests; built
// here when missing).
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
