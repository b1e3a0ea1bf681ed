#!/usr/bin/env bash
# Fuzzes the parsers with cargo fuzz (libFuzzer): GGUF, safetensors, config.json and the grader.
# Corpora start from the test fixtures. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Not part of scripts/test.sh (it runs for as long as it is told); findings land in
# crate/core/fuzz/artifacts/. cargo fuzz needs nightly flags: RUSTC_BOOTSTRAP lets the stable
# toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gguf safetensors config_json grade)
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz
corpus=crate/core/fuzz/corpus
mkdir -p "$corpus"/{gguf,safetensors,config_json,grade}
cp -n tests/fixtures/gguf/types.gguf "$corpus/gguf/"
for m in tests/fixtures/models/*/; do
  cp -n "$m"config.json "$corpus/config_json/$(basename "$m").json"
  for f in "$m"*.safetensors; do cp -n "$f" "$corpus/safetensors/$(basename "$m")-$(basename "$f")"; done
done
cp -n tests/fixtures/configs/*.json "$corpus/config_json/"
python3 -c "
import json
for i, l in enumerate(open('tests/fixtures/grade/cases.jsonl')):
    c = json.loads(l)
    open(f'$corpus/grade/case{i}', 'w').write(c['pred'] + c['gold'])
"
cd crate/core
for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -max_len=65536 2>&1 | tail -n 4
done
