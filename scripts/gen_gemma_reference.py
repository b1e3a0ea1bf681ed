#!/usr/bin/env python3
"""Writes tests/fixtures/gemma3-270m/reference.json: the exact-arithmetic reference for the real
Gemma 3 270M Q4_K_M GGUF (scripts/fetch_gemma.sh): HF transformers in float32 on the GGUF's
weights dequantized by PyPI gguf (transformers' GGUF loader, which also undoes llama.cpp's +1 on
Gemma norm weights).

For each prompt (tokenized by the GGUF's own tokenizer, BOS included) it records, at every
position, the top 20 logits and the logits of 200 fixed probe ids; and a greedy continuation of
32 tokens (plain argmax, no EOS handling) with the gap between the top two logits at each step.

Usage: python3 scripts/gen_gemma_reference.py GGUF_PATH   (needs torch, transformers, gguf, accelerate)
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

path = sys.argv[1]
folder, name = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
vocab = model.config.vocab_size
probes = sorted(set(int(i) for i in torch.randint(0, vocab, (200,), generator=torch.Generator().manual_seed(7))))
prompts = [
    "The capital of France is",
    "Solve for x: 2x + 3 = 11.\n\nStep 1:",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
]
out = {"gguf_sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
       "reference": "transformers float32 on gguf-dequantized weights", "probe_ids": probes, "prompts": []}
with torch.no_grad():
    for text in prompts:
        ids = tokenizer(text, return_tensors="pt").input_ids
        logits = model(ids).logits[0]
        positions = []
        for row in logits:
            top = torch.topk(row, 20)
            positions.append({"top_ids": top.indices.tolist(), "top_logits": top.values.tolist(),
                              "probe_logits": row[probes].tolist()})
        seq = ids[0].tolist()
        greedy, gaps = [], []
        for _ in range(32):
            row = model(torch.tensor([seq])).logits[0, -1]
            top2 = torch.topk(row, 2)
            greedy.append(int(top2.indices[0]))
            gaps.append(float(top2.values[0] - top2.values[1]))
            seq.append(greedy[-1])
        out["prompts"].append({"text": text, "tokens": ids[0].tolist(), "positions": positions,
                               "greedy": greedy, "greedy_top2_gaps": gaps,
                               "greedy_text": tokenizer.decode(greedy)})
        print(repr(text), "->", repr(out["prompts"][-1]["greedy_text"]), "min gap", round(min(gaps), 4))
dest = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "gemma3-270m", "reference.json")
with open(dest, "w") as f:
    json.dump(out, f)
print(dest, os.path.getsize(dest), "bytes")
