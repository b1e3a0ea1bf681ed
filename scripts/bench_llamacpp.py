#!/usr/bin/env python3
"""ttsearch against llama.cpp on the same GGUF file, CPU, same thread count (a benchmark, not a test).

Measures, side by side in one run on this machine:
  1. batch-1 decode tokens/s after a 256-token prompt (128 new tokens, EOS ignored);
  2. the wall time of 16 samples (temperature 0.8, 128 tokens each) from one 256-token prompt:
     ttsearch prefills once and decodes the 16 samples together (`ttsearch generate --n 16`);
     llama.cpp (llama-cpp-python) generates them one after another, reusing the prompt's KV
     cache between samples (its best case for one sequence at a time).
ttsearch runs the file's own blocks with integer products (`--dtype gguf`, the default for
quantized GGUF files) and, for comparison, the file repacked at load into its own q8 or q4
(group-32) formats. Prints a Markdown table for the README.

Usage: python3 scripts/bench_llamacpp.py GGUF [--threads 2] [--ttsearch target/release/ttsearch]
  (needs llama-cpp-python; build ttsearch with `cargo build --release -p ttsearch-cli`)
"""
import argparse
import json
import os
import platform
import subprocess
import time

from llama_cpp import Llama

parser = argparse.ArgumentParser()
parser.add_argument("gguf")
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--ttsearch", default="target/release/ttsearch")
parser.add_argument("--prompt-len", type=int, default=256)
parser.add_argument("--gen", type=int, default=128)
parser.add_argument("--samples", type=int, default=16)
args = parser.parse_args()

llm = Llama(model_path=args.gguf, n_ctx=args.prompt_len + args.gen + 8, n_threads=args.threads,
            n_threads_batch=args.threads, n_batch=512, verbose=False)
vocab = llm.n_vocab()
prompt = [(i * 7919 + 13) % vocab for i in range(args.prompt_len)]
prompt[0] = llm.token_bos()


def llama_generate(temp, seed):
    """Generates args.gen tokens after the prompt (EOS ignored); returns seconds for the decode."""
    llm.set_seed(seed)
    n = 0
    start = time.perf_counter()
    for _ in llm.generate(prompt, temp=temp, top_p=1.0, top_k=0, reset=True):
        n += 1
        if n == args.gen:
            break
    return time.perf_counter() - start


# 1. batch-1 decode: prefill timed separately, then the decode steps.
llm.reset()
t = time.perf_counter()
llm.eval(prompt[:-1])
llama_prefill = time.perf_counter() - t
decode_s = llama_generate(0.0, 1)  # the prefix is cached: this is the last prompt token + decode
llama_decode_tps = args.gen / decode_s
# 2. 16 samples one after another, prompt KV reused.
llm.reset()
t = time.perf_counter()
for s in range(args.samples):
    llama_generate(0.8, s)
llama_samples_s = time.perf_counter() - t


def ttsearch(*extra):
    cmd = [args.ttsearch, *extra]
    env = dict(os.environ)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out), time.perf_counter() - start


rows = []
ids = ",".join(map(str, prompt))
labels = {"gguf": "file's own blocks, int8 products", "q8": "q8, repacked from the file",
          "q4": "q4, repacked from the file"}
for dtype in ("gguf", "q8", "q4"):
    b1, _ = ttsearch("generate", "--model", args.gguf, "--dtype", dtype, "--prompt-tokens", ids, "--n", "1",
                     "--temperature", "0", "--max-tokens", str(args.gen), "--ignore-eos", "--json")
    many, wall = ttsearch("generate", "--model", args.gguf, "--dtype", dtype, "--prompt-tokens", ids, "--n",
                          str(args.samples), "--temperature", "0.8", "--max-tokens", str(args.gen), "--ignore-eos",
                          "--json")
    rows.append((f"ttsearch CPU ({labels[dtype]})", args.gen / b1["decode_seconds"],
                 b1["prefill_seconds"], many["prefill_seconds"] + many["decode_seconds"], wall))
rows.append(("llama.cpp CPU (file's own quants)", llama_decode_tps, llama_prefill, llama_samples_s, None))

machine = f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} threads"
print(f"Model: {os.path.basename(args.gguf)}; machine: {machine}; prompt {args.prompt_len} tokens, "
      f"{args.gen} new tokens per sample\n")
print(f"| engine | batch-1 decode tok/s | prompt prefill s (tok/s) | {args.samples} samples: wall s |")
print("| --- | --- | --- | --- |")
for name, tps, prefill, samples, wall in rows:
    extra = f" ({wall:.1f} with loading)" if wall else ""
    rate = args.prompt_len / prefill
    print(f"| {name} | {tps:.1f} | {prefill:.2f} ({rate:.0f}) | {samples:.1f}{extra} |")
