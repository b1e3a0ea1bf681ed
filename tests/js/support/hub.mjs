// The test hub: tests/fixtures served in the Hugging Face hub's layout by scripts/hub.mjs, with
// the repos the tests need (tiny models, one in PyTorch shards, a gated repo, a truncated file, a slow file, an
// unsupported architecture, and the Gemma 3 270M GGUF when it has been fetched).
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hubHandler } from '../../../scripts/hub.mjs';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
export const fixtures = join(root, 'tests/fixtures');
export const gemmaPath = join(root, 'target/models/gemma-3-270m-q4_k_m.gguf');

/**
 * The test repos ({ 'org/name': { dir, ... } } as scripts/hub.mjs takes them) and a `close()`
 * that removes their scratch folder.
 */
export function testRepos() {
  const scratch = mkdtempSync(join(tmpdir(), 'ttsearch-hub-'));
  const unsupported = join(scratch, 'config.json');
  writeFileSync(unsupported, JSON.stringify({ architectures: ['MistralForCausalLM'], hidden_size: 64 }));
  const prms = join(fixtures, 'prms');
  const repos = {
    'ttsearch-test/policy-tiny': { dir: join(prms, 'policy-tiny') },
    'ttsearch-test/skywork-tiny': { dir: join(prms, 'skywork-tiny') },
    'ttsearch-test/skywork-tiny-bin': { dir: join(prms, 'skywork-tiny-bin') },
    'ttsearch-test/qwen-prm-tiny': { dir: join(prms, 'qwen-prm-tiny') },
    'ttsearch-test/lm-prm-tiny': { dir: join(prms, 'lm-prm-tiny') },
    'ttsearch-test/trl-tiny': { dir: join(prms, 'trl-tiny') },
    'ttsearch-test/gated': { dir: join(prms, 'policy-tiny'), token: 'hf_test_token' },
    'ttsearch-test/truncated': { dir: join(prms, 'policy-tiny'), truncate: ['model.safetensors'] },
    'ttsearch-test/slow': { dir: join(prms, 'policy-tiny'), delayMs: 250 },
    'ttsearch-test/unsupported': { dir: scratch, files: { 'config.json': unsupported } },
    'ttsearch-test/gguf-tiny': { dir: join(fixtures, 'models/gguf') },
  };
  if (existsSync(gemmaPath)) {
    repos['ttsearch-test/gemma-3-270m-GGUF'] = { dir: scratch, files: { 'gemma-3-270m-q4_k_m.gguf': gemmaPath } };
  }
  return { repos, close: () => rmSync(scratch, { recursive: true, force: true }) };
}

/** Starts the hub on 127.0.0.1; resolves to { url, log, close }. */
export async function startHub() {
  const { repos, close } = testRepos();
  const hub = hubHandler(repos);
  const server = createServer((req, res) => {
    hub.handle(req, res).then((done) => {
      if (!done) res.writeHead(404, { 'Access-Control-Allow-Origin': '*' }).end('not found');
    }, () => res.writeHead(500).end());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    log: hub.log,
    repos,
    close() {
      server.closeAllConnections?.();
      server.close();
      close();
    },
  };
}
