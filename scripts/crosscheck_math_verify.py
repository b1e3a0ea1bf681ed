#!/usr/bin/env python3
"""Cross-checks the grader's case table against Hugging Face's math-verify.

Usage: python3 scripts/crosscheck_math_verify.py [--json OUT]   (needs `pip install math-verify`)

For every case of tests/fixtures/grade/cases.jsonl (answer pairs; the whole-text cases, kinds
solution_text and bare_answer, are skipped) it asks math-verify whether pred matches gold, and prints the cases where math-verify's
verdict differs from the table's (which ttsearch's grader reproduces: see grade_cases.rs).
"""
import json
import sys

from math_verify import parse, verify

cases = [json.loads(l) for l in open("tests/fixtures/grade/cases.jsonl")]
disagreements = []
checked = 0
for case in cases:
    if case["kind"] in ("solution_text", "bare_answer"):
        continue
    checked += 1
    try:
        gold = parse(f"${case['gold']}$")
        pred = parse(f"${case['pred']}$")
        verdict = bool(verify(gold, pred))
    except Exception as error:  # math-verify raising is a verdict of "not equal"
        verdict = False
        case["error"] = str(error)
    if verdict != case["equivalent"]:
        disagreements.append({**case, "math_verify": verdict})

for d in disagreements:
    print(f"[{d['kind']}] pred={d['pred']!r} gold={d['gold']!r} table={d['equivalent']} math-verify={d['math_verify']}")
print(f"{checked} cases checked, {len(disagreements)} disagreements")
if "--json" in sys.argv:
    with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
        json.dump(disagreements, f, indent=1, ensure_ascii=False)
