#!/usr/bin/env python3
"""Writes tests/fixtures/models/gguf/: GGUF versions of the tiny models made by llama.cpp's own
converter (convert_hf_to_gguf.py) and quantizer (llama_model_quantize), with llama.cpp's logits.

- <name>-f32.gguf, -f16.gguf, -q8_0.gguf, -q5_0.gguf, -q4_0.gguf for qwen2-tiny, llama-tiny and
  gemma3-tiny (tests/fixtures/models/<name>): the converter permutes Llama's Q/K rows and adds 1
  to Gemma's norm weights, so the f32 files check that our loader undoes both exactly.
- llama-wide-q4_k_m.gguf and llama-wide-q6_k.gguf: a one-layer Llama with 256-wide rows (k-quant
  super-blocks are 256 values; the 64-wide tiny models would fall back to Q5_0/Q8_0), with
  transformers' float32 logits of the unquantized weights in llama-wide.json.
- llamacpp.json: for every file, llama.cpp's logits (CPU, llama-cpp-python) on the golden token
  sequences of tests/fixtures/models/<name>/golden.json.

The tiny models have no real tokenizer: the converter's vocabulary step is replaced by a byte-level
GPT-2 vocabulary of 256 tokens (one per byte), which is all llama.cpp needs to load the model;
every tensor goes through the converter unchanged.

Usage: python3 scripts/gen_tiny_gguf.py LLAMA_CPP_DIR
  LLAMA_CPP_DIR is llama.cpp's source tree (vendor/llama.cpp of the llama-cpp-python sdist,
  the same version as the installed llama-cpp-python). Needs torch, transformers, safetensors,
  numpy, llama-cpp-python.
"""
import json
import os
import shutil
import sys
import tempfile

llama_cpp_dir = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.join(llama_cpp_dir, "gguf-py"))
sys.path.insert(0, llama_cpp_dir)

import ctypes  # noqa: E402

import gguf  # noqa: E402
import llama_cpp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

import conversion  # noqa: E402
import convert_hf_to_gguf  # noqa: E402

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "models")
out_dir = os.path.join(root, "gguf")


def byte_vocab(self):
    """A GPT-2 byte-level vocabulary: token i is byte i in GPT-2's byte-to-unicode mapping."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    n_vocab = self.hparams["vocab_size"]
    tokens = [mapping[b] for b in range(n_vocab)]
    self.gguf_writer.add_tokenizer_model("gpt2")
    self.gguf_writer.add_tokenizer_pre("default")
    self.gguf_writer.add_token_list(tokens)
    self.gguf_writer.add_token_types([gguf.TokenType.NORMAL] * n_vocab)
    self.gguf_writer.add_token_merges([f"{mapping[ord('a')]} {mapping[ord('b')]}"])
    self.gguf_writer.add_bos_token_id(self.hparams["bos_token_id"])
    eos = self.hparams["eos_token_id"]
    self.gguf_writer.add_eos_token_id(eos[0] if isinstance(eos, list) else eos)


original_get_model_class = conversion.get_model_class


def get_model_class(*args, **kwargs):
    cls = original_get_model_class(*args, **kwargs)
    cls.set_vocab = byte_vocab
    return cls


convert_hf_to_gguf.get_model_class = get_model_class


def convert(model_dir, path, outtype):
    sys.argv = ["convert_hf_to_gguf.py", model_dir, "--outfile", path, "--outtype", outtype]
    convert_hf_to_gguf.main()


def quantize(src, dst, ftype):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = 2
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize {dst} failed: {rc}")


def tensor_types(path):
    reader = gguf.GGUFReader(path)
    return sorted({t.tensor_type.name for t in reader.tensors})


def llamacpp_logits(path, sequences):
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, logits_all=True, n_threads=2, verbose=False)
    result = []
    for tokens in sequences:
        llm.reset()
        llm.eval(tokens)
        result.append(np.array(llm.scores[: len(tokens)], dtype=np.float32).tolist())
    del llm
    return result


def wide_model(tmp):
    """One-layer Llama with 256-wide rows, saved in float32, and its float32 golden logits."""
    torch.manual_seed(20261124)
    config = LlamaConfig(vocab_size=256, hidden_size=256, intermediate_size=512, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=64, max_position_embeddings=512,
                         tie_word_embeddings=False, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.normal_(0.0, 0.08)
            if name.endswith("norm.weight"):
                p.add_(1.0)
    path = os.path.join(tmp, "llama-wide")
    model.save_pretrained(path)
    sequences = json.load(open(os.path.join(root, "llama-tiny", "golden.json")))["sequences"]
    golden = []
    with torch.no_grad():
        for seq in sequences:
            logits = model(torch.tensor([seq["tokens"]])).logits[0]
            golden.append({"tokens": seq["tokens"], "logits": logits.tolist()})
    return path, golden


def main():
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    ftypes = {"q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "q5_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_0,
              "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0}
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("qwen2-tiny", "llama-tiny", "gemma3-tiny"):
            sequences = [s["tokens"] for s in json.load(open(os.path.join(root, name, "golden.json")))["sequences"]]
            model_dir = os.path.join(tmp, name)
            shutil.copytree(os.path.join(root, name), model_dir)
            # The Gemma converter trims token_embd to the tokenizer's vocabulary size.
            with open(os.path.join(model_dir, "tokenizer.json"), "w") as f:
                json.dump({"model": {"vocab": {f"<{i}>": i for i in range(256)}}, "added_tokens": []}, f)
            f32 = os.path.join(out_dir, f"{name}-f32.gguf")
            convert(model_dir, f32, "f32")
            convert(model_dir, os.path.join(out_dir, f"{name}-f16.gguf"), "f16")
            for suffix, ftype in ftypes.items():
                quantize(f32, os.path.join(out_dir, f"{name}-{suffix}.gguf"), ftype)
            for suffix in ("f32", "f16", *ftypes):
                fname = f"{name}-{suffix}.gguf"
                files[fname] = {"model": name, "sequences": sequences}
        wide_dir, wide_golden = wide_model(tmp)
        wide_f32 = os.path.join(tmp, "llama-wide-f32.gguf")
        convert(wide_dir, wide_f32, "f32")
        for suffix, ftype in {"q4_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
                              "q6_k": llama_cpp.LLAMA_FTYPE_MOSTLY_Q6_K}.items():
            fname = f"llama-wide-{suffix}.gguf"
            quantize(wide_f32, os.path.join(out_dir, fname), ftype)
            files[fname] = {"model": "llama-wide", "sequences": [g["tokens"] for g in wide_golden]}
        with open(os.path.join(out_dir, "llama-wide.json"), "w") as f:
            json.dump({"sequences": wide_golden}, f)
    reference = {"engine": f"llama.cpp via llama-cpp-python {llama_cpp.__version__}", "files": {}}
    for fname, entry in sorted(files.items()):
        path = os.path.join(out_dir, fname)
        reference["files"][fname] = {
            "model": entry["model"],
            "tensor_types": tensor_types(path),
            "sequences": [{"tokens": t, "logits": l}
                          for t, l in zip(entry["sequences"], llamacpp_logits(path, entry["sequences"]))],
        }
        print(fname, os.path.getsize(path), reference["files"][fname]["tensor_types"])
    with open(os.path.join(out_dir, "llamacpp.json"), "w") as f:
        json.dump(reference, f)


main()
