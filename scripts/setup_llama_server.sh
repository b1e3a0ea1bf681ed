#!/usr/bin/env bash
# llama.cpp's OpenAI-compatible server as llama-cpp-python ships it (PyPI
# `llama-cpp-python[server]`, built from source once, about 6 minutes on 2 cores) in
# target/llama-server-venv, for the remote-server tests. Idempotent: prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/llama-server-venv
version=0.3.36
if "$venv/bin/python" -c "import llama_cpp, llama_cpp.server, sys; sys.exit(llama_cpp.__version__ != '$version')" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
echo "setup_llama_server: building llama-cpp-python $version (once)" >&2
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --progress-bar off "llama-cpp-python[server]==$version" >&2
echo "$venv/bin/python"
