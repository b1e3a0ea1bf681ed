#!/usr/bin/env bash
# Benchmark of the grader: 10,000 (solution text, gold) pairs through `ttsearch grade --input`.
# The pairs cycle through the hand-checked cases and the MATH-500 gold answers, each wrapped in a
# short solution text so that extraction runs too. Prints pairs per second and ms per thousand.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build -q --release -p ttsearch-cli
pairs=$(mktemp)
python3 - "$pairs" <<'PY'
import json, sys, itertools
cases = [json.loads(l) for l in open("tests/fixtures/grade/cases.jsonl")]
golds = [json.loads(l)["answer"] for l in open("tests/fixtures/grade/math500_answers.jsonl")]
rows = [(c["pred"], c["gold"]) for c in cases] + [(g, g) for g in golds]
with open(sys.argv[1], "w") as f:
    for i, (pred, gold) in zip(range(10_000), itertools.cycle(rows)):
        text = f"## Step 1: work\n\nSo we get {i}.\n\nTherefore, the final answer is: $\\boxed{{{pred}}}$. I hope it is correct."
        f.write(json.dumps({"pred": text, "gold": gold}) + "\n")
PY
start=$(date +%s.%N)
target/release/ttsearch grade --input "$pairs" > /dev/null
end=$(date +%s.%N)
rm -f "$pairs"
python3 -c "s = $end - $start; print(f'grade: 10000 pairs in {s:.3f} s: {10000 / s:,.0f} pairs/s, {s * 100:.1f} ms per thousand')"
