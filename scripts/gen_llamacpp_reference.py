#!/usr/bin/env python3
"""Writes tests/fixtures/gemma3-270m/llamacpp.json: llama.cpp's logits (PyPI llama-cpp-python,
CPU) on the Gemma 3 270M Q4_K_M GGUF for the prompts of reference.json (same token ids).

llama.cpp quantizes activations to 8 bits inside its quantized matrix products, so it sits
about 0.2 logits (up to ~1.2) from exact arithmetic and is only a top-1 reference where its
own top-1/top-2 gap is clear. For every position it records the top-20 logits, the logits of
reference.json's probe ids, and the top-1/top-2 gap.

Usage: python3 scripts/gen_llamacpp_reference.py GGUF_PATH   (needs llama-cpp-python, numpy)
"""
import json
import os
import sys

import numpy as np
from llama_cpp import Llama

here = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "gemma3-270m")
reference = json.load(open(os.path.join(here, "reference.json")))
llm = Llama(model_path=sys.argv[1], n_ctx=256, logits_all=True, n_threads=2, verbose=False)
probes = reference["probe_ids"]
out = {"engine": "llama.cpp via llama-cpp-python", "prompts": []}
for prompt in reference["prompts"]:
    tokens = prompt["tokens"]
    llm.reset()
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
    positions = []
    for row in scores:
        top = np.argsort(-row)[:20]
        positions.append({"top_ids": top.tolist(), "top_logits": row[top].tolist(),
                          "probe_logits": row[probes].tolist(), "top2_gap": float(row[top[0]] - row[top[1]])})
    out["prompts"].append({"text": prompt["text"], "tokens": tokens, "positions": positions})
    print(repr(prompt["text"]), "gaps:", [round(p["top2_gap"], 3) for p in positions])
with open(os.path.join(here, "llamacpp.json"), "w") as f:
    json.dump(out, f)
