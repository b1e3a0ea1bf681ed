#!/usr/bin/env python3
"""Writes tests/fixtures/models/<name>/: tiny random models saved by HF transformers, with golden
outputs computed by transformers in float32.

- qwen2-tiny:  Qwen2ForCausalLM, float16 single model.safetensors, tied embeddings, q/k/v biases.
- llama-tiny:  LlamaForCausalLM, float32 sharded (model.safetensors.index.json), llama3 rope
               scaling with a 16-token original context so the scaling changes short sequences,
               separate lm_head.
- gemma3-tiny: Gemma3ForCausalLM, bfloat16, sliding window 4 on layer 0, global layer 1.

Weights are drawn with std 0.15 (transformers' 0.02 would make every logit nearly zero; norm
weights around 1), rounded to the stored dtype in place, and the golden outputs come from the
rounded weights in float32 with the rotary frequencies left in float32:
golden.json = {"sequences": [{"tokens": [...], "logits": [[vocab] per position],
"hidden": [[hidden] per position]}]}, hidden being the final-norm output (last_hidden_state).

Usage: python3 scripts/gen_tiny_models.py   (needs torch, transformers, safetensors)
"""
import copy
import json
import os
import shutil

import torch
from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

root = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "models")
torch.manual_seed(20261123)
small = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2)
models = {
    "qwen2-tiny": (Qwen2ForCausalLM, Qwen2Config(**small, max_position_embeddings=512, tie_word_embeddings=True,
                                                 rope_theta=1000000.0, rms_norm_eps=1e-6, bos_token_id=1,
                                                 eos_token_id=2), torch.float16, None),
    "llama-tiny": (LlamaForCausalLM, LlamaConfig(**small, head_dim=16, max_position_embeddings=512,
                                                 tie_word_embeddings=False, rms_norm_eps=1e-5, bos_token_id=1,
                                                 eos_token_id=[2, 3],
                                                 rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0,
                                                                  "factor": 8.0, "low_freq_factor": 1.0,
                                                                  "high_freq_factor": 4.0,
                                                                  "original_max_position_embeddings": 16}),
                   torch.float32, "100KB"),
    "gemma3-tiny": (Gemma3ForCausalLM, Gemma3TextConfig(**small, head_dim=16, max_position_embeddings=512,
                                                        sliding_window=4, rms_norm_eps=1e-6, query_pre_attn_scalar=16,
                                                        bos_token_id=2, eos_token_id=1,
                                                        layer_types=["sliding_attention", "full_attention"]),
                    torch.bfloat16, None),
}
sequences = [[5, 17, 200, 3, 99, 42, 7, 250, 128, 64, 1], [9, 8, 7, 6, 5]]

for name, (cls, config, dtype, shard) in models.items():
    model = cls(config).eval()
    gemma = name.startswith("gemma")
    with torch.no_grad():
        for pname, p in model.named_parameters():
            p.normal_(0.0, 0.15)
            # Llama/Qwen norms multiply by w, Gemma's by (1 + w): keep both near 1.
            if pname.endswith("norm.weight") and not gemma:
                p.add_(1.0)
            # Round to the stored dtype in place. Casting the whole model instead would also round
            # the rotary inv_freq buffers, and the golden outputs would carry that error.
            p.copy_(p.to(dtype).to(torch.float32))
        out = os.path.join(root, name)
        shutil.rmtree(out, ignore_errors=True)
        kwargs = {"max_shard_size": shard} if shard else {}
        copy.deepcopy(model).to(dtype).save_pretrained(out, **kwargs)
        golden = []
        for tokens in sequences:
            ids = torch.tensor([tokens])
            result = model(ids, output_hidden_states=True)
            golden.append({
                "tokens": tokens,
                "logits": result.logits[0].tolist(),
                "hidden": result.hidden_states[-1][0].tolist(),
            })
    for junk in ("generation_config.json",):
        path = os.path.join(out, junk)
        if os.path.exists(path):
            os.remove(path)
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump({"sequences": golden}, f)
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{name}: {sorted(os.listdir(out))}, {size / 1e6:.2f} MB")
