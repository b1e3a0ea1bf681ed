#!/usr/bin/env python3
"""Writes tests/fixtures/prms/: tiny random process reward models with a small trained tokenizer,
and the step scores the reference formatting gives them (transformers, float32).

- tokenizer: byte-level BPE trained with PyPI `tokenizers` on the MATH-500 problems
  (../shared/data), 512 entries plus the special tokens the PRM formats need: <|endoftext|>
  (BOS of Skywork's format), <|im_start|>, <|im_end|>, <extra_0> (Qwen2.5-Math-PRM's step marker).
- skywork-tiny: Qwen2 backbone + value head (v_head.summary.weight/bias, as Skywork-o1-Open-PRM
  names it), architectures ["Qwen2ForPrmModel"]. Reference: Skywork's prepare_input (BOS text +
  question + "\n", then each step's tokens and the "\n" token, newlines inside a step replaced by
  spaces), sigmoid(v_head(last hidden state)) at every "\n" marker.

golden.json = {"cases": [{"question", "steps": [...], "scores": {"skywork-tiny": [...]}}]}

Usage: python3 scripts/gen_tiny_prms.py   (needs torch, transformers, tokenizers, safetensors)
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "tests", "fixtures", "prms")
data = os.path.join(here, "..", "..", "shared", "data")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<extra_0>"]
QWEN_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

CASES = [
    {"question": "What is $3 \\cdot 4 + 5$?",
     "steps": ["First, $3 \\cdot 4 = 12$.", "Then $12 + 5 = 17$.\nSo the sum is 17.",
               "The answer is $\\boxed{17}$."]},
    {"question": "Solve $2x = 10$ for $x$.",
     "steps": ["Divide both sides by 2.", "We get $x = 5$, so the answer is $\\boxed{5}$."]},
]


def problems():
    texts = []
    for name in sorted(os.listdir(data)):
        if name.endswith(".jsonl"):
            with open(os.path.join(data, name)) as f:
                for line in f:
                    row = json.loads(line)
                    texts.append(row.get("problem") or row.get("question") or "")
    return texts


def train_tokenizer(out):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512 + len(SPECIALS), special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(problems(), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>")
    fast.chat_template = QWEN_TEMPLATE
    fast.save_pretrained(out)
    return fast


def skywork_inputs(tok, question, steps):
    """Skywork's prepare_input on steps joined by "\\n" (newlines inside a step become spaces)."""
    ids = tok.encode(tok.bos_token + question + "\n", add_special_tokens=False)
    newline = tok.encode("\n", add_special_tokens=False)[-1]
    markers = []
    for step in steps:
        ids += tok.encode(step.replace("\n", " "), add_special_tokens=False) + [newline]
        markers.append(len(ids) - 1)
    return ids, markers


def main():
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    torch.manual_seed(20261123)
    tok_dir = os.path.join(root, "skywork-tiny")
    tok = train_tokenizer(tok_dir)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, rope_theta=1000000.0, rms_norm_eps=1e-6)
    model = Qwen2ForCausalLM(config).eval()
    head = torch.nn.Linear(64, 1)
    with torch.no_grad():
        for name, p in list(model.named_parameters()) + [("v_head.summary.weight", head.weight),
                                                          ("v_head.summary.bias", head.bias)]:
            p.normal_(0.0, 0.15)
            if name.endswith("norm.weight"):
                p.add_(1.0)
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()
               if k != "lm_head.weight"}
    tensors["v_head.summary.weight"] = head.weight.detach().clone()
    tensors["v_head.summary.bias"] = head.bias.detach().clone()
    save_file(tensors, os.path.join(tok_dir, "model.safetensors"), metadata={"format": "pt"})
    cfg = config.to_dict()
    cfg["architectures"] = ["Qwen2ForPrmModel"]
    with open(os.path.join(tok_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    golden = []
    with torch.no_grad():
        for case in CASES:
            ids, markers = skywork_inputs(tok, case["question"], case["steps"])
            hidden = model.model(torch.tensor([ids])).last_hidden_state[0]
            scores = torch.sigmoid(head(hidden[markers]))[:, 0].tolist()
            golden.append({**case, "scores": {"skywork-tiny": scores}, "ids": {"skywork-tiny": ids}})
    with open(os.path.join(root, "golden.json"), "w") as f:
        json.dump({"cases": golden}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(tok_dir, f)) for f in os.listdir(tok_dir))
    print("skywork-tiny", sorted(os.listdir(tok_dir)), f"{size / 1e6:.2f} MB", golden[0]["scores"])


main()
