#!/usr/bin/env python3
"""Writes tests/fixtures/configs/*.json: config.json files as HF transformers saves them.

`<arch>-tf5.json` are saved by transformers 5 (`save_pretrained` of a tiny model: "rope_parameters",
"dtype"); `<arch>-expected.json` lists the values ttsearch must read from them. Released checkpoints
use the older schema ("rope_theta", "rope_scaling", "torch_dtype"); those fixtures (`*-released.json`)
hold the published configs' fields as released and are written by hand, not by this script.

Usage: python3 scripts/gen_config_fixtures.py   (needs torch and transformers)
"""
import json
import os
import tempfile

from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "configs")
small = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=512)
models = {
    "qwen2": (Qwen2ForCausalLM, Qwen2Config(**small, tie_word_embeddings=True, rope_theta=1000000.0,
                                             rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2)),
    "llama": (LlamaForCausalLM, LlamaConfig(**small, head_dim=16, tie_word_embeddings=True, rms_norm_eps=1e-5,
                                             bos_token_id=1, eos_token_id=[2, 3],
                                             rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0,
                                                              "factor": 32.0, "low_freq_factor": 1.0,
                                                              "high_freq_factor": 4.0,
                                                              "original_max_position_embeddings": 8192})),
    "gemma3": (Gemma3ForCausalLM, Gemma3TextConfig(**small, head_dim=16, sliding_window=8, rms_norm_eps=1e-6,
                                                   query_pre_attn_scalar=16, bos_token_id=2, eos_token_id=1,
                                                   layer_types=["sliding_attention", "full_attention"])),
}
for name, (cls, config) in models.items():
    with tempfile.TemporaryDirectory() as tmp:
        cls(config).save_pretrained(tmp)
        with open(os.path.join(tmp, "config.json")) as f:
            saved = json.load(f)
    with open(os.path.join(out, f"{name}-tf5.json"), "w") as f:
        json.dump(saved, f, indent=2, sort_keys=True)
    print(name, sorted(saved.get("rope_parameters", {}).items()) if "rope_parameters" in saved else "")
