#!/usr/bin/env bash
# Builds the WebAssembly module into pkg/wasm/: release build -> wasm-bindgen --target web ->
# wasm-opt (npm binaryen). Prints the module size, raw and gzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh

start=$(date +%s)
cargo build -q -p ttsearch-wasm --target wasm32-unknown-unknown --profile release-wasm
wasm=target/wasm32-unknown-unknown/release-wasm/ttsearch_wasm.wasm
rm -rf pkg/wasm
wasm-bindgen --target web --out-dir pkg/wasm --out-name ttsearch_wasm "$wasm"
out=pkg/wasm/ttsearch_wasm_bg.wasm
raw_before=$(stat -c %s "$out")
# The features rustc enables by default for wasm32-unknown-unknown; nothing newer.
scripts/node_modules/.bin/wasm-opt -Os --strip-debug \
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  "$out" -o "$out"
raw=$(stat -c %s "$out")
gz=$(gzip -9 -c "$out" | wc -c)
echo "build: pkg/wasm/ttsearch_wasm_bg.wasm ${raw} bytes (${raw_before} before wasm-opt), ${gz} gzipped; $(( $(date +%s) - start ))s"
